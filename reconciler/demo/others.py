"""Transactions on the account that are not receivables: other credits (a tax refund,
interest, cash from the group, a loan drawdown) and the debits (supplier runs, bank fees).
A reconciler must leave all of them alone: applying one to an invoice is a false match."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from reconciler.demo.identifiers import make_account
from reconciler.demo.ledger import cents
from reconciler.demo.names import company_name
from reconciler.demo.scenario import Scenario
from reconciler.demo.transaction import (
    BOOK_TRANSFER,
    CREDIT_TRANSFER,
    FEE_CODE,
    INTEREST_CODE,
    LOAN_CODE,
    OUTGOING_TRANSFER,
    TAX_OFFICE_IBAN,
    Draft,
    GeneratedPayment,
)


class OtherTransactions:
    """Builders for the non-receivable scenarios; mixed into `PaymentFactory`."""

    rng: random.Random
    days: list[dt.date]
    currency: str
    suppliers: list[tuple[str, str, str]]

    def _make_supplier(self, n: int) -> tuple[str, str, str]:
        country = self.rng.choice(("DE", "DE", "DE", "NL", "FR", "AT", "IT"))
        iban, bic = make_account(country, self.rng)
        return company_name(country, "en" if country == "NL" else "de", self.rng,
                            regional=n % 3 == 0), iban, bic

    def _other(self, scenario: Scenario, amount_cents: int, name: str | None, iban: str | None,
               bic: str | None, remittance: str, code: str) -> Draft:
        day = self.rng.choice(self.days)
        payment = GeneratedPayment(
            bank_reference="", booking_date=day, value_date=day, amount=cents(amount_cents),
            currency=self.currency, scenario=scenario.value, counterparty_name=name,
            counterparty_iban=iban, counterparty_bic=bic,
            end_to_end_id="NOTPROVIDED" if iban else None, creditor_reference=None,
            remittance_text=remittance, bank_transaction_code=code)
        return Draft(payment, expected="not_receivable")

    def _build_tax_refund(self) -> Draft:
        month = self.rng.randint(1, 9)
        return self._other(Scenario.TAX_REFUND, self.rng.randint(50000, 5000000),
                           "Finanzamt Muenchen", TAX_OFFICE_IBAN, "MARKDEF1700",
                           f"Erstattung USt {month:02d}/{self.days[0].year} StNr 143/"
                           f"{self.rng.randint(100, 999)}/{self.rng.randint(10000, 99999)}",
                           CREDIT_TRANSFER)

    def _build_interest(self) -> Draft:
        month = self.days[0] - dt.timedelta(days=self.days[0].day)
        return self._other(Scenario.INTEREST, self.rng.randint(1000, 90000), None, None, None,
                           f"Habenzinsen {month.replace(day=1):%d.%m.%Y}-{month:%d.%m.%Y}",
                           INTEREST_CODE)

    def _build_intra_group(self) -> Draft:
        iban, bic = make_account("DE", self.rng)
        return self._other(Scenario.INTRA_GROUP, self.rng.randint(1000000, 50000000),
                           "Demo Holding GmbH", iban, bic,
                           self.rng.choice(("Cash Pool Ausgleich", "Konzernverrechnung",
                                            "Intercompany funding")), BOOK_TRANSFER)

    def _build_loan(self) -> Draft:
        return self._other(Scenario.LOAN, self.rng.randint(50, 500) * 100000, None, None, None,
                           f"Darlehensauszahlung Vertrag {self.rng.randint(10**9, 10**10 - 1)}",
                           LOAN_CODE)

    def _build_supplier_payment(self) -> Draft:
        name, iban, bic = self.rng.choice(self.suppliers)
        draft = self._other(Scenario.SUPPLIER_PAYMENT, -self.rng.randint(5000, 4000000), name,
                            iban, bic, f"Rechnung {self.rng.randint(10000, 999999)} "
                            f"Kd {self.rng.randint(1000, 99999)}", OUTGOING_TRANSFER)
        # Our own payment run sets the end-to-end id, as the ERP's payment program does.
        draft.payment = replace(draft.payment,
                                end_to_end_id=f"ZL{self.rng.randrange(10**10):010d}")
        return draft

    def _build_bank_fee(self) -> Draft:
        return self._other(Scenario.BANK_FEE, -self.rng.randint(250, 8500), None, None, None,
                           self.rng.choice(("Kontofuehrungsentgelt", "Entgelt SEPA-Posten",
                                            "Entgelt Auslandszahlung")), FEE_CODE)

    def fallback(self) -> Draft:
        """A transaction that needs no open item, for when the ledger has run out of them."""
        return self._build_supplier_payment()
