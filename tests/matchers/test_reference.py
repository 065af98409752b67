"""The exact reference matcher: references in every spelling, look-alikes that must not match,
and how the amount turns a reference into a confident or a cautious proposal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from matchers.reference import ReferenceMatcher, scan_references
from reconciler.domain import AdjustmentKind, ItemStatus, OpenItem, Payment, Proposal
from tests.matchers.builders import (
    IBAN_C1,
    IBAN_C2,
    SETTINGS,
    TODAY,
    customer,
    default_customers,
    documents,
    item,
    pay,
    view,
)

AUTO = SETTINGS.auto_threshold
matcher = ReferenceMatcher(SETTINGS)


def ledger(*extra: OpenItem) -> list[OpenItem]:
    return [item("INV-2026-00123", "100.00"), item("INV-2026-00124", "250.00"),
            item("RE-4711", "80.00", "C2"), item("2026-55810", "42.00", "C3"), *extra]


def propose(payment: Payment, items: list[OpenItem] | None = None,
            closed: Sequence[OpenItem] = ()) -> Sequence[Proposal]:
    return matcher.propose(payment, view(default_customers(), items or ledger(), closed=closed))


@pytest.mark.parametrize("text", [
    "INV-2026-00123",
    "inv 2026 00123",
    "Rechnung INV2026-00123",
    "RE 2026/123",
    "Rechnungsnr. 202600123",
    "Invoice no 2026-0123 thanks",
    "INV-2026-00\n123",
    "INV-2026-\n00123",
    "SVWZ+RG 2026-00?21123 DANKE",
])
def test_document_number_in_any_spelling_is_found(text: str) -> None:
    proposals = propose(pay("100.00", text))
    assert len(proposals) == 1
    assert documents(proposals[0]) == {"INV-2026-00123"}
    assert proposals[0].confidence >= AUTO
    assert "INV-2026-00123" in proposals[0].explanation


def test_reference_in_end_to_end_id() -> None:
    proposals = propose(pay("100.00", "Danke", e2e="INV-2026-00123"))
    assert documents(proposals[0]) == {"INV-2026-00123"}


def test_several_documents_in_one_payment() -> None:
    proposals = propose(pay("350.00", "Rechnungen INV-2026-00123 und INV-2026-00124"))
    assert documents(proposals[0]) == {"INV-2026-00123", "INV-2026-00124"}
    assert proposals[0].confidence >= AUTO


def test_verified_creditor_reference_matches() -> None:
    items = [item("INV-9", "500.00", reference="RF18539007547034")]
    proposals = propose(pay("500.00", reference="RF18 5390 0754 7034"), items)
    assert documents(proposals[0]) == {"INV-9"}
    assert any(e.kind == "reference" and "creditor-reference" in e.detail
               for e in proposals[0].evidence)


def test_creditor_reference_with_wrong_check_digits_does_not_match() -> None:
    items = [item("INV-9", "500.00", reference="RF18539007547034")]
    assert propose(pay("500.00", reference="RF19539007547034"), items) == []


@pytest.mark.parametrize("text", [
    "Auftrag 202600123",  # an order number that looks like the invoice's digits
    "Kundennr. 2026-00123",
    "PO 2026 00123",
    "Tel. 2026-00123",  # a phone number
    "vom 2026-01-23",  # a date: digits 20260123 would look like 2026123 with zeros stripped
    "Betrag 2.026,00 EUR",
    "IBAN DE89 3704 0044 0532 0130 00",
])
def test_lookalikes_do_not_match(text: str) -> None:
    proposals = propose(pay("100.00", text))
    assert all(p.confidence < AUTO for p in proposals)
    assert all("INV-2026-00123" not in documents(p) for p in proposals)


def test_postcode_is_not_an_invoice() -> None:
    items = [item("55810", "42.00", "C3")]
    assert propose(pay("42.00", "Lieferadresse Hauptstr. 5, 55810 Mainz"), items) == []
    assert documents(propose(pay("42.00", "Rechnung 55810"), items)[0]) == {"55810"}


def test_payers_own_account_number_is_not_an_invoice() -> None:
    items = [item("0532013000", "42.00", "C3")]
    payment = pay("42.00", "Uebertrag von 0532013000", iban=IBAN_C1)
    assert propose(payment, items) == []


def test_bare_customer_number_is_not_an_invoice() -> None:
    customers = [*default_customers(), customer("4711", "Kunde mit Nummer")]
    proposals = matcher.propose(pay("80.00", "4711"), view(customers, ledger()))
    assert proposals == []


def test_cash_discount_taken_in_time_settles_in_full() -> None:
    items = [item("INV-7", "1000.00", discount="0.02", discount_until=TODAY)]
    proposal = propose(pay("980.00", "INV-7"), items)[0]
    assert proposal.allocations[0].amount == pytest.approx(980)
    assert str(proposal.allocations[0].discount) == "20.00"
    assert proposal.confidence >= AUTO


def test_late_cash_discount_is_a_short_payment() -> None:
    items = [item("INV-7", "1000.00", discount="0.02", discount_until=TODAY - dt.timedelta(1))]
    proposal = propose(pay("980.00", "INV-7"), items)[0]
    # The expired discount stays open on the item; neither a bank charge nor a write-off.
    assert proposal.adjustments == ()
    assert [(a.amount, a.discount) for a in proposal.allocations] == [(980, 0)]
    assert proposal.confidence < AUTO


def test_short_payment_beyond_bank_charges_is_written_off_under_the_limit() -> None:
    items = [item("INV-8", "1000.00")]
    proposal = propose(pay("960.00", "INV-8"), items)[0]
    assert [(a.kind, str(a.amount)) for a in proposal.adjustments] == \
        [(AdjustmentKind.WRITE_OFF, "-40.00")]
    assert proposal.confidence < AUTO
    partial = propose(pay("60.00", "INV-2026-00123"))[0]  # 40.00 short of 100.00: partial
    assert partial.adjustments == () and partial.allocated == 60


def test_several_invoices_listed_by_their_short_form() -> None:
    items = [item("INV-2026-03015", "875.84"), item("INV-2026-03963", "971.04"),
             item("INV-2026-03964", "10.00")]
    proposal = propose(pay("1846.88", "Rg. 2026-03015/03963", iban=IBAN_C1), items)[0]
    assert documents(proposal) == {"INV-2026-03015", "INV-2026-03963"}
    assert proposal.confidence >= AUTO


def test_bank_charges_inside_tolerance() -> None:
    proposal = propose(pay("93.50", "INV-2026-00123"))[0]
    assert proposal.adjustments[0].kind is AdjustmentKind.BANK_CHARGE
    assert str(proposal.adjustments[0].amount) == "-6.50"
    assert proposal.allocated + proposal.adjusted == pay("93.50").amount
    assert proposal.confidence >= AUTO


def test_partial_payment_is_suggested() -> None:
    proposal = propose(pay("40.00", "INV-2026-00123"))[0]
    assert str(proposal.allocations[0].amount) == "40.00"
    assert proposal.adjustments == ()
    assert SETTINGS.suggest_threshold <= proposal.confidence < AUTO


def test_overpayment_goes_to_unapplied_cash() -> None:
    proposal = propose(pay("130.00", "INV-2026-00123"))[0]
    assert [(a.kind, str(a.amount)) for a in proposal.adjustments] == \
        [(AdjustmentKind.UNAPPLIED, "30.00")]
    assert proposal.confidence < AUTO


def test_excess_as_large_as_the_items_weighs_more_than_a_small_one() -> None:
    # Paying 250 for a 100 invoice is more likely further invoices than an overpayment.
    small = propose(pay("130.00", "INV-2026-00123"))[0]
    large = propose(pay("250.00", "INV-2026-00123"))[0]
    assert any(e.kind == "overpayment" and "at least what the items settle" in e.detail
               for e in large.evidence)
    assert large.confidence < small.confidence


def test_reference_to_closed_item_is_evidence_not_a_match() -> None:
    closed = [item("INV-1", "100.00", open_amount="0.00", status=ItemStatus.CLOSED)]
    proposals = propose(pay("100.00", "INV-1"), ledger(), closed=closed)
    assert len(proposals) == 1
    assert proposals[0].allocations == ()
    assert proposals[0].adjustments[0].kind is AdjustmentKind.UNAPPLIED
    assert proposals[0].confidence < AUTO


def test_reference_to_other_customers_item_is_not_auto() -> None:
    proposal = propose(pay("80.00", "RE-4711", iban=IBAN_C1))[0]
    assert documents(proposal) == {"RE-4711"}
    assert any(e.kind == "conflict" for e in proposal.evidence)
    assert proposal.confidence < AUTO


def test_group_member_may_pay_a_subsidiarys_invoice() -> None:
    customers = [customer("P", "Parent Holding AG", IBAN_C1), customer("S", "Sub GmbH", parent="P")]
    proposals = matcher.propose(pay("80.00", "INV-88", iban=IBAN_C1),
                                view(customers, [item("INV-88", "80.00", "S")]))
    assert proposals[0].customer_id == "P"
    assert not any(e.kind == "conflict" for e in proposals[0].evidence)


def test_unknown_cited_document_lowers_confidence() -> None:
    proposal = propose(pay("100.00", "Rechnung INV-2026-00123 und Rechnung 99887766"))[0]
    assert any(e.kind == "unresolved" for e in proposal.evidence)
    assert proposal.confidence < AUTO


def test_same_digits_on_two_customers_prefer_the_payer() -> None:
    items = [item("INV-5555", "10.00", "C1"), item("CN-5555", "10.00", "C2")]
    proposals = propose(pay("10.00", "5555", iban=IBAN_C2), items)
    assert documents(proposals[0]) == {"CN-5555"}


def test_same_digits_without_payer_is_ambiguous() -> None:
    items = [item("INV-5555", "10.00", "C1"), item("AB-5555", "10.00", "C2")]
    proposals = propose(pay("10.00", "5555"), items)
    assert len(proposals) == 2
    assert all(p.confidence < AUTO for p in proposals)


def test_other_currency_item_is_not_matched() -> None:
    items = [item("INV-77", "100.00", currency="USD")]
    proposals = propose(pay("100.00", "INV-77"), items)
    assert all(p.allocations == () for p in proposals)


def test_scan_reports_hits_in_order() -> None:
    v = view(default_customers(), ledger())
    scan = scan_references(pay("1.00", "RE-4711 / INV-2026-00124"), v)
    assert [i.document_number for h in scan.hits for i in h.open_items] == \
        ["RE-4711", "INV-2026-00124"]


def test_no_reference_no_proposal() -> None:
    assert propose(pay("100.00", "Miete November", iban=IBAN_C2)) == []


def test_short_form_needs_a_known_payer() -> None:
    items = [item("INV-2026-02585", "16689.75")]
    known = propose(pay("16685.14", "Rechnung Nr. 2585", iban=IBAN_C1), items)
    assert documents(known[0]) == {"INV-2026-02585"}
    assert known[0].confidence >= AUTO
    assert propose(pay("16685.14", "Rechnung Nr. 2585"), items) == []


def test_part_payment_words() -> None:
    proposal = propose(pay("100.00", "Teilzahlung INV-2026-00123"))[0]
    assert any("part payment" in e.detail for e in proposal.evidence)
    assert proposal.confidence < AUTO


def test_prefix_tells_credit_note_from_invoice_with_the_same_digits() -> None:
    items = [item("INV-2026-00275", "500.00", "C2"), item("CN-2026-00275", "-20.00")]
    scan = scan_references(pay("1.00", "cn 2026 275"), view(default_customers(), items))
    assert [i.document_number for h in scan.hits for i in h.open_items] == ["CN-2026-00275"]


def test_reference_to_an_item_of_the_customer_the_name_is_not_is_not_auto() -> None:
    proposal = propose(pay("80.00", "RE-4711", name="Acme Handels GmbH"))[0]
    assert documents(proposal) == {"RE-4711"}
    assert any(e.kind == "conflict" and "payer name" in e.detail for e in proposal.evidence)
    assert proposal.confidence < AUTO
