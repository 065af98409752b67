"""EBICS 3.0 bank source: BTD downloads (camt.053, camt.054, MT940), receipts after import,
key management (INI, HIA, HPB). See README.md in this folder for what is simplified."""
