"""`:86:` layouts read into counterparty, references and remittance text."""

from __future__ import annotations

from parsers.mt940.details import (
    find_creditor_reference,
    is_valid_creditor_reference,
    join_wrapped_lines,
    parse_details,
)

GERMAN_SEPA = (
    "166?00SEPA-GUTSCHRIFT?100599?20EREF+RE-2024-0815?21KREF+K-77?22MREF+M-12?23CRED+DE98Z"
    "ZZ0\n9999999999?24SVWZ+Rechnung 2024-08?2515 vielen Dank?26ABWA+Tochter GmbH?30GENODEF1S"
    "01?31DE02100100100006820101?32Muster Handel GmbH?33 und Co KG"
)


def test_german_subfields_and_sepa_keywords() -> None:
    details = parse_details(GERMAN_SEPA)
    assert details.purpose_code == "166"
    assert details.extra["gvc"] == "166"
    assert details.extra["booking_text"] == "SEPA-GUTSCHRIFT"
    assert details.end_to_end_id == "RE-2024-0815"
    assert details.customer_reference == "K-77"
    assert details.mandate_reference == "M-12"
    # ?23/?24 are joined without a space: the creditor id was cut mid-word by the subfield.
    assert details.extra["creditor_id"] == "DE98ZZZ09999999999"
    assert details.remittance_text == "Rechnung 2024-0815 vielen Dank"
    assert details.ultimate_debtor == "Tochter GmbH"
    assert details.counterparty_bic == "GENODEF1S01"
    assert details.counterparty_iban == "DE02100100100006820101"
    assert details.counterparty_name == "Muster Handel GmbH und Co KG"


def test_german_subfields_60_to_63_continue_the_purpose() -> None:
    details = parse_details("166?00GUTSCHRIFT?20SVWZ+Teil eins?29 Teil?60 zwei?61 und drei")
    assert details.remittance_text == "Teil eins Teil zwei und drei"


def test_german_without_keywords_keeps_lines_apart() -> None:
    details = parse_details("051?00Gutschrift?10931?20SOME DESCRIPTION?21MORE DESC?3020010020"
                            "?310012345678?32HANS")
    assert details.remittance_text == "SOME DESCRIPTION MORE DESC"
    assert details.counterparty_iban == "0012345678"
    assert details.counterparty_bic == "20010020"


def test_german_notprovided_end_to_end_id_is_none() -> None:
    details = parse_details("177?00ONLINE?20EREF+NOTPROVIDED?21SVWZ+Miete")
    assert details.end_to_end_id is None
    assert details.remittance_text == "Miete"


def test_rf_creditor_reference_in_german_purpose() -> None:
    details = parse_details("166?00GUTSCHRIFT?20SVWZ+RF18 5390 0754 7034?21 RF18539007547034")
    assert details.creditor_reference == "RF18539007547034"


def test_triodos_000_prefix_with_angle_separator() -> None:
    details = parse_details("000>100555555555\n>20TENAAMSTELLING TEGENREKENIN>21G EN ADRES\n"
                            ">310666666666")
    assert details.counterparty_iban == "0555555555"
    assert details.purpose_code is None
    assert details.remittance_text == "TENAAMSTELLING TEGENREKENIN G EN ADRES"


def test_abn_amro_sepa_layout_wrapped_mid_word() -> None:
    details = parse_details(
        "/TRTP/SEPA OVERBOEKING/IBAN/FR12345678901234/BIC/GEFRADAM\n"
        "/NAME/QASD JGRED/REMI/Dit zijn de omschrijvingsregels/EREF/NOTPRO\nVIDED")
    assert details.counterparty_iban == "FR12345678901234"
    assert details.counterparty_bic == "GEFRADAM"
    assert details.counterparty_name == "QASD JGRED"
    assert details.remittance_text == "Dit zijn de omschrijvingsregels"
    assert details.end_to_end_id is None
    assert details.extra["transaction_type"] == "SEPA OVERBOEKING"


def test_ing_cntp_and_unstructured_remittance() -> None:
    details = parse_details(
        "/EREF/EV12341REP1231456T1234//CNTP/NL32INGB0000012345/INGBNL2\n"
        "A/ING BANK NV INZAKE WEB/AMSTERDAM//REMI/USTD//EV10001REP1000000T1000/")
    assert details.end_to_end_id == "EV12341REP1231456T1234"
    assert details.counterparty_iban == "NL32INGB0000012345"
    assert details.counterparty_bic == "INGBNL2A"
    assert details.counterparty_name == "ING BANK NV INZAKE WEB"
    assert details.extra["counterparty_city"] == "AMSTERDAM"
    assert details.remittance_text == "EV10001REP1000000T1000"


def test_ing_structured_reference() -> None:
    details = parse_details("/EREF/X//CNTP/NL32INGB0000012345/INGBNL2A/Klant///REMI/STRD/CUR/"
                            "1234567890123456/")
    assert details.creditor_reference == "1234567890123456"
    assert details.extra["creditor_reference_issuer"] == "CUR"


def test_ing_return_and_direct_debit_fields() -> None:
    details = parse_details("/RTRN/MS03//EREF/E1//MARF/MND-1//CSID/NL32ZZZ999999991234//CNTP/"
                            "NL32INGB0000012345/INGBNL2A/J.Janssen///REMI/USTD//Factuur 1/")
    assert details.return_reason == "MS03"
    assert details.mandate_reference == "MND-1"
    assert details.extra["creditor_id"] == "NL32ZZZ999999991234"


def test_rabobank_ordering_party_layout() -> None:
    details = parse_details(
        "/ORDP//NAME/R. SMITH/ADDR/Green market 74 3311BE Sheepcity Nederl\n"
        "and NL/REMI/Test money paid by other partner:\n/ISDT/2014-01-02")
    assert details.counterparty_name == "R. SMITH"
    assert details.extra["counterparty_address"] == "Green market 74 3311BE Sheepcity Nederland NL"
    assert details.remittance_text == "Test money paid by other partner:"
    assert details.extra["instruction_date"] == "2014-01-02"


def test_rabobank_beneficiary_layout() -> None:
    details = parse_details("/BENM//NAME/Kosten/REMI/Periode 01-10-2013 t/m 31-12-2013/ISDT/20\n"
                            "14-01-01")
    assert details.counterparty_name == "Kosten"
    assert details.remittance_text == "Periode 01-10-2013 t/m 31-12-2013"


def test_knab_word_wrapped_lines_get_their_space_back() -> None:
    details = parse_details("/TRTP/SEPA\nOVERBOEKING/BBAN/90000014/BIC/KNABNL2HXXX/NAME/KNAB")
    assert details.extra["transaction_type"] == "SEPA OVERBOEKING"
    assert details.counterparty_iban == "90000014"


def test_asn_iban_and_name_first_line() -> None:
    details = parse_details("NL29INGB0006475121 j blom\n" + " " * 65 +
                            "\nSalaris december 2019   \n" + " " * 65)
    assert details.counterparty_iban == "NL29INGB0006475121"
    assert details.counterparty_name == "j blom"
    assert details.remittance_text == "Salaris december 2019"


def test_asn_direct_debit_with_slash_keywords_after_the_first_line() -> None:
    # ASN fills every line to 65 columns and cuts wherever the 65th character falls.
    first = "/TRTP/Zakelijke Europese Incasso/CSID/NL36ZZZ340698640000/NAME/MU"
    assert len(first) == 65
    details = parse_details("NL44ABNA0548041814 multi tank card bv\n" + first +
                            "\nLTI TANK CARD BV/MARF/MTC244K/REMI/Factuur 7/EREF/1755481".ljust(65))
    assert details.counterparty_name == "MULTI TANK CARD BV"
    assert details.counterparty_iban == "NL44ABNA0548041814"
    assert details.mandate_reference == "MTC244K"
    assert details.end_to_end_id == "1755481"
    assert details.remittance_text == "Factuur 7"


def test_old_abn_amro_fixed_columns() -> None:
    details = parse_details("GIRO   428428 KPN BV             BETALINGSKENM.  000000018503995\n"
                            "5109227317                       BETREFT FACTUUR D.D. 20-06-2009")
    assert details.counterparty_iban == "428428"
    assert details.counterparty_name == "KPN BV"
    assert details.remittance_text is not None
    assert details.remittance_text.startswith("GIRO 428428 KPN BV BETALINGSKENM.")


def test_old_abn_amro_dotted_account() -> None:
    details = parse_details("64.45.12.113 G.B. ROTTERDAM     AANSLAGBILJETNUMMER 30076145")
    assert (details.counterparty_iban, details.counterparty_name) == \
        ("64.45.12.113", "G.B. ROTTERDAM")


def test_unknown_layout_is_remittance_text() -> None:
    details = parse_details("911 TRANSAKCJA COLLECT; ID IPH: XX01;\nTYT.: PRZELEW   ; TNR: 1")
    assert details.remittance_text == "911 TRANSAKCJA COLLECT; ID IPH: XX01; TYT.: PRZELEW ; TNR: 1"
    assert details.counterparty_iban is None
    assert details.creditor_reference is None


def test_creditor_reference_check_digits() -> None:
    assert is_valid_creditor_reference("RF18539007547034")
    assert not is_valid_creditor_reference("RF19539007547034")
    assert find_creditor_reference("Invoice RF18539007547034 thanks") == "RF18539007547034"
    assert find_creditor_reference("RF19539007547034") is None
    assert find_creditor_reference(None) is None


def test_join_wrapped_lines_by_width() -> None:
    assert join_wrapped_lines("a" * 61 + "\nbc") == "a" * 61 + "bc"
    assert join_wrapped_lines("short\nnext") == "short next"
    assert join_wrapped_lines("x\n" + "b" * 65 + "\nc") == "x " + "b" * 65 + "c"


def test_german_layout_may_open_with_any_subfield_after_the_gvc() -> None:
    # Kontist writes no booking text: the GVC is followed straight by ?30.
    details = parse_details("166?30SPKRDE33XXX?31DE59320500000001908722?32CHRISTIAN BENDT")
    assert (details.counterparty_bic, details.counterparty_iban, details.counterparty_name) == \
        ("SPKRDE33XXX", "DE59320500000001908722", "CHRISTIAN BENDT")


def test_identifiers_lose_spaces_from_wrapping_and_grouping() -> None:
    # Knab cut the BIC on a short line: the width rule put a space into it.
    details = parse_details("/TRTP/OVERBOEKING/IBAN/DE89 3704 0044 0532 0130 00/BIC/SXPYDEHHXX\n"
                            "X/NAME/STRIPE PAYMENTS UK LTD/REMI/SHOPIFY D3DJ2")
    assert details.counterparty_bic == "SXPYDEHHXXX"
    assert details.counterparty_iban == "DE89370400440532013000"
    assert details.counterparty_name == "STRIPE PAYMENTS UK LTD"
