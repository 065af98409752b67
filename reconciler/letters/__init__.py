"""Dunning letters and emails in the customer's language.

Wording lives in one TOML catalog per language (`en.toml`, `de.toml`, `fr.toml`, `nl.toml`);
the layout is shared, so every letter lists the same facts: the items, their amounts and days
overdue, the total, any fee and interest, and the payment reference to quote, which is what
lets the payment be matched automatically when it arrives.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from reconciler.errors import ConfigError

LANGUAGES = ("en", "de", "fr", "nl")
_COUNTRY_LANGUAGE = {"DE": "de", "AT": "de", "CH": "de", "LI": "de", "FR": "fr", "BE": "fr",
                     "LU": "fr", "MC": "fr", "NL": "nl"}


@dataclass(frozen=True, slots=True)
class LetterLine:
    document_number: str
    due_date: dt.date
    days_overdue: int
    open_amount: Decimal


@dataclass(frozen=True, slots=True)
class Letter:
    subject: str
    body: str
    language: str


def language_for(language: str | None, country: str | None) -> str:
    if language and language[:2].lower() in LANGUAGES:
        return language[:2].lower()
    return _COUNTRY_LANGUAGE.get((country or "").upper(), "en")


@cache
def catalog(language: str) -> dict[str, dict[str, str]]:
    if language not in LANGUAGES:
        raise ConfigError(f"no letter catalog for language {language!r}")
    text = resources.files("reconciler.letters").joinpath(f"{language}.toml").read_text("utf-8")
    return tomllib.loads(text)


def _amount(value: Decimal, currency: str, language: str) -> str:
    text = f"{value:,.2f}"
    if language in ("de", "nl"):
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    elif language == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return f"{text} {currency}"


def render(*, stage: str, language: str, customer_name: str, customer_id: str,
           lines: list[LetterLine], currency: str, our_iban: str, payment_reference: str,
           fee: Decimal = Decimal(0), interest: Decimal = Decimal(0),
           sender: str = "Accounts Receivable") -> Letter:
    words = catalog(language)
    labels, texts = words["labels"], words.get(stage)
    if texts is None:
        raise ConfigError(f"letter catalog {language}.toml has no stage {stage!r}")
    total = sum((line.open_amount for line in lines), Decimal(0)) + fee + interest
    width = max([len(labels["document"])] + [len(x.document_number) for x in lines])
    rows = [f"  {labels['document']:<{width}}  {labels['due_date']:<10}  "
            f"{labels['days']:>6}  {labels['amount']:>16}"]
    for line in lines:
        rows.append(f"  {line.document_number:<{width}}  {line.due_date.isoformat():<10}  "
                    f"{line.days_overdue:>6}  {_amount(line.open_amount, currency, language):>16}")
    extra = []
    if fee:
        extra.append(f"  {labels['fee']}: {_amount(fee, currency, language)}")
    if interest:
        extra.append(f"  {labels['interest']}: {_amount(interest, currency, language)}")
    body = "\n".join([
        labels["greeting"].format(name=customer_name),
        "",
        texts["intro"],
        "",
        *rows,
        *extra,
        "",
        f"  {labels['total']}: {_amount(total, currency, language)}",
        "",
        labels["pay_to"].format(iban=our_iban, reference=payment_reference),
        "",
        texts["closing"],
        "",
        labels["signoff"],
        sender,
        f"({labels['customer']} {customer_id})",
    ])
    subject = texts["subject"].format(total=_amount(total, currency, language))
    return Letter(subject=subject, body=body + "\n", language=language)
