"""A local EBICS 3.0 test bank (tests only): a real HTTP server on loopback."""

from tests.ebicsbank.server import EbicsTestBank

__all__ = ["EbicsTestBank"]
