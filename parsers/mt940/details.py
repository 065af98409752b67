"""Structured reading of the `:86:` information to account owner.

Banks fill `:86:` in one of a few layouts; `parse_details` recognises them in turn:

- German (DFÜ-Abkommen) subfields `166?00GUTSCHRIFT?10...?20EREF+...?30BIC?31IBAN?32Name`,
  and the same with `>` as separator after Triodos's `000` prefix;
- slash keywords: ABN AMRO `/TRTP/.../IBAN/.../BIC/.../NAME/.../REMI/.../EREF/`, ING
  `/EREF/.../CNTP/iban/bic/name/city/.../REMI/USTD//text/` or `/REMI/STRD/CUR/ref/`,
  Rabobank `/ORDP//NAME/.../ADDR/.../REMI/...` and `/BENM//...`, bunq `/IBAN/.../NAME/`;
- ASN / SNS: the counterparty IBAN and name on the first line, the description after it;
- old ABN AMRO fixed columns: `GIRO  428428 KPN BV ...` or a dotted account and a name.

Anything else is unstructured: the whole text becomes the remittance text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# ISO 11649 creditor reference: RF, two check digits, up to 21 letters or digits.
_RF_REFERENCE = re.compile(r"\bRF\d{2}[A-Z0-9]{1,21}\b")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_NOT_PROVIDED = {"", "NOTPROVIDED", "NONREF", "NOT PROVIDED"}


@dataclass(slots=True)
class Details:
    """What `:86:` says about a transaction; every field is optional."""

    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    end_to_end_id: str | None = None
    remittance_text: str | None = None
    creditor_reference: str | None = None
    mandate_reference: str | None = None
    customer_reference: str | None = None
    purpose_code: str | None = None
    ultimate_debtor: str | None = None
    return_reason: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def is_valid_creditor_reference(reference: str) -> bool:
    """ISO 11649 check: move 'RFnn' to the end, letters to numbers, the result mod 97 is 1."""
    text = reference[4:] + reference[:4]
    digits = "".join(str(int(char, 36)) for char in text)
    return int(digits) % 97 == 1


def find_creditor_reference(text: str | None) -> str | None:
    """A structured RF creditor reference inside free text, when its check digits hold."""
    if not text or "RF" not in text:
        return None
    for match in _RF_REFERENCE.finditer(text.upper()):
        if is_valid_creditor_reference(match.group(0)):
            return match.group(0)
    return None


def _clean(value: str | None) -> str | None:
    """Whitespace runs (column padding, line breaks) become one space; NOTPROVIDED is None."""
    if not value:
        return None
    value = value.strip()
    if "  " in value or "\n" in value or "\t" in value:
        value = " ".join(value.split())
    if len(value) <= _LONGEST_NOT_PROVIDED and value.upper() in _NOT_PROVIDED:
        return None
    return value


_LONGEST_NOT_PROVIDED = max(len(text) for text in _NOT_PROVIDED)


# ---------------------------------------------------------------------------------------------
# German ?NN subfields (and Triodos >NN)
# ---------------------------------------------------------------------------------------------

# A three-digit GVC and the first subfield (`166?00`, `166?30` at Kontist, Triodos `000>10`);
# without the GVC, the text must open with ?00, ?10 or ?20.
_GERMAN_START = re.compile(r"(?P<gvc>\d{3})(?P<sep>[?>])\d\d|(?P<sep_only>\?)(?:00|10|20)")
# SEPA keywords inside the purpose subfields (?20-?29, ?60-?63), per DFÜ-Abkommen Anlage 3.
_SEPA_KEYWORD = re.compile(
    r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|SQTP|PURP|RTRN)\+"
)
_PURPOSE_SUBFIELDS = frozenset(f"{n}" for n in (*range(20, 30), *range(60, 64)))
_SUBFIELD_SPLIT = {"?": re.compile(r"\?(\d\d)"), ">": re.compile(r">(\d\d)")}
# Keyword -> Details attribute, and keyword -> name in `extra`.
_SEPA_FIELDS = {"EREF": "end_to_end_id", "KREF": "customer_reference",
                "MREF": "mandate_reference", "ABWA": "ultimate_debtor", "RTRN": "return_reason",
                "PURP": "purpose_code"}
_SEPA_EXTRA = {"CRED": "creditor_id", "DEBT": "debtor_id", "ABWE": "ultimate_creditor",
               "COAM": "compensation_amount", "OAMT": "original_amount",
               "SQTP": "sequence_type"}


def _german_subfields(body: str, separator: str) -> dict[str, str]:
    parts = _SUBFIELD_SPLIT[separator].split(body)
    fields: dict[str, str] = {}
    for index in range(1, len(parts) - 1, 2):
        key, value = parts[index], parts[index + 1]
        fields[key] = fields.get(key, "") + value
    return fields


def parse_german(text: str) -> Details | None:
    """`166?00SEPA-UEBERWEISUNG?100599?20EREF+...?21SVWZ+...?30BIC?31IBAN?32Name?33Name`.

    Lines are wrapped at 65 characters anywhere, even inside a word, so line breaks are
    removed, not turned into spaces. The purpose subfields ?20-?29 and ?60-?63 are likewise
    joined as they are, and then split on the SEPA keywords (`EREF+`, `SVWZ+`, ...).
    """
    flat = text.replace("\n", "")
    match = _GERMAN_START.match(flat)
    if not match:
        return None
    separator = match.group("sep") or match.group("sep_only")
    fields = _german_subfields(flat[match.end("gvc") if match.group("gvc") else 0:], separator)
    details = Details()
    gvc = match.group("gvc")
    if gvc and gvc != "000":  # Triodos writes 000 where German banks put the GVC
        details.purpose_code = gvc
        details.extra["gvc"] = gvc
    if fields.get("00"):
        details.extra["booking_text"] = " ".join(fields["00"].split())
    if fields.get("10"):
        details.extra["primanota"] = fields["10"].strip()
    purpose_parts = sorted((key, value) for key, value in fields.items()
                           if key in _PURPOSE_SUBFIELDS)
    keywords = _split_sepa_keywords("".join(value for _, value in purpose_parts))
    if keywords:
        for key, value in keywords.items():
            if key in _SEPA_FIELDS:
                cleaned = _clean(value)
                if cleaned:
                    setattr(details, _SEPA_FIELDS[key], cleaned)
            elif key in _SEPA_EXTRA:
                cleaned = _clean(value)
                if cleaned:
                    details.extra[_SEPA_EXTRA[key]] = cleaned
        details.remittance_text = _clean(keywords.get("SVWZ") or keywords.get(""))
    else:
        # Pre-SEPA texts have no keywords: each subfield is a 27-character line of its own.
        details.remittance_text = _clean(" ".join(value for _, value in purpose_parts))
    if separator == ">":
        # Triodos: >10 is the counterparty's account (zeros when there is none); >31 repeats
        # the statement's own account.
        account = (details.extra.pop("primanota", None) or "").strip()
        details.counterparty_iban = account if account.strip("0") else None
    else:
        details.counterparty_bic = _clean(fields.get("30"))
        details.counterparty_iban = _clean(fields.get("31")) or _clean(keywords.get("IBAN"))
        name = (fields.get("32") or "") + (fields.get("33") or "")
        details.counterparty_name = _clean(name)
    details.creditor_reference = find_creditor_reference(details.remittance_text)
    return details


def _split_sepa_keywords(purpose: str) -> dict[str, str]:
    """{'EREF': ..., 'SVWZ': ..., '': text before the first keyword}; {} without keywords."""
    parts = _SEPA_KEYWORD.split(purpose)
    if len(parts) == 1:
        return {}
    found: dict[str, str] = {"": parts[0]} if parts[0].strip() else {}
    for index in range(1, len(parts) - 1, 2):
        key = parts[index]
        found[key] = found[key] + parts[index + 1] if key in found else parts[index + 1]
    return found


# ---------------------------------------------------------------------------------------------
# Slash keywords: ABN AMRO, ING, Rabobank, bunq
# ---------------------------------------------------------------------------------------------

_SLASH_KEYS = (
    "TRTP|IBAN|BBAN|BIC|NAME|REMI|EREF|MARF|CSID|ORDP|BENM|ADDR|CNTP|ISDT|RTRN|PREF|PURP|"
    "ULTB|ULTD|ID|SVCL|IREF|KREF|ACCW|TRCD|BUSP|CDTRREFTP|CDTRREF|FX|EXCH|COAM|OAMT|CHGS|SUM"
)
_SLASH_KEYWORD = re.compile(rf"/({_SLASH_KEYS})/")


# SWIFT lines are at most 65 characters; the first line of :86: shares them with the tag.
_LINE_WIDTH = 65
_TAG_WIDTH = 4


def join_wrapped_lines(text: str) -> str:
    """Undo the bank's line wrapping of `:86:`.

    A line filled to the full width was cut wherever the 65th character fell, mid-word
    (ABN AMRO, ING, Rabobank: `Nederl` / `and`), so it joins the next one directly. A shorter
    line was broken at a space, which the bank dropped (Knab: `/TRTP/SEPA` / `OVERBOEKING`),
    so a space goes back in.
    """
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pieces: list[str] = []
    for index, line in enumerate(lines[:-1]):
        width = _LINE_WIDTH - _TAG_WIDTH if index == 0 else _LINE_WIDTH
        pieces.append(line)
        pieces.append("" if len(line) >= width else " ")
    pieces.append(lines[-1])
    return "".join(pieces)


def parse_slash_keywords(text: str) -> Details | None:
    """ABN AMRO, ING, Rabobank, Knab and bunq SEPA layouts: `/KEY/value/KEY/value...`.

    Only known keywords split the text, so a '/' inside a description stays part of it.
    """
    flat = join_wrapped_lines(text)
    if not _SLASH_KEYWORD.match(flat):
        return None
    parts = _SLASH_KEYWORD.split(flat)
    values: dict[str, str] = {}
    for index in range(1, len(parts) - 1, 2):
        key, value = parts[index], parts[index + 1]
        values.setdefault(key, value.strip())
    details = Details()
    if "CNTP" in values:
        # ING: /CNTP/account/BIC/name/city/
        pieces = values["CNTP"].split("/")
        pieces += [""] * (4 - len(pieces))
        details.counterparty_iban = _clean(pieces[0])
        details.counterparty_bic = _clean(pieces[1])
        details.counterparty_name = _clean(pieces[2])
        if _clean(pieces[3]):
            details.extra["counterparty_city"] = _clean(pieces[3]) or ""
    for party in ("ORDP", "BENM"):
        # Rabobank: /ORDP//NAME/... (ordering party) or /BENM//NAME/... (beneficiary); the
        # party's own identification (IBAN, BIC) may sit in the value itself.
        if party in values and values[party].strip("/"):
            details.extra[party.lower()] = values[party].strip("/")
    for key, value in values.items():
        if key in _SLASH_FIELDS:
            cleaned = _clean(value.rstrip("/"))
            if cleaned and not getattr(details, _SLASH_FIELDS[key]):
                setattr(details, _SLASH_FIELDS[key], cleaned)
        elif key in _SLASH_EXTRA:
            cleaned = _clean(value.rstrip("/"))
            if cleaned:
                details.extra[_SLASH_EXTRA[key]] = cleaned
    _read_remittance(details, values)
    return details


# Keyword -> Details attribute (IBAN before BBAN: the first one found wins), and -> `extra`.
_SLASH_FIELDS = {"IBAN": "counterparty_iban", "BBAN": "counterparty_iban",
                 "BIC": "counterparty_bic", "NAME": "counterparty_name",
                 "EREF": "end_to_end_id", "MARF": "mandate_reference", "RTRN": "return_reason",
                 "PURP": "purpose_code", "KREF": "customer_reference",
                 "ULTD": "ultimate_debtor"}
_SLASH_EXTRA = {"CSID": "creditor_id", "TRTP": "transaction_type",
                "ADDR": "counterparty_address", "ISDT": "instruction_date",
                "ULTB": "ultimate_creditor", "PREF": "payment_information_id",
                "ID": "counterparty_id", "TRCD": "transaction_code"}


def _value(values: dict[str, str], key: str) -> str | None:
    value = values.get(key)
    return None if value is None else value.rstrip("/")


def _read_remittance(details: Details, values: dict[str, str]) -> None:
    """ING: `/REMI/USTD//free text/` or `/REMI/STRD/CUR/reference/`; others: plain text.

    `STRD` is a structured reference; its issuer `CUR` is Currence, the Dutch payment
    reference ("betalingskenmerk"), a creditor reference in the ISO sense.
    """
    remittance = values.get("REMI")
    structured = None
    if remittance is not None:
        if remittance.startswith("USTD//"):
            remittance = remittance[6:]
        elif remittance.startswith("STRD/"):
            pieces = remittance[5:].split("/")
            if len(pieces) >= 2:
                details.extra["creditor_reference_issuer"] = pieces[0]
                structured = _clean(pieces[1])
            remittance = "/".join(pieces[1:])
        remittance = remittance.rstrip("/")
    if "CDTRREF" in values:
        structured = _clean(_value(values, "CDTRREF"))
    details.remittance_text = _clean(remittance)
    details.creditor_reference = structured or find_creditor_reference(details.remittance_text)


# ---------------------------------------------------------------------------------------------
# ASN / SNS and old ABN AMRO
# ---------------------------------------------------------------------------------------------

_ASN_FIRST_LINE = re.compile(rf"(?P<iban>{_IBAN.pattern})(?: +(?P<name>.*))?")
_ABN_GIRO = re.compile(r"(?:GIRO|BGC)\s+(?P<account>\d+)\s+(?P<name>.+?)(?:\s{2,}|$)")
_ABN_ACCOUNT = re.compile(r"(?P<account>\d{2}\.\d{2}\.\d{2}\.\d{3})\s+(?P<name>.+?)(?:\s{2,}|$)")


def parse_iban_first_line(text: str) -> Details | None:
    """ASN / SNS: `NL29INGB0006475121 j blom`, then the description on later lines.

    For SEPA direct debits the description is itself in the slash-keyword layout
    (`/TRTP/.../CSID/.../MARF/...`), its lines padded to 65 columns and wrapped mid-word.
    """
    first, _, rest = text.partition("\n")
    match = _ASN_FIRST_LINE.fullmatch(first.strip())
    if not match:
        return None
    iban, name = match.group("iban"), _clean(match.group("name"))
    flat = rest.replace("\n", "").strip()  # lines padded to 65 columns: a plain join
    details = parse_slash_keywords(flat) if flat.startswith("/") else None
    if details is None:
        details = Details(remittance_text=_clean(rest))
        details.creditor_reference = find_creditor_reference(details.remittance_text)
    details.counterparty_iban = details.counterparty_iban or iban
    details.counterparty_name = details.counterparty_name or name
    return details


def parse_abn_fixed_columns(text: str) -> Details | None:
    """Old ABN AMRO: `GIRO   428428 KPN BV   BETALINGSKENM. ...` or `64.45.12.113 NAME ...`.

    The description keeps the whole text; the account and name are read from the front.
    """
    first = text.split("\n", 1)[0]
    match = _ABN_GIRO.match(first) or _ABN_ACCOUNT.match(first)
    if not match:
        return None
    details = Details(counterparty_iban=match.group("account"),
                      counterparty_name=_clean(match.group("name")))
    details.remittance_text = _clean(text)
    details.creditor_reference = find_creditor_reference(details.remittance_text)
    return details


def parse_unstructured(text: str) -> Details:
    """An unknown layout: the whole text is the remittance text."""
    remittance = _clean(text)
    return Details(remittance_text=remittance,
                   creditor_reference=find_creditor_reference(remittance))


DETAIL_LAYOUTS = (parse_german, parse_slash_keywords, parse_iban_first_line,
                  parse_abn_fixed_columns)


def parse_details(text: str) -> Details:
    """Read `:86:` with the first layout that recognises it, else as unstructured text."""
    for layout in DETAIL_LAYOUTS:
        details = layout(text)
        if details is not None:
            return _compact_identifiers(details)
    return parse_unstructured(text)


def _compact_identifiers(details: Details) -> Details:
    """IBANs and BICs hold no spaces: a space in one comes from print grouping
    (`DE89 3704 ...`) or from a line wrap put back in the wrong place."""
    for name in ("counterparty_iban", "counterparty_bic"):
        value = getattr(details, name)
        if value and " " in value:
            setattr(details, name, value.replace(" ", ""))
    return details
