"""The receivables side of the demo: a customer master and its open items.

Shaped like a mid-sized German seller's books: most customers in Germany, the rest across the
EU, Switzerland and the UK; a few key accounts with many invoices and a long tail of small
ones; some groups where a parent pays for its subsidiaries; German customers invoiced with
19 % VAT, cross-border ones under the reverse charge (net amounts, hence rounder figures).
Issue dates reach months back, so part of the book is overdue and feeds the dunning run.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from reconciler.demo.identifiers import make_account, rf_reference
from reconciler.demo.names import LANGUAGES, company_name, email_for
from reconciler.domain import Customer, DocumentType, OpenItem, PaymentTerms

COUNTRY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("DE", 34), ("FR", 12), ("NL", 10), ("IT", 9), ("ES", 8), ("GB", 8), ("AT", 7), ("BE", 6),
    ("CH", 6),
)
# segment: (share of customers, relative number of invoices, typical net invoice amount)
SEGMENTS: dict[str, tuple[float, int, int]] = {
    "key_account": (0.10, 10, 12000),
    "standard": (0.60, 3, 2500),
    "small": (0.30, 1, 450),
}
TERMS_BY_SEGMENT: dict[str, tuple[PaymentTerms, ...]] = {
    "key_account": (PaymentTerms(60), PaymentTerms(45), PaymentTerms(30, Decimal("0.02"), 10),
                    PaymentTerms(60, Decimal("0.03"), 14)),
    "standard": (PaymentTerms(30), PaymentTerms(30), PaymentTerms(30, Decimal("0.02"), 10),
                 PaymentTerms(14), PaymentTerms(45)),
    "small": (PaymentTerms(14), PaymentTerms(30), PaymentTerms(7), PaymentTerms(30)),
}
CREDIT_NOTE_SHARE = 0.05
PARTLY_PAID_SHARE = 0.06
AMOUNT_TWIN_SHARE = 0.02
SUBSIDIARY_SHARE = 0.08


_DAYS = [dt.timedelta(days=n) for n in range(400)]


def cents(value: int) -> Decimal:
    """Exact two-decimal amount from an integer number of cents."""
    return Decimal(value).scaleb(-2)


@dataclass
class Ledger:
    customers: list[Customer]
    items: list[OpenItem]
    bic_of: dict[str, str] = field(default_factory=dict)  # customer IBAN -> BIC
    uses_rf: dict[str, bool] = field(default_factory=dict)
    # Invoices whose amount was copied from another customer's invoice: traps for matchers
    # that trust the amount alone.
    twins: list[int] = field(default_factory=list)
    invoices_of: dict[str, list[int]] = field(default_factory=dict)  # customer -> indices
    credit_notes: list[int] = field(default_factory=list)


def _customer_ids(count: int) -> list[str]:
    width = max(5, len(str(count)))
    return [f"C{10**(width - 1) + n:0{width}d}" for n in range(1, count + 1)]


def make_customers(count: int, currency: str, rng: random.Random) -> Ledger:
    countries = [c for c, _ in COUNTRY_WEIGHTS]
    weights = [w for _, w in COUNTRY_WEIGHTS]
    segment_names = list(SEGMENTS)
    segment_weights = [SEGMENTS[s][0] for s in segment_names]
    ledger = Ledger([], [])
    seen_names: set[str] = set()
    parents: list[Customer] = []
    for customer_id in _customer_ids(count):
        country = rng.choices(countries, weights)[0]
        language = rng.choice(LANGUAGES[country])
        segment = rng.choices(segment_names, segment_weights)[0]
        parent: Customer | None = None
        if parents and rng.random() < SUBSIDIARY_SHARE:
            parent = rng.choice(parents)
            country = parent.country or country
            language = parent.language or language
        name = company_name(country, language, rng, regional=parent is not None)
        for attempt in range(20):
            if name not in seen_names:
                break
            name = company_name(country, language, rng, regional=attempt > 2)
        else:
            name = f"{name} ({customer_id})"
        seen_names.add(name)
        ibans: list[str] = []
        for _ in range(rng.choices((0, 1, 2), (4, 80, 16))[0]):
            iban, bic = make_account(country, rng)
            ibans.append(iban)
            ledger.bic_of[iban] = bic
        limit = {"key_account": 250000, "standard": 50000, "small": 10000}[segment]
        customer = Customer(
            customer_id=customer_id, name=name, ibans=tuple(ibans),
            parent_customer_id=parent.customer_id if parent else None, segment=segment,
            country=country, payment_terms=rng.choice(TERMS_BY_SEGMENT[segment]),
            email=email_for(name, country, language, rng) if rng.random() < 0.9 else None,
            credit_limit=cents(limit * 100 * rng.choice((1, 2, 4))), currency=currency,
            language=language)
        ledger.customers.append(customer)
        ledger.uses_rf[customer_id] = rng.random() < 0.35
        if parent is None and segment != "small":
            parents.append(customer)
    return ledger


def _invoice_cents(net_typical: int, domestic: bool, rng: random.Random) -> int:
    net = min(math.exp(rng.gauss(0.0, 0.9)) * net_typical, 400000.0)
    # Whole-euro net prices are common in B2B.
    net_cents = int(net) * 100 if rng.random() < 0.5 else int(net * 100)
    net_cents = max(net_cents, 1500)
    if domestic:
        return (net_cents * 119 + 50) // 100  # 19 % German VAT, rounded half up to the cent
    return net_cents


@dataclass(frozen=True, slots=True)
class _Profile:
    """What item generation needs of a customer, looked up once rather than per item."""

    customer_id: str
    domestic: bool
    typical: int
    net_days: dt.timedelta
    discount_days: dt.timedelta
    discount_rate: Decimal | None
    uses_rf: bool


def _profile(customer: Customer, uses_rf: bool) -> _Profile:
    terms = customer.payment_terms or PaymentTerms(30)
    return _Profile(customer.customer_id, customer.country == "DE",
                    SEGMENTS[customer.segment or "standard"][2], _DAYS[terms.net_days],
                    _DAYS[terms.discount_days], terms.discount_rate or None, uses_rf)


def add_open_items(ledger: Ledger, count: int, *, entity: str, currency: str, start: dt.date,
                   days: int, rng: random.Random) -> None:
    """`count` invoices and credit notes, numbered in issue-date order."""
    customers = ledger.customers
    profiles = [_profile(c, ledger.uses_rf[c.customer_id]) for c in customers]
    weights = [SEGMENTS[c.segment or "standard"][1] for c in customers]
    owners = rng.choices(range(len(customers)), weights, k=count)
    last_day = start + dt.timedelta(days=days - 1)
    # Issue dates: mostly recent, a tail months back (those are the overdue, dunned ones).
    offsets = [min(int(rng.expovariate(1 / 40)), 240) for _ in range(count)]
    order = sorted(range(count), key=lambda n: (-offsets[n], n))
    date_of = {o: last_day - dt.timedelta(days=o) for o in sorted(set(offsets))}
    invoice_seq = credit_seq = 0
    width = max(5, len(str(count)))
    has_invoice = bytearray(len(customers))
    # A ring of recent invoice amounts, to copy one to another customer now and then.
    recent: list[tuple[int, int]] = []
    items = ledger.items
    invoice, credit_note = DocumentType.INVOICE, DocumentType.CREDIT_NOTE
    for n in order:
        owner = owners[n]
        profile = profiles[owner]
        issue = date_of[offsets[n]]
        is_credit = has_invoice[owner] and rng.random() < CREDIT_NOTE_SHARE
        amount = _invoice_cents(profile.typical, profile.domestic, rng)
        position = len(items)
        if is_credit:
            credit_seq += 1
            amount = -max(amount // rng.choice((3, 5, 10)), 500)
            value = cents(amount)
            items.append(OpenItem(
                entity, f"CN-{issue.year}-{credit_seq:0{width}d}", credit_note,
                profile.customer_id, currency, value, value, issue, issue + profile.net_days))
            ledger.credit_notes.append(position)
            continue
        if recent and rng.random() < AMOUNT_TWIN_SHARE:
            other_owner, other_amount = recent[rng.randrange(len(recent))]
            if other_owner != owner:
                amount = other_amount
                ledger.twins.append(position)
        invoice_seq += 1
        value = cents(amount)
        open_value = value
        if rng.random() < PARTLY_PAID_SHARE:
            open_value = cents(amount - int(amount * rng.uniform(0.2, 0.7)))
        reference = (rf_reference(f"{profile.customer_id[1:]}{invoice_seq}")
                     if profile.uses_rf else None)
        rate = profile.discount_rate
        items.append(OpenItem(
            entity, f"INV-{issue.year}-{invoice_seq:0{width}d}", invoice, profile.customer_id,
            currency, value, open_value, issue, issue + profile.net_days, reference, rate,
            issue + profile.discount_days if rate else None))
        ledger.invoices_of.setdefault(profile.customer_id, []).append(position)
        has_invoice[owner] = 1
        if len(recent) < 5000:
            recent.append((owner, amount))
        else:
            recent[invoice_seq % 5000] = (owner, amount)
