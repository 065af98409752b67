"""`recon ebics ini|hia|hpb|letter SOURCE`: the key ceremony, one order at a time.

Order: `ini` and `hia` (send our keys), `letter` (print, sign and send it to the bank), wait
for the bank to activate the subscriber, then `hpb` (fetch and pin the bank's keys after
comparing their hashes with the bank's own letter).
"""

from __future__ import annotations

from connectors.sources.ebics.source import open_backend
from reconciler.settings import SourceSettings


def run_admin_order(name: str, settings: SourceSettings, order: str) -> str:
    backend = open_backend(name, settings)
    actions = {"ini": backend.ini, "hia": backend.hia, "hpb": backend.hpb,
               "letter": backend.letter}
    return actions[order]()
