"""Bank transactions with ground truth: receipts from customers in every scenario of
`reconciler.demo.scenario`, other credits (tax refunds, interest, group transfers, loans) and
the account's debits (supplier payments, fees).
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from reconciler.demo import remittance as text
from reconciler.demo.identifiers import iban_from_bban, make_account, random_alnum
from reconciler.demo.ledger import Ledger, cents
from reconciler.demo.names import company_name, name_variant
from reconciler.demo.scenario import (
    NAME_VARIANT_SHARE,
    NEW_IBAN_SHARE,
    RECEIVABLE,
    Scenario,
)
from reconciler.domain import Customer, OpenItem
from reconciler.money import ZERO, quantize

CREDIT_TRANSFER = "PMNT/RCDT/ESCT"  # ISO bank transaction code: received SEPA credit transfer
OUTGOING_TRANSFER = "PMNT/ICDT/ESCT"
BOOK_TRANSFER = "PMNT/RCDT/BOOK"  # intra-bank transfer, as cash pooling within a group
INTEREST_CODE = "ACMT/MCOP/INTR"
FEE_CODE = "ACMT/MDOP/CHRG"
LOAN_CODE = "LDAS/FTLN/DDWN"
# German tax offices bank with the Bundesbank (bank code 700 000 00 for Munich).
TAX_OFFICE_IBAN = iban_from_bban("DE", "700000000070001506")


@dataclass(frozen=True, slots=True)
class GeneratedPayment:
    """One bank transaction as the bank files will show it, plus what it is (`scenario`)."""

    bank_reference: str
    booking_date: dt.date
    value_date: dt.date
    amount: Decimal  # signed: credit positive
    currency: str
    scenario: str
    counterparty_name: str | None
    counterparty_iban: str | None
    counterparty_bic: str | None
    end_to_end_id: str | None
    creditor_reference: str | None  # structured RF reference (CAMT Strd), None when free text
    remittance_text: str | None
    bank_transaction_code: str
    customer_id: str | None = None  # whose items it settles (truth, not on the file)
    entry_id: str | None = None  # shared by the transactions of one batch entry
    instructed_amount: Decimal | None = None  # before the charges an intermediary took
    charges: Decimal | None = None


@dataclass
class _Draft:
    payment: GeneratedPayment
    settled: tuple[tuple[str, Decimal], ...] = ()
    discount: Decimal = ZERO
    bank_charge: Decimal = ZERO
    short: Decimal = ZERO
    unapplied: Decimal = ZERO
    expected: str = "auto"
    noise: tuple[str, ...] = ()


_PARTIAL = {"de": "Teilzahlung", "fr": "Acompte", "nl": "Deelbetaling", "it": "Acconto",
            "es": "Pago parcial", "en": "Part payment"}
_DISCOUNT = {"de": "abzgl. {p}% Skonto", "fr": "escompte {p}%", "nl": "{p}% korting",
             "it": "sconto {p}%", "es": "dto. pronto pago {p}%", "en": "less {p}% discount"}
_FOR = {"de": "für", "fr": "pour", "nl": "voor", "it": "per", "es": "por", "en": "on behalf of"}


class PaymentFactory:
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
        self.suppliers = [self._supplier(n) for n in range(40)]
        self.drafts: list[_Draft] = []

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

    def _supplier(self, n: int) -> tuple[str, str, str]:
        country = self.rng.choice(("DE", "DE", "DE", "NL", "FR", "AT", "IT"))
        iban, bic = make_account(country, self.rng)
        return company_name(country, "en" if country == "NL" else "de", self.rng,
                            regional=n % 3 == 0), iban, bic

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
                    **adjustments: Decimal) -> _Draft:
        name, iban, bic, noise = self._payer(payer)
        numbers = [self.items[i].document_number for i, _ in settled]
        charges = adjustments.get("bank_charge", ZERO)
        payment = GeneratedPayment(
            bank_reference="", booking_date=day, value_date=day, amount=amount,
            currency=self.currency, scenario=scenario.value, counterparty_name=name,
            counterparty_iban=iban, counterparty_bic=bic,
            end_to_end_id=self._end_to_end(numbers), creditor_reference=creditor_reference,
            remittance_text=text.clip(remittance) if remittance else None,
            bank_transaction_code=CREDIT_TRANSFER, customer_id=owner,
            instructed_amount=amount - charges if charges else None,
            charges=-charges if charges else None)
        draft = _Draft(payment, tuple((n, a) for n, (_, a) in zip(numbers, settled, strict=True)),
                       expected=expected, noise=noise, **adjustments)
        if "new_iban" in noise and not remittance and not creditor_reference:
            draft.expected = "review"  # an unknown account and no reference: nothing to go on
        return draft

    def _language(self, customer: Customer) -> str:
        return customer.language if customer.language in ("de", "fr", "nl", "it", "es") else "en"

    def build(self, scenario: Scenario) -> _Draft | None:
        builder = getattr(self, f"_build_{scenario.value}")
        draft: _Draft | None = builder()
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

    def _build_rf_exact(self) -> _Draft | None:
        picked = self._single(Scenario.RF_EXACT, lambda i: i.payment_reference is not None)
        if picked is None:
            return self._build_document_in_text()
        index, item, customer, day = picked
        return self._receivable(Scenario.RF_EXACT, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)], None,
                                creditor_reference=item.payment_reference)

    def _build_document_in_text(self) -> _Draft | None:
        picked = self._single(Scenario.DOCUMENT_IN_TEXT)
        if picked is None:
            return None
        index, item, customer, day = picked
        return self._receivable(Scenario.DOCUMENT_IN_TEXT, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)],
                                self._spelled(item, customer))

    def _build_mistyped_reference(self) -> _Draft | None:
        picked = self._single(Scenario.MISTYPED_REFERENCE)
        if picked is None:
            return None
        index, item, customer, day = picked
        wrong = text.mistype(item.document_number, self.rng)
        core = text.spell_document(wrong, self._language(customer), self.rng)
        return self._receivable(Scenario.MISTYPED_REFERENCE, customer, customer.customer_id,
                                day, item.open_amount, [(index, item.open_amount)],
                                core, expected="review")

    def _build_no_reference(self) -> _Draft | None:
        picked = self._single(Scenario.NO_REFERENCE)
        if picked is None:
            return None
        index, item, customer, day = picked
        words = text.payment_words(self._language(customer), self.rng)
        remittance = self.rng.choice((None, words, f"{words} {customer.name}"))
        return self._receivable(Scenario.NO_REFERENCE, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)],
                                remittance, expected="review")

    def _several(self, scenario: Scenario, list_all: bool) -> _Draft | None:
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

    def _build_several_invoices(self) -> _Draft | None:
        return self._several(Scenario.SEVERAL_INVOICES, list_all=True)

    def _build_several_invoices_some_listed(self) -> _Draft | None:
        return self._several(Scenario.SEVERAL_INVOICES_SOME_LISTED, list_all=False)

    def _build_credit_note_netted(self) -> _Draft | None:
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

    def _build_partial_payment(self) -> _Draft | None:
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

    def _build_bank_charges(self) -> _Draft | None:
        picked = self._single(Scenario.BANK_CHARGES, lambda i: i.open_amount >= 100)
        if picked is None:
            return None
        index, item, customer, day = picked
        charge = cents(self.rng.choice((250, 500, 750, 1000, 1250, 1500,
                                        self.rng.randint(50, 1500))))
        return self._receivable(Scenario.BANK_CHARGES, customer, customer.customer_id, day,
                                item.open_amount - charge, [(index, item.open_amount)],
                                self._spelled(item, customer), bank_charge=-charge)

    def _discount(self, late: bool) -> _Draft | None:
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
        assert item.discount_rate is not None and item.discount_due_date is not None
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

    def _build_cash_discount(self) -> _Draft | None:
        return self._discount(late=False)

    def _build_late_discount(self) -> _Draft | None:
        return self._discount(late=True)

    def _build_overpayment(self) -> _Draft | None:
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

    def _build_parent_pays(self) -> _Draft | None:
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

    def _build_amount_collision(self) -> _Draft | None:
        picked = self._single(Scenario.AMOUNT_COLLISION, pool=self.twin_pool)
        if picked is None:
            return self._build_no_reference()
        index, item, customer, day = picked
        words = text.payment_words(self._language(customer), self.rng)
        return self._receivable(Scenario.AMOUNT_COLLISION, customer, customer.customer_id, day,
                                item.open_amount, [(index, item.open_amount)],
                                self.rng.choice((None, words)), expected="review")

    def _build_lookalike_numbers(self) -> _Draft | None:
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

    def duplicate_of(self, original: _Draft) -> _Draft | None:
        """The same invoice paid again a few days later: the cash stays unapplied."""
        later = [d for d in self.days if d > original.payment.booking_date]
        if not later:
            return None
        day = self.rng.choice(later[:5])
        payment = replace(original.payment, booking_date=day, value_date=day,
                          scenario=Scenario.DUPLICATE_PAYMENT.value,
                          end_to_end_id=self._end_to_end([]))
        return _Draft(payment, (), unapplied=payment.amount, expected="review",
                      noise=original.noise)

    # -- not receivables -----------------------------------------------------------------

    def _other(self, scenario: Scenario, amount_cents: int, name: str | None, iban: str | None,
               bic: str | None, remittance: str, code: str) -> _Draft:
        day = self.rng.choice(self.days)
        payment = GeneratedPayment(
            bank_reference="", booking_date=day, value_date=day, amount=cents(amount_cents),
            currency=self.currency, scenario=scenario.value, counterparty_name=name,
            counterparty_iban=iban, counterparty_bic=bic,
            end_to_end_id="NOTPROVIDED" if iban else None, creditor_reference=None,
            remittance_text=remittance, bank_transaction_code=code)
        return _Draft(payment, expected="not_receivable")

    def _build_tax_refund(self) -> _Draft:
        month = self.rng.randint(1, 9)
        return self._other(Scenario.TAX_REFUND, self.rng.randint(50000, 5000000),
                           "Finanzamt Muenchen", TAX_OFFICE_IBAN, "MARKDEF1700",
                           f"Erstattung USt {month:02d}/{self.days[0].year} StNr 143/"
                           f"{self.rng.randint(100, 999)}/{self.rng.randint(10000, 99999)}",
                           CREDIT_TRANSFER)

    def _build_interest(self) -> _Draft:
        month = self.days[0] - dt.timedelta(days=self.days[0].day)
        return self._other(Scenario.INTEREST, self.rng.randint(1000, 90000), None, None, None,
                           f"Habenzinsen {month.replace(day=1):%d.%m.%Y}-{month:%d.%m.%Y}",
                           INTEREST_CODE)

    def _build_intra_group(self) -> _Draft:
        iban, bic = make_account("DE", self.rng)
        return self._other(Scenario.INTRA_GROUP, self.rng.randint(1000000, 50000000),
                           "Demo Holding GmbH", iban, bic,
                           self.rng.choice(("Cash Pool Ausgleich", "Konzernverrechnung",
                                            "Intercompany funding")), BOOK_TRANSFER)

    def _build_loan(self) -> _Draft:
        return self._other(Scenario.LOAN, self.rng.randint(50, 500) * 100000, None, None, None,
                           f"Darlehensauszahlung Vertrag {self.rng.randint(10**9, 10**10 - 1)}",
                           LOAN_CODE)

    def _build_supplier_payment(self) -> _Draft:
        name, iban, bic = self.rng.choice(self.suppliers)
        return self._other(Scenario.SUPPLIER_PAYMENT, -self.rng.randint(5000, 4000000), name,
                           iban, bic, f"Rechnung {self.rng.randint(10000, 999999)} "
                           f"Kd {self.rng.randint(1000, 99999)}", OUTGOING_TRANSFER)

    def _build_bank_fee(self) -> _Draft:
        return self._other(Scenario.BANK_FEE, -self.rng.randint(250, 8500), None, None, None,
                           self.rng.choice(("Kontofuehrungsentgelt", "Entgelt SEPA-Posten",
                                            "Entgelt Auslandszahlung")), FEE_CODE)

    def is_receivable(self, draft: _Draft) -> bool:
        return Scenario(draft.payment.scenario) in RECEIVABLE
