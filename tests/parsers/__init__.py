"""Tests of the bank-file parsers (CAMT, sniffing, checks, JSON, `recon parse`)."""
