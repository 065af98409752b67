"""Receipts from customers with their ground truth, in every scenario of
`reconciler.demo.scenario`: each builder draws open items from the ledger (each item once),
picks a day the payer could have paid on, and writes the remittance the way payers do.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from reconciler.demo import remittance as text
from reconciler.demo.identifiers import make_account, random_alnum
from reconciler.demo.ledger import Ledger, cents
from reconciler.demo.names import name_variant
from reconciler.demo.others import OtherTransactions
from reconciler.demo.scenario import NAME_VARIANT_SHARE, NEW_IBAN_SHARE, Scenario
from reconciler.demo.transaction import CREDIT_TRANSFER, Draft, GeneratedPayment
from reconciler.domain import Customer, OpenItem
from reconciler.money import ZERO, quantize

_PARTIAL = {"de": "Teilzahlung", "fr": "Acompte", "nl": "Deelbetaling", "it": "Acconto",
            "es": "Pago parcial", "en": "Part payment"}
_DISCOUNT = {"de": "abzgl. {p}% Skonto", "fr": "escompte {p}%", "nl": "{p}% korting",
             "it": "sconto {p}%", "es": "dto. pronto pago {p}%", "en": "less {p}% discount"}
# Scenarios where the payer has our document number at hand and may also use it as the
# end-to-end id; elsewhere the id must not leak the reference the remittance lacks.
_REFERENCE_KNOWN = frozenset({
    Scenario.RF_EXACT, Scenario.DOCUMENT_IN_TEXT, Scenario.CASH_DISCOUNT,
    Scenario.LATE_DISCOUNT, Scenario.BANK_CHARGES, Scenario.OVERPAYMENT,
    Scenario.PARTIAL_PAYMENT})
_FOR = {"de": "für", "fr": "pour", "nl": "voor", "it": "per", "es": "por", "en": "on behalf of"}


class PaymentFactory(OtherTransactions):
    """Builds the drafts one scenario at a time, drawing items from the ledger once each."""

    def __init__(self, ledger: Ledger, days: list[dt.date], currency: str,
                 rng: random.Random, noise: float) -> None:
        self.ledger = ledger
        self.items = ledger.items
        self.days = days
        self.currency = currency
        self.rng = rng
        self.noise = noise
        self.customers = {c.customer_id: c for c in ledger.customers}
        self.used = bytearray(len(self.items))
        self.credit_pool = list(ledger.credit_notes)
        self.by_customer = ledger.invoices_of
        is_credit = bytearray(len(self.items))
        for index in self.credit_pool:
            is_credit[index] = 1
        self.pool = [n for n in range(len(self.items)) if not is_credit[n]]
        self.twin_pool = list(ledger.twins)
        self.subsidiaries = [c for c in ledger.customers if c.parent_customer_id]
        self.suppliers = [self._make_supplier(n) for n in range(40)]

    # -- drawing items -------------------------------------------------------------------

    def _payable_days(self, item: OpenItem, lo: dt.date | None = None,
                      hi: dt.date | None = None) -> list[dt.date]:
        first = max(item.issue_date + dt.timedelta(days=1), lo or self.days[0])
        start = bisect.bisect_left(self.days, first)
        end = bisect.bisect_right(self.days, hi) if hi else len(self.days)
        return self.days[start:end]

    def _is_likely_paid(self, item: OpenItem) -> bool:
        # Long-overdue items rarely get paid in any given fortnight: they are the dunning cases.
        if item.due_date < self.days[0] - dt.timedelta(days=45):
            return self.rng.random() < 0.15
        return item.open_amount > ZERO and bool(self._payable_days(item))

    def _take(self, pool: list[int], accept: Callable[[OpenItem], bool],
              tries: int = 40) -> int | None:
        for _ in range(tries):
            if not pool:
                return None
            slot = self.rng.randrange(len(pool))
            index = pool[slot]
            if self.used[index]:
                pool[slot] = pool[-1]
                pool.pop()
                continue
            if accept(self.items[index]):
                pool[slot] = pool[-1]
                pool.pop()
                self.used[index] = 1
                return index
        return None

    def _take_any(self, extra: Callable[[OpenItem], bool] | None = None) -> int | None:
        return self._take(self.pool, lambda i: self._is_likely_paid(i) and (
            extra is None or extra(i)))

    def _siblings(self, anchor: int, day: dt.date, most: int) -> list[int]:
        """Other unused invoices of the anchor's customer, payable on `day`: looked for near
        the anchor in issue order, as customers pay invoices of the same weeks together."""
        invoices = self.by_customer.get(self.items[anchor].customer_id, [])
        found: list[int] = []
        if not invoices:
            return found
        start = self.rng.randrange(len(invoices))
        for step in range(min(len(invoices), 4 * most + 12)):
            index = invoices[(start + step) % len(invoices)]
            item = self.items[index]
            if (not self.used[index] and index != anchor and item.issue_date < day
                    and item.open_amount > ZERO):
                found.append(index)
                if len(found) == most:
                    break
        for index in found:
            self.used[index] = 1
        return sorted(found)

    # -- payers --------------------------------------------------------------------------

    def _payer(self, customer: Customer) -> tuple[str, str, str, tuple[str, ...]]:
        rng = self.rng
        noise: list[str] = []
        name = customer.name
        if rng.random() < NAME_VARIANT_SHARE * self.noise:
            name, _kind = name_variant(name, customer.country or "DE", rng)
            noise.append("name_variant")
        if customer.ibans and rng.random() >= NEW_IBAN_SHARE * self.noise:
            iban = rng.choice(customer.ibans)
            bic = self.ledger.bic_of[iban]
        else:
            iban, bic = make_account(customer.country or "DE", rng)
            noise.append("new_iban")
        return name, iban, bic, tuple(noise)

    def _end_to_end(self, documents: list[str]) -> str:
        roll = self.rng.random()
        if roll < 0.35:
            return "NOTPROVIDED"  # what SEPA payers send when they have no reference of theirs
        if roll < 0.45 and len(documents) == 1:
            return documents[0]
        return f"{random_alnum(self.rng, 4)}{self.rng.randrange(10**11):011d}"

    # -- receivables ---------------------------------------------------------------------

    def _receivable(self, scenario: Scenario, payer: Customer, owner: str, day: dt.date,
                    amount: Decimal, settled: list[tuple[int, Decimal]], remittance: str | None,
                    *, creditor_reference: str | None = None, expected: str = "auto",
                    **adjustments: Decimal) -> Draft:
        name, iban, bic, noise = self._payer(payer)
        numbers = [self.items[i].document_number for i, _ in settled]
        charges = adjustments.get("bank_charge", ZERO)
        payment = GeneratedPayment(
            bank_reference="", booking_date=day, value_date=day, amount=amount,
            currency=self.currency, scenario=scenario.value, counterparty_name=name,
            counterparty_iban=iban, counterparty_bic=bic,
            end_to_end_id=self._end_to_end(numbers if scenario in _REFERENCE_KNOWN else []),
            creditor_reference=creditor_reference,
            remittance_text=text.clip(remittance) if remittance else None,
            bank_transaction_code=CREDIT_TRANSFER, customer_id=owner,
            instructed_amount=amount - charges if charges else None,
            charges=-charges if charges else None)
        draft = Draft(payment, tuple((n, a) for n, (_, a) in zip(numbers, settled, strict=True)),
                       expected=expected, noise=noise, **adjustments)
        if "new_iban" in noise and not remittance and not creditor_reference:
            draft.expected = "review"  # an unknown account and no reference: nothing to go on
        return draft

    def _language(self, customer: Customer) -> str:
        return customer.language if customer.language in ("de", "fr", "nl", "it", "es") else "en"

    def build(self, scenario: Scenario) -> Draft | None:
        builder = getattr(self, f"_build_{scenario.value}")
        draft: Draft | None = builder()
        return draft

    def _single(self, scenario: Scenario, extra: Callable[[OpenItem], bool] | None = None,
                pool: list[int] | None = None
                ) -> tuple[int, OpenItem, Customer, dt.date] | None:
        if pool is None:
            index = self._take_any(extra)
        else:
            index = self._take(pool, lambda i: self._is_likely_paid(i) and (
                extra is None or extra(i)))
        if index is None:
            return None
        item = self.items[index]
        customer = self.customers[item.customer_id]
        return index, item, customer, self.rng.choice(self._payable_days(item))

    def _spelled(self, item: OpenItem, customer: Customer) -> str:
        language = self._language(customer)
        core = text.spell_document(item.document_number, language, self.rng)
        if item.payment_reference and self.rng.random() < 0.2:
            core = text.rf_in_text(item.payment_reference, self.rng)
        if self.rng.random() < 0.4:
            core = f"{text.payment_words(language, self.rng)} {core}"
        return core

    def _build_rf_exact(self) -> Draft | None:
        picked = self._single(Scenario.RF_EXACT, lambda i: i.payment_reference is not None)
        if picked is None:
            return self._build_document_in_text()
        index, item, customer, day = picked
        return self._receivable(Scenario.RF_EXACT, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)], None,
                                creditor_reference=item.payment_reference)

    def _build_document_in_text(self) -> Draft | None:
        picked = self._single(Scenario.DOCUMENT_IN_TEXT)
        if picked is None:
            return None
        index, item, customer, day = picked
        return self._receivable(Scenario.DOCUMENT_IN_TEXT, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)],
                                self._spelled(item, customer))

    def _build_mistyped_reference(self) -> Draft | None:
        picked = self._single(Scenario.MISTYPED_REFERENCE)
        if picked is None:
            return None
        index, item, customer, day = picked
        wrong = text.mistype(item.document_number, self.rng)
        core = text.spell_document(wrong, self._language(customer), self.rng)
        return self._receivable(Scenario.MISTYPED_REFERENCE, customer, customer.customer_id,
                                day, item.open_amount, [(index, item.open_amount)],
                                core, expected="review")

    def _build_no_reference(self) -> Draft | None:
        picked = self._single(Scenario.NO_REFERENCE)
        if picked is None:
            return None
        index, item, customer, day = picked
        words = text.payment_words(self._language(customer), self.rng)
        remittance = self.rng.choice((None, words, f"{words} {customer.name}"))
        return self._receivable(Scenario.NO_REFERENCE, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)],
                                remittance, expected="review")

    def _several(self, scenario: Scenario, list_all: bool) -> Draft | None:
        for _ in range(5):
            picked = self._single(scenario)
            if picked is None:
                return None
            anchor, _, customer, day = picked
            others = self._siblings(anchor, day, self.rng.randint(1, 5))
            if not others:
                continue  # the anchor is paid alone by a later draw
            indices = sorted([anchor, *others])
            settled = [(i, self.items[i].open_amount) for i in indices]
            numbers = [self.items[i].document_number for i in indices]
            if not list_all:
                keep = self.rng.randint(1, len(numbers) - 1)
                numbers = sorted(self.rng.sample(numbers, keep))
            remittance = text.list_documents(numbers, self._language(customer), self.rng)
            amount = sum((a for _, a in settled), ZERO)
            return self._receivable(scenario, customer, customer.customer_id, day, amount,
                                    settled, remittance,
                                    expected="auto" if list_all else "review")
        return None

    def _build_several_invoices(self) -> Draft | None:
        return self._several(Scenario.SEVERAL_INVOICES, list_all=True)

    def _build_several_invoices_some_listed(self) -> Draft | None:
        return self._several(Scenario.SEVERAL_INVOICES_SOME_LISTED, list_all=False)

    def _build_credit_note_netted(self) -> Draft | None:
        credit = self._take(self.credit_pool,
                            lambda i: i.open_amount < ZERO and bool(self._payable_days(i)))
        if credit is None:
            return None
        note = self.items[credit]
        customer = self.customers[note.customer_id]
        day = self.rng.choice(self._payable_days(note))
        invoices = self._siblings(credit, day, self.rng.randint(1, 3))
        total = sum((self.items[i].open_amount for i in invoices), ZERO)
        if total + note.open_amount <= ZERO:
            for index in (credit, *invoices):
                self.used[index] = 0  # nothing to net against: leave them for other payments
            self.credit_pool.append(credit)
            return None
        indices = [*invoices, credit]
        settled = [(i, self.items[i].open_amount) for i in indices]
        language = self._language(customer)
        listed = text.list_documents([self.items[i].document_number for i in invoices],
                                     language, self.rng)
        remittance = f"{listed} {text.spell_document(note.document_number, language, self.rng)}"
        return self._receivable(Scenario.CREDIT_NOTE_NETTED, customer, customer.customer_id, day,
                                total + note.open_amount, settled, remittance)

    def _build_partial_payment(self) -> Draft | None:
        picked = self._single(Scenario.PARTIAL_PAYMENT, lambda i: i.open_amount >= 200)
        if picked is None:
            return None
        index, item, customer, day = picked
        share = Decimal(self.rng.choice((25, 30, 40, 50, 50, 60, 75))) / 100
        paid = quantize(item.open_amount * share, self.currency)
        if item.open_amount > 2000 and self.rng.random() < 0.6:
            paid = Decimal(int(paid / 100) * 100).quantize(Decimal("0.01"))  # a round sum
        if not ZERO < paid < item.open_amount:
            paid = quantize(item.open_amount / 2, self.currency)
        language = self._language(customer)
        remittance = f"{_PARTIAL[language]} {self._spelled(item, customer)}"
        return self._receivable(Scenario.PARTIAL_PAYMENT, customer, customer.customer_id, day,
                                paid, [(index, paid)], remittance,
                                expected="review")

    def _build_bank_charges(self) -> Draft | None:
        picked = self._single(Scenario.BANK_CHARGES, lambda i: i.open_amount >= 100)
        if picked is None:
            return None
        index, item, customer, day = picked
        charge = cents(self.rng.choice((250, 500, 750, 1000, 1250, 1500,
                                        self.rng.randint(50, 1500))))
        return self._receivable(Scenario.BANK_CHARGES, customer, customer.customer_id, day,
                                item.open_amount - charge, [(index, item.open_amount)],
                                self._spelled(item, customer), bank_charge=-charge)

    def _discount(self, late: bool) -> Draft | None:
        scenario = Scenario.LATE_DISCOUNT if late else Scenario.CASH_DISCOUNT

        def has_window(item: OpenItem) -> bool:
            if item.discount_due_date is None:
                return False
            if late:
                return bool(self._payable_days(
                    item, lo=item.discount_due_date + dt.timedelta(days=1)))
            return bool(self._payable_days(item, hi=item.discount_due_date))

        index = self._take(self.pool, has_window, tries=80)
        if index is None:
            return None
        item = self.items[index]
        if item.discount_rate is None or item.discount_due_date is None:
            return None  # cannot happen: has_window accepted only items with terms
        if late:
            day = self.rng.choice(self._payable_days(
                item, lo=item.discount_due_date + dt.timedelta(days=1)))
        else:
            day = self.rng.choice(self._payable_days(item, hi=item.discount_due_date))
        customer = self.customers[item.customer_id]
        discount = quantize(item.open_amount * item.discount_rate, self.currency)
        paid = item.open_amount - discount
        percent = (item.discount_rate * 100).normalize()
        remittance = (f"{self._spelled(item, customer)} "
                      f"{_DISCOUNT[self._language(customer)].format(p=f'{percent:f}')}")
        if late:
            return self._receivable(scenario, customer, customer.customer_id, day, paid,
                                    [(index, paid)], remittance, expected="review",
                                    short=discount)
        return self._receivable(scenario, customer, customer.customer_id, day, paid,
                                [(index, paid)], remittance, discount=discount)

    def _build_cash_discount(self) -> Draft | None:
        return self._discount(late=False)

    def _build_late_discount(self) -> Draft | None:
        return self._discount(late=True)

    def _build_overpayment(self) -> Draft | None:
        picked = self._single(Scenario.OVERPAYMENT)
        if picked is None:
            return None
        index, item, customer, day = picked
        if item.open_amount > 500 and self.rng.random() < 0.5:
            rounded = (item.open_amount / 100).to_integral_value(rounding="ROUND_CEILING") * 100
            extra = rounded.quantize(Decimal("0.01")) - item.open_amount
        else:
            extra = ZERO
        if extra <= ZERO:
            extra = cents(self.rng.randint(500, 50000))
        return self._receivable(Scenario.OVERPAYMENT, customer, customer.customer_id, day,
                                item.open_amount + extra,
                                [(index, item.open_amount)],
                                self._spelled(item, customer), expected="review",
                                unapplied=extra)

    def _build_parent_pays(self) -> Draft | None:
        if not self.subsidiaries:
            return self._build_document_in_text()
        for _ in range(10):
            subsidiary = self.rng.choice(self.subsidiaries)
            pool = [i for i in self.by_customer.get(subsidiary.customer_id, ())
                    if not self.used[i]]
            picked = self._single(Scenario.PARENT_PAYS, pool=pool)
            if picked is None:
                continue
            index, item, customer, day = picked
            parent = self.customers[customer.parent_customer_id or ""]
            remittance = self._spelled(item, customer)
            if self.rng.random() < 0.6:
                remittance += f" {_FOR[self._language(customer)]} {customer.name}"
            return self._receivable(Scenario.PARENT_PAYS, parent, customer.customer_id, day,
                                    item.open_amount, [(index, item.open_amount)],
                                    remittance, expected="review")
        return None

    def _build_amount_collision(self) -> Draft | None:
        picked = self._single(Scenario.AMOUNT_COLLISION, pool=self.twin_pool)
        if picked is None:
            return self._build_no_reference()
        index, item, customer, day = picked
        words = text.payment_words(self._language(customer), self.rng)
        return self._receivable(Scenario.AMOUNT_COLLISION, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)],
                                self.rng.choice((None, words)), expected="review")

    def _build_lookalike_numbers(self) -> Draft | None:
        picked = self._single(Scenario.LOOKALIKE_NUMBERS)
        if picked is None:
            return None
        index, item, customer, day = picked
        decoy = self.items[self.rng.randrange(len(self.items))]
        decoy_number = decoy.document_number if decoy.customer_id != customer.customer_id else None
        fake = text.lookalike(self._language(customer), customer.customer_id, item.issue_date,
                              decoy_number, self.rng)
        with_reference = self.rng.random() < 0.5
        remittance = f"{fake} {self._spelled(item, customer)}" if with_reference else fake
        return self._receivable(Scenario.LOOKALIKE_NUMBERS, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)],
                                remittance, expected="auto" if with_reference else "review")

    def duplicate_of(self, original: Draft) -> Draft | None:
        """The same invoice paid again a few days later: the cash stays unapplied."""
        later = [d for d in self.days if d > original.payment.booking_date]
        if not later:
            return None
        day = self.rng.choice(later[:5])
        payment = replace(original.payment, booking_date=day, value_date=day,
                          scenario=Scenario.DUPLICATE_PAYMENT.value,
                          end_to_end_id=self._end_to_end([]))
        return Draft(payment, (), unapplied=payment.amount, expected="review",
                      noise=original.noise)
