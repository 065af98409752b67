"""`generate(config)`: customers, open items, bank transactions and their ground truth.

Deterministic by seed: one `random.Random(seed)` drives everything, in a fixed order, and no
result depends on set or hash ordering. The same seed gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from reconciler.demo.identifiers import is_valid_iban
from reconciler.demo.ledger import Ledger, add_open_items, make_customers
from reconciler.demo.payments import PaymentFactory
from reconciler.demo.scenario import Scenario, scaled_mix
from reconciler.demo.transaction import (
    CREDIT_TRANSFER,
    OUTGOING_TRANSFER,
    Draft,
    GeneratedPayment,
)
from reconciler.demo.truth import TruthRow
from reconciler.domain import Customer, OpenItem
from reconciler.heap import collector_paused

# A valid German IBAN (Commerzbank, the ISO 13616 example account): the seller's own account.
OUR_IBAN = "DE89370400440532013000"
OUR_BIC = "COBADEFFXXX"
BATCH_SHARE = 0.03  # receipts the bank books together as one entry with several TxDtls


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 42
    customers: int = 200
    open_items: int = 2000
    payments: int = 600  # bank transactions of every kind: receipts, other credits, debits
    start: dt.date = dt.date(2026, 11, 2)
    days: int = 15  # calendar days; bank files are written for the business days among them
    entity: str = "MAIN"
    currency: str = "EUR"
    our_iban: str = OUR_IBAN
    noise: float = 1.0  # scale of every hard scenario's frequency; 0 leaves only clean ones
    # Scenario weights by name, replacing the defaults of `scenario.DEFAULT_MIX`.
    mix: tuple[tuple[str, float], ...] = ()
    opening_balance: str = "250000.00"
    our_bic: str = OUR_BIC
    account_owner: str = "Demo Maschinenbau GmbH"


@dataclass
class DemoData:
    customers: list[Customer]
    open_items: list[OpenItem]
    payments: list[GeneratedPayment]  # in bank-file order: by day, batch members together
    truth: list[TruthRow]  # one row per payment, same order
    config: DemoConfig = field(default_factory=DemoConfig)
    business_days: list[dt.date] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.business_days:
            self.business_days = business_days(self.config.start, self.config.days)


def business_days(start: dt.date, days: int) -> list[dt.date]:
    calendar = [start + dt.timedelta(days=n) for n in range(max(days, 1))]
    weekdays = [d for d in calendar if d.weekday() < 5]
    return weekdays or calendar


def generate(config: DemoConfig) -> DemoData:
    if config.customers < 1 or config.open_items < 0 or config.payments < 0:
        raise ValueError("customers must be >= 1, open_items and payments >= 0")
    if not is_valid_iban(config.our_iban):
        raise ValueError(f"our_iban {config.our_iban!r} is not a valid IBAN")
    if not config.entity or any(c in config.entity for c in ',"\r\n'):
        raise ValueError(f"entity must be a plain code, not {config.entity!r}")
    # Millions of small immutable records and no reference cycles among them: the cyclic
    # garbage collector would only rescan them again and again.
    with collector_paused():
        return _generate(config)


def _generate(config: DemoConfig) -> DemoData:
    rng = random.Random(config.seed)
    days = business_days(config.start, config.days)
    ledger = make_customers(config.customers, config.currency, rng)
    add_open_items(ledger, config.open_items, entity=config.entity, currency=config.currency,
                   start=config.start, days=config.days, rng=rng)
    drafts = _draw(ledger, days, config, rng)
    payments, truth = _finish(drafts, rng)
    return DemoData(ledger.customers, ledger.items, payments, truth, config, days)


def _draw(ledger: Ledger, days: list[dt.date], config: DemoConfig,
          rng: random.Random) -> list[Draft]:
    mix: Mapping[Scenario, float] = scaled_mix(config.noise, dict(config.mix))
    scenarios = [s for s in Scenario if mix.get(s, 0.0) > 0]
    weights = [mix[s] for s in scenarios]
    drawn = rng.choices(scenarios, weights, k=config.payments) if scenarios else []
    factory = PaymentFactory(ledger, days, config.currency, rng, config.noise)
    drafts: list[Draft] = []
    duplicates = 0
    for scenario in drawn:
        if scenario is Scenario.DUPLICATE_PAYMENT:
            duplicates += 1
            continue
        # No item left that fits: a plain receipt, else (ledger exhausted) a supplier payment.
        drafts.append(factory.build(scenario) or factory.build(Scenario.DOCUMENT_IN_TEXT)
                      or factory.fallback())
    originals = [d for d in drafts if d.payment.scenario in (
        Scenario.RF_EXACT.value, Scenario.DOCUMENT_IN_TEXT.value)
        and d.payment.booking_date < days[-1]]
    for _ in range(duplicates):
        copy = factory.duplicate_of(rng.choice(originals)) if originals else None
        drafts.append(copy or factory.fallback())
    return drafts


def _finish(drafts: list[Draft], rng: random.Random) -> tuple[list[GeneratedPayment],
                                                                list[TruthRow]]:
    order = sorted(range(len(drafts)), key=lambda n: (drafts[n].payment.booking_date, n))
    by_day: dict[dt.date, list[int]] = {}
    for n in order:
        by_day.setdefault(drafts[n].payment.booking_date, []).append(n)
    base = rng.randrange(10**6, 10**7)
    payments: list[GeneratedPayment] = []
    truth: list[TruthRow] = []
    for day, members in by_day.items():
        for n, entry_id in _batch([drafts[n].payment for n in members], members, rng):
            draft = drafts[n]
            # The bank's own reference: unique per transaction, what every parser reads back.
            reference = f"{day:%y%m%d}{base + len(payments):09d}"
            payment = replace(draft.payment, bank_reference=reference, entry_id=entry_id)
            payments.append(payment)
            truth.append(TruthRow(
                bank_reference=reference, booking_date=day, amount=payment.amount,
                currency=payment.currency, scenario=payment.scenario,
                customer_id=payment.customer_id, settled=draft.settled,
                discount=draft.discount, bank_charge=draft.bank_charge, short=draft.short,
                unapplied=draft.unapplied, expected=draft.expected, noise=draft.noise,
                payer_name=payment.counterparty_name, payer_iban=payment.counterparty_iban))
    return payments, truth


def _batch(day: list[GeneratedPayment], ids: list[int],
           rng: random.Random) -> list[tuple[int, str | None]]:
    """Order one day's transactions and group some into batch entries: (draft id, entry id).

    The day's outgoing supplier transfers go out as one payment run (one debit entry, one
    TxDtls per supplier); a few runs of neighbouring receipts are booked as a collective
    credit ('Sammelgutschrift'). Batch members sit next to each other, so every bank file
    lists the transactions in the same order.
    """
    label = f"{day[0].booking_date:%y%m%d}"
    entries = 0
    result: list[tuple[int, str | None]] = []
    run = [n for n, p in zip(ids, day, strict=True)
           if p.bank_transaction_code == OUTGOING_TRANSFER]
    batch_run = len(run) >= 2 and rng.random() < 0.7
    rest = [(n, p) for n, p in zip(ids, day, strict=True)
            if not (batch_run and p.bank_transaction_code == OUTGOING_TRANSFER)]
    position = 0
    while position < len(rest):
        n, payment = rest[position]
        if _is_customer_receipt(payment) and rng.random() < BATCH_SHARE:
            size = rng.randint(2, 4)
            members: list[int] = []
            while (position < len(rest) and len(members) < size
                   and _is_customer_receipt(rest[position][1])):
                members.append(rest[position][0])
                position += 1
            entry_id = None
            if len(members) >= 2:
                entries += 1
                entry_id = f"{label}B{entries:05d}"
            result.extend((m, entry_id) for m in members)
            continue
        result.append((n, None))
        position += 1
    if batch_run:
        entries += 1
        result.extend((n, f"{label}B{entries:05d}") for n in run)
    return result


def _is_customer_receipt(payment: GeneratedPayment) -> bool:
    return payment.bank_transaction_code == CREDIT_TRANSFER and payment.customer_id is not None
