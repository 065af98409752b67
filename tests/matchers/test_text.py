"""Reading remittance text: keys of document numbers, RF check digits, names, look-alikes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchers.text import (
    compact,
    digit_keys,
    document_keys,
    find_creditor_references,
    is_valid_creditor_reference,
    mask_lookalikes,
    name_variants,
    normalise_name,
    reference_candidates,
    sorted_words,
)


def test_document_keys_cover_prefix_separators_and_leading_zeros() -> None:
    assert document_keys("INV-2026-00123") == ("INV202600123", ("202600123", "2026123"))
    assert document_keys("inv 2026/123") == ("INV2026123", ("2026123",))
    assert document_keys("RE-0004711") == ("RE0004711", ("4711",))


def test_short_or_letter_broken_numbers_give_no_digit_key() -> None:
    assert digit_keys("INV-12") == ()  # three significant digits would collide with everything
    assert digit_keys("AB12CD3456") == ()


def test_compact_folds_case_separators_and_accents() -> None:
    assert compact(" inv-2026/00.123 ") == "INV202600123"
    assert compact("Rë-1") == "RE1"


@pytest.mark.parametrize("reference", ["RF18539007547034", "RF18 5390 0754 7034",
                                       "rf18000000000539007547034"])
def test_valid_creditor_references(reference: str) -> None:
    assert is_valid_creditor_reference(reference)


@pytest.mark.parametrize("reference", ["RF19539007547034", "RF18539007547035", "RF1", "DE18539"])
def test_creditor_references_with_bad_check_digits_are_refused(reference: str) -> None:
    assert not is_valid_creditor_reference(reference)


def test_creditor_references_in_free_text() -> None:
    valid, invalid = find_creditor_references("Zahlung RF18 5390 0754 7034 und RF19 5390 0754 7034")
    assert valid == ["RF18539007547034"]
    assert invalid == ["RF19539007547034"]


def test_names_lose_legal_form_case_and_punctuation() -> None:
    assert normalise_name("Müller Bau GmbH & Co. KG") == "mueller bau"
    assert normalise_name("ACME S.A.") == "acme"
    assert normalise_name("GmbH") == "gmbh"  # a name that is only a legal form keeps it


def test_umlauts_are_indexed_both_ways() -> None:
    assert name_variants("Müller Bau GmbH") == ("mueller bau", "muller bau")
    assert name_variants("Acme GmbH") == ("acme",)


@pytest.mark.parametrize("text, hidden", [
    ("Auftrag 4711 Rechnung 2026-123", "4711"),
    ("Kd-Nr. 10045 RE 5566", "10045"),
    ("Kundennummer: 10045", "10045"),
    ("PO 889900 inv 5566", "889900"),
    ("Lieferung vom 12.11.2026", "12.11.2026"),
    ("Datum 2026-11-12", "2026-11-12"),
    ("Betrag 1.234,56 EUR", "1.234,56"),
    ("von DE89 3704 0044 0532 0130 00", "3704 0044"),
    ("Hauptstr. 5, 80331 München", "80331"),
    ("D-80331 MUENCHEN", "80331"),
    ("EREF+INV-1 MREF+M-778899 CRED+DE98ZZZ09999999999", "778899"),
    ("Bestelling 2026-00747", "2026-00747"),
    ("Ordine 2026-18583 INV 2026 02607", "2026-18583"),
    ("DDT 2026-00918", "2026-00918"),
    ("Albarán 2026-26232", "2026-26232"),
    ("N° client 10234", "10234"),
    ("Commande 4500012345", "4500012345"),
])
def test_lookalikes_are_masked(text: str, hidden: str) -> None:
    masked = mask_lookalikes(text)
    assert len(masked) == len(text)
    start = text.index(hidden)
    assert set(masked[start:start + len(hidden)]) <= {"|", " ", ".", ",", "-"}


def test_numbers_that_may_be_invoices_stay() -> None:
    masked = mask_lookalikes("Rechnung 80331 Danke")
    assert "80331" in masked


def test_fragment_of_the_payers_own_account_is_masked() -> None:
    masked = mask_lookalikes("Konto-Uebertrag 0532013000", payer_iban="DE89370400440532013000")
    assert "0532013000" not in masked


def test_candidates_join_a_number_split_across_lines() -> None:
    found = {c.full for c in reference_candidates("Rechnung INV-2026-00\n123 danke")}
    assert "INV202600123" in found


def test_candidates_join_german_subfields() -> None:
    found = {c.full for c in reference_candidates("?20SVWZ+RE 2026-00?21123")}
    assert "RE202600123" in found


def test_candidates_know_an_invoice_word() -> None:
    labelled = {c.full: c.labelled for c in reference_candidates("Rechnung 4711, Lieferung 55")}
    assert labelled["4711"] is True
    assert labelled["55"] is False


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ABinv0123456789-/. _Äß", max_size=16))
def test_document_keys_are_the_compacted_number_and_its_digit_keys(number: str) -> None:
    # The index computes both keys in one pass; it must agree with the two readers of text.
    assert document_keys(number) == (compact(number), digit_keys(number))


def test_sorted_words_make_word_order_irrelevant() -> None:
    assert sorted_words("mueller bau") == sorted_words("bau mueller") == "bau mueller"
