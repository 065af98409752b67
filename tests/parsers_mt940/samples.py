"""Small MT940/MT942 texts written for these tests, in the dialects the parser meets."""

from __future__ import annotations

# A Sparkasse-style export: two pages of one day (:62M: / :60M:), CRLF line ends,
# German ?NN details, one reversal, one entry without :86:.
GERMAN_TWO_PAGES = (
    ":20:STARTUMSE\r\n"
    ":25:10020030/1234567\r\n"
    ":28C:00042/001\r\n"
    ":60F:C240102EUR1000,00\r\n"
    ":61:2401020102CR250,00NTRFKREF+//240102A1\r\n"
    ":86:166?00SEPA-GUTSCHRIFT?100599?20EREF+INV-4711?21KREF+K-1?22SVWZ+Rechnung INV-4711 \r\n"
    "vom 1.1.?30COBADEFFXXX?31DE89370400440532013000?32Kunde AG\r\n"
    ":61:2401020102DR40,10NDDTNONREF//240102A2\r\n"
    ":86:105?00SEPA-LASTSCHRIFT?20EREF+E-2?21MREF+M-9?22CRED+DE98ZZZ09999999999?23SVWZ+Strom\r\n"
    "?32Stadtwerke\r\n"
    ":62M:C240102EUR1209,90\r\n"
    "-\r\n"
    ":20:STARTUMSE\r\n"
    ":25:10020030/1234567\r\n"
    ":28C:00042/002\r\n"
    ":60M:C240102EUR1209,90\r\n"
    ":61:2401020102RC250,00NTRFNONREF//240102A3\r\n"
    ":86:159?00RUECKBUCHUNG?20SVWZ+Storno INV-4711\r\n"
    ":61:2401020102CR0,10NMSCNONREF\r\n"
    ":62F:C240102EUR960,00\r\n"
    "-\r\n"
)

# ING via SWIFTNet: FIN envelope over several lines, IBAN with the currency glued on.
ING_SWIFT = (
    "{1:F01INGBNL2ABXXX0000000000}\n"
    "{2:I940INGBNL2AXXXN}\n"
    "{4:\n"
    ":20:P240102000000001\n"
    ":25:NL77INGB0574908765EUR\n"
    ":28C:00001\n"
    ":60F:C240101EUR500,00\n"
    ":61:2401020102C120,50NTRFEREF//00000000001005\n"
    "/TRCD/00100/\n"
    ":86:/EREF/E2E-1//CNTP/NL32INGB0000012345/INGBNL2A/J. Janssen/AMSTERDAM//REMI/STRD/CUR/\n"
    "RF18539007547034/\n"
    ":62F:C240102EUR620,50\n"
    ":64:C240102EUR620,50\n"
    "-}\n"
)

# mBank MT942: SOH/ETX wrapper, floor limit, date-time indication, entry totals.
MBANK_MT942 = (
    "\x01\n"
    ":20:ST170119CYC/0001\n"
    ":25:PL29114010810000267002001002\n"
    ":28C:1/1\n"
    ":34F:PLN0\n"
    ":13D:1701191815+0100\n"
    ":61:1701190119CN0,01NTRFNONREF//MB170119012058\n"
    "911-TRANSAKCJA IPH\n"
    ":86:911 TRANSAKCJA COLLECT; TYT.: PRZELEW SRODKOW\n"
    ":61:1701190119DN0,02NTRFNONREF//MB170119012085\n"
    ":86:911 TRANSAKCJA COLLECT\n"
    ":90D:1PLN0,02\n"
    ":90C:1PLN0,01\n"
    "-\x03\n"
)
