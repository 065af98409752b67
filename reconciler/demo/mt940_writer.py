"""MT940 customer statements, in the German (Deutsche Kreditwirtschaft) or the ING dialect.

The SWIFT character set has no umlauts, accents or '&', so names and texts are spelled out
the way German banks do it ('Mueller', 'Lefevre', '+'). `:86:` keeps to 6 lines of 65
characters; in the German layout each `?2x` purpose subfield holds 27 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from reconciler.demo.bankfile import DayStatement
from reconciler.demo.names import strip_accents, transliterate
from reconciler.demo.transaction import GeneratedPayment

_SWIFT = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
_REPLACE = {"&": "+", "_": "-", ";": ",", "%": " Proz", "|": "/", "*": "."}
_NON_ASCII = str.maketrans({"°": "o", "º": "o", "ª": "a"})

# ISO bank transaction code -> (SWIFT type code of :61:, German GVC, posting text of ?00)
_CODES = {
    "PMNT/RCDT/ESCT": ("NTRF", "166", "SEPA-GUTSCHRIFT"),
    "PMNT/RCDT/BOOK": ("NTRF", "153", "UMBUCHUNG"),
    "PMNT/ICDT/ESCT": ("NTRF", "116", "SEPA-UEBERWEISUNG"),
    "ACMT/MCOP/INTR": ("NINT", "814", "ZINSEN"),
    "ACMT/MDOP/CHRG": ("NCHG", "808", "ENTGELTE"),
    "LDAS/FTLN/DDWN": ("NLDP", "162", "DARLEHEN"),
}
LINE = 65
LINES = 6


_ASCII = {code: (chr(code) if chr(code) in _SWIFT and chr(code) != "?"
                 else _REPLACE.get(chr(code), ".")) for code in range(128)}


def swift_text(text: str) -> str:
    """Text in the SWIFT X character set; '?' is reserved for the German subfield marks."""
    if not text.isascii():
        spelled = strip_accents(transliterate(text)).translate(_NON_ASCII)
        text = spelled.encode("ascii", "replace").decode("ascii")
    return text.translate(_ASCII)


def mt940_amount(amount: Decimal) -> str:
    return f"{abs(amount):.2f}".replace(".", ",")


def _balance(tag: str, amount: Decimal, day_text: str, currency: str) -> str:
    mark = "C" if amount >= 0 else "D"
    return f":{tag}:{mark}{day_text}{currency}{mt940_amount(amount)}"


def _chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _german_details(payment: GeneratedPayment) -> list[str]:
    _, gvc, posting = _CODES[payment.bank_transaction_code]
    purpose: list[str] = []
    if payment.end_to_end_id:
        purpose += _chunks(f"EREF+{swift_text(payment.end_to_end_id)}", 27)
    remittance = payment.creditor_reference or payment.remittance_text or ""
    if remittance:
        purpose += _chunks(f"SVWZ+{swift_text(remittance)}", 27)
    head = [f"{gvc}?00{posting}?10{931 if payment.amount > 0 else 997}"]
    tail: list[str] = []
    if payment.counterparty_bic:
        tail.append(f"?30{payment.counterparty_bic}")
    if payment.counterparty_iban:
        tail.append(f"?31{payment.counterparty_iban}")
    name = swift_text(payment.counterparty_name or "")
    if name:
        tail += [f"?{32 + n}{part}" for n, part in enumerate(_chunks(name, 27)[:2])]
    tail.append("?34000")
    tags = [f"?{n}" for n in range(20, 30)] + [f"?{n}" for n in range(60, 64)]
    fields = [tag + part for tag, part in zip(tags, purpose, strict=False)]
    # Six lines of 65 characters is all the field holds: the end of a long text is cut, as
    # the banks cut it.
    while fields and len("".join([":86:", *head, *fields, *tail])) > LINE * LINES - LINES:
        fields.pop()
    return _wrap("".join([":86:", *head, *fields, *tail]))


_TAG_LIKE = re.compile(r":\d|-$|-}")


def _wrap(text: str) -> list[str]:
    """Lines cut at exactly 65 characters, mid-word, as ING and ABN AMRO cut them (readers
    join full-width lines directly). Only where the rest would look like a new tag or the
    end of the statement ('-') is the line cut a character earlier."""
    lines: list[str] = []
    while text:
        cut = min(LINE, len(text))
        while cut < len(text) and cut > 1 and _TAG_LIKE.match(text, cut):
            cut -= 1
        lines.append(text[:cut])
        text = text[cut:]
    return lines[:LINES]


def _ing_details(payment: GeneratedPayment) -> list[str]:
    parts = []
    if payment.end_to_end_id:
        parts.append(f"/EREF/{swift_text(payment.end_to_end_id)}")
    if payment.counterparty_iban or payment.counterparty_name:
        parts.append(f"/CNTP/{payment.counterparty_iban or ''}/{payment.counterparty_bic or ''}"
                     f"/{swift_text(payment.counterparty_name or '')}/")
    if payment.creditor_reference:
        parts.append(f"/REMI/STRD/CUR/{payment.creditor_reference}/")
    elif payment.remittance_text:
        parts.append(f"/REMI/USTD//{swift_text(payment.remittance_text)}/")
    return _wrap(":86:" + "".join(parts))


def statement_lines(statement: DayStatement, account: str, currency: str,
                    style: str = "german") -> Iterator[str]:
    """The lines of one day's MT940 statement, :20: to the closing '-'."""
    day_text = f"{statement.day:%y%m%d}"
    yield f":20:STMT{day_text}{statement.number:04d}"
    yield f":25:{account}{currency}"
    yield f":28C:{statement.number:05d}/001"
    yield _balance("60F", statement.opening, day_text, currency)
    for entry in statement.entries:
        for payment in entry.transactions:
            type_code = _CODES[payment.bank_transaction_code][0]
            mark = "C" if payment.amount > 0 else "D"
            e2e = payment.end_to_end_id or ""
            customer = e2e if e2e and len(e2e) <= 16 and e2e != "NOTPROVIDED" else "NONREF"
            yield (f":61:{payment.value_date:%y%m%d}{payment.booking_date:%m%d}{mark}"
                   f"{mt940_amount(payment.amount)}{type_code}{swift_text(customer)}"
                   f"//{payment.bank_reference}")
            yield from (_german_details(payment) if style == "german"
                        else _ing_details(payment))
    yield _balance("62F", statement.closing, day_text, currency)
    yield _balance("64", statement.closing, day_text, currency)
    yield "-"
