"""Reading remittance text: document numbers, creditor references, payer names.

Payers write invoice numbers any way they like: `INV-2026-00123`, `inv 2026/123`,
`Rechnung 202600123`, split over two `:86:` lines, glued to a prefix. So a document number is
indexed under several keys (`document_keys`) and the text is read as windows of adjacent
tokens (`reference_candidates`), each looked up under the same kinds of key.

Most numbers in a remittance text are *not* invoice numbers: order and customer numbers, dates,
amounts, IBAN fragments, postcodes, mandate ids. They are masked out before the windows are
built; a wrong application is far worse than a missed one.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

MIN_DIGITS = 4  # a digits-only key shorter than this collides with everything

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_DIGIT_RUN = re.compile(r"[0-9]+")
_LETTER = re.compile(r"[^\W\d_]")
_SEPARATORS = " -/._:\t\r\n#"
# The usual shape of a ledger's numbers (`INV-2026-00123`, `2026/123`, `RE 77`): ASCII letters,
# then one or two digit groups. Matched at once, it needs none of the general checks below.
_USUAL_NUMBER = re.compile(r"([A-Za-z]*)[-/. ]*([0-9]+)(?:[-/. ]+([0-9]+))?")


def compact(text: str) -> str:
    """Upper case, letters and digits only: `inv-2026/00123` -> `INV202600123`."""
    # Chained replaces beat a regex or str.translate for the usual `INV-2026-00123`.
    fast = text.upper().replace("-", "").replace(" ", "").replace("/", "").replace(".", "")
    if fast.isascii() and fast.isalnum():
        return fast
    return _NON_ALNUM.sub("", fold_accents(text).upper())


def digit_keys(text: str) -> tuple[str, ...]:
    """Digits-only keys of a document number (leading zeros do not count).

    `INV-2026-00123` -> (`202600123`, `2026123`): all digits with leading zeros dropped, and
    each digit group without its own leading zeros. Empty when fewer than `MIN_DIGITS`
    significant digits, or when letters sit between the digits (`AB12CD34` is not a number).
    """
    usual = _USUAL_NUMBER.fullmatch(text)
    if usual is not None:
        return _usual_digit_keys(usual.group(2), usual.group(3))
    first = _DIGIT_RUN.search(text)
    if first is None or _LETTER.search(text, first.start()):
        return ()
    groups = _DIGIT_RUN.findall(text, first.start())
    whole = "".join(groups).lstrip("0")
    if len(whole) < MIN_DIGITS:
        return ()
    if len(groups) == 1:
        return (whole,)
    groupwise = "".join([g.lstrip("0") for g in groups])
    if groupwise == whole or len(groupwise) < MIN_DIGITS:
        return (whole,)
    return (whole, groupwise)


def _usual_digit_keys(head: str, tail: str | None) -> tuple[str, ...]:
    # `digit_keys` of the usual shape: the hot path of indexing a million items, no lists.
    if tail is None:
        whole = head.lstrip("0")
        return (whole,) if len(whole) >= MIN_DIGITS else ()
    whole = (head + tail).lstrip("0")
    if len(whole) < MIN_DIGITS:
        return ()
    groupwise = head.lstrip("0") + tail.lstrip("0")
    if groupwise == whole or len(groupwise) < MIN_DIGITS:
        return (whole,)
    return (whole, groupwise)


@functools.lru_cache(maxsize=1 << 16)  # the payer's items are read again for every payment
def tail_key(document_number: str) -> str | None:
    """The last digit group without leading zeros, when the number has a prefix group.

    Payers listing several invoices drop the shared part: `INV-2026-03015/03963`, `Rg. 1619,
    2907`. Too short to index globally, it is only compared with one customer's items.
    """
    groups = _DIGIT_RUN.findall(document_number)
    if len(groups) < 2:
        return None
    tail = groups[-1].lstrip("0")
    return tail if len(tail) >= 3 else None


def document_keys(document_number: str) -> tuple[str, tuple[str, ...]]:
    """(full key, digit keys) under which an item is indexed."""
    usual = _USUAL_NUMBER.fullmatch(document_number)
    if usual is not None:  # letters, digits, separators: compacted without a second pass
        letters, head, tail = usual.groups()
        full = letters.upper() + head + (tail or "")
        return full, _usual_digit_keys(head, tail)
    return compact(document_number), digit_keys(document_number)


# --- creditor references (ISO 11649) --------------------------------------------------------

_RF_START = re.compile(r"\bRF\d\d[0-9A-Z]*")
_RF_GROUP = re.compile(r" ([0-9A-Z]{1,4})(?![0-9A-Z])")


def _mod97(alnum: str) -> int:
    value = 0
    for ch in alnum:
        digits = ch if ch.isdigit() else str(ord(ch) - 55)
        for d in digits:
            value = (value * 10 + int(d)) % 97
    return value


def is_valid_creditor_reference(reference: str) -> bool:
    """ISO 11649: `RF` + two check digits + up to 21 characters, mod 97 of the rearranged
    reference equals 1. A typo in a creditor reference is caught here, not matched."""
    ref = compact(reference)
    if not (5 <= len(ref) <= 25 and ref.startswith("RF") and ref[2:4].isdigit()):
        return False
    return _mod97(ref[4:] + ref[:4]) == 1


def find_creditor_references(text: str) -> tuple[list[str], list[str]]:
    """RF references written into free text: (valid, invalid), compacted.

    Printed RF references come in groups of four (`RF18 5390 0754 7034`); the longest run of
    groups that passes the check digits is taken, so a following word is not swallowed.
    """
    valid: list[str] = []
    invalid: list[str] = []
    upper = text.upper()
    for m in _RF_START.finditer(upper):
        parts = [m.group()]
        position = m.end()
        while (group := _RF_GROUP.match(upper, position)) is not None:
            parts.append(group.group(1))
            position = group.end()
        for size in range(len(parts), 0, -1):
            candidate = "".join(parts[:size])
            if len(candidate) <= 25 and is_valid_creditor_reference(candidate):
                valid.append(candidate)
                break
        else:
            while len(parts) > 1 and (parts[-1].isalpha() or len("".join(parts)) > 25):
                parts.pop()
            candidate = "".join(parts)
            if len(candidate) >= 8:
                invalid.append(candidate)
    return valid, invalid


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- names ------------------------------------------------------------------------------------

_TRANSLIT_LONG = {"Ä": "AE", "Ö": "OE", "Ü": "UE", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                  "Æ": "AE", "æ": "ae", "Ø": "OE", "ø": "oe", "Å": "AA", "å": "aa"}
_LONG_TABLE = str.maketrans(_TRANSLIT_LONG)

LEGAL_FORMS = _words("""
gmbh mbh ag kg ohg gbr ug ek ev kgaa se co cokg gmbhcokg ltd limited llc llp lp inc incorporated
corp corporation plc sa sas sarl srl spa sl bv nv vof oy oyj ab as aps asa sro spzoo kft zrt
pty company gesmbh eu eg
""")
_NAME_NOISE = re.compile(r"[^0-9a-z ]+")


def fold_accents(text: str) -> str:
    """`Müller` -> `Muller`: strip diacritics (what many banks' character sets do)."""
    folded = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def normalise_name(name: str, *, long_umlauts: bool = True) -> str:
    """Case, punctuation and legal form removed; umlauts as `ue` (or as `u`).

    `Müller Bau GmbH & Co. KG` -> `mueller bau`. Banks transliterate umlauts either way, so a
    name is indexed under both spellings (`name_variants`).
    """
    if not name.isascii():
        name = fold_accents(name.translate(_LONG_TABLE) if long_umlauts else name)
    # Dots go without a space so that "e.K.", "S.A.", "B.V." become the words ek, sa, bv.
    text = name.lower().replace("&", " ").replace(".", "")
    words = _NAME_NOISE.sub(" ", text).split()
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)


def sorted_words(name: str) -> str:
    """The words of a normalised name in sorted order: `bau mueller` for `mueller bau`.

    Banks swap the words of a name; comparing the sorted forms is blind to that order."""
    return " ".join(sorted(name.split()))


@functools.lru_cache(maxsize=1 << 16)  # a payer's name is looked up by every matcher
def name_variants(name: str) -> tuple[str, ...]:
    """The normalised spellings of a name: umlauts as `ue` and as `u` (one if they agree)."""
    long_form = normalise_name(name, long_umlauts=True)
    short_form = long_form if name.isascii() else normalise_name(name, long_umlauts=False)
    if not long_form:
        return ()
    return (long_form,) if short_form == long_form else (long_form, short_form)


# --- look-alikes ------------------------------------------------------------------------------

# Words that introduce a number which is *not* one of our documents.
_LOOKALIKE_LABELS = (
    r"ORDER|ORDERNO|AUFTRAG|AUFTRAGSNR|AUFTRAGSNUMMER|BESTELLUNG|BESTELLNR|BESTELLNUMMER|PO|"
    r"P\.O\.|PURCHASE\s+ORDER|KUNDE|KUNDEN|KUNDENNR|KUNDENNUMMER|KD|KDNR|CUSTOMER|CUST|CLIENT|"
    r"DEBITOR|DEBITORENNR|DEBTOR|KONTO|KTO|ACCOUNT|ACCT|MANDAT|MANDATE|MANDATSREF|VERTRAG|"
    r"VERTRAGSNR|CONTRACT|LIEFERSCHEIN|DELIVERY\s+NOTE|TEL|TELEFON|PHONE|FAX|PLZ|ZIP|POSTCODE|"
    r"UST|USTID|VAT|STEUERNR|TAX\s+ID|MITGLIED|MITGLIEDSNR|MEMBER|POLICE|POLICY|BLZ|SORT\s+CODE|"
    r"CREDITOR\s+ID|GLAEUBIGER|GLÄUBIGER|DATUM|DATE|DATED|VOM|BETRAG|AMOUNT|SUMME|TOTAL|"
    # French, Dutch, Italian, Spanish: orders, delivery notes, customer and contract numbers.
    r"COMMANDE|CDE|BON\s+DE\s+COMMANDE|BON\s+DE\s+LIVRAISON|BL|CLIENT|CONTRAT|"
    r"BESTELLING|BESTELNR|BESTELNUMMER|PAKBON|LEVERBON|KLANT|KLANTNR|KLANTNUMMER|DEBITEUR|"
    r"DEBITEURNR|CONTRACT|ORDINE|DDT|BOLLA|CLIENTE|CONTRATTO|PEDIDO|ALBARAN|ALBARÁN|REMITO|"
    r"CONTRATO|COD\.?\s*CLIENTE"
)
_LOOKALIKE = re.compile(
    rf"\b(?:{_LOOKALIKE_LABELS})(?![A-Z])"
    r"(?:\s*[-.]?\s*(?:NR|NO|NUMBER|NUMMER|ID|N[°º]|N\.º)(?![A-Z]))?"
    r"\s*[.:#]*\s*(?P<value>[A-Z0-9]+(?:[-/.][A-Z0-9]+)*)"
)
# SEPA keyword fields of German :86: texts and ING/ABN AMRO slash fields whose values are
# identifiers of the mandate, the creditor or the counterparty, never of an invoice.
_FOREIGN_FIELDS = re.compile(
    r"(?:\b(?:MREF|CRED|DEBT|IBAN|BIC|ABWA|ABWE)\+|/(?:MARF|CSID|IBAN|BIC|NAME|ORDP|BENM|"
    r"ULTD|ULTC|ADDR|CNTP)/+)(?P<value>[^/+]*?)(?=\s*(?:\b[A-Z]{4}\+|/[A-Z]{3,4}/|$))"
)
_IBAN_COUNTRIES = (
    "AD|AE|AL|AT|AZ|BA|BE|BG|BH|BR|BY|CH|CR|CY|CZ|DE|DK|DO|EE|EG|ES|FI|FO|FR|GB|GE|GI|GL|GR|GT|"
    "HR|HU|IE|IL|IQ|IS|IT|JO|KW|KZ|LB|LC|LI|LT|LU|LV|MC|MD|ME|MK|MR|MT|MU|NL|NO|PK|PL|PS|PT|QA|"
    "RO|RS|SA|SC|SE|SI|SK|SM|ST|SV|TL|TN|TR|UA|VA|VG|XK"
)
_IBAN = re.compile(
    rf"\b(?:{_IBAN_COUNTRIES})\d\d(?:[ ]?[A-Z0-9]{{4}}){{2,7}}(?:[ ]?[A-Z0-9]{{1,3}})?\b"
)
_DATE = re.compile(
    r"\b(?:(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2}))\b"
)
_AMOUNT = re.compile(
    r"\b\d{1,3}(?:[.' ]\d{3})+,\d{2}\b|\b\d{1,3}(?:[,' ]\d{3})+\.\d{2}\b|\b\d+,\d{2}\b"
    r"|(?:EUR|USD|CHF|GBP|€|\$)\s?\d+(?:[.,]\d{1,2})?\b|\b\d+(?:[.,]\d{1,2})?\s?(?:EUR|USD|CHF|GBP|€)"
)
_STREET = re.compile(r"(?:STR|STRASSE|STRAßE|WEG|PLATZ|ALLEE|GASSE|RING|DAMM|STREET|ROAD|"
                     r"AVENUE|RUE|LAAN|STRAAT|VIA)\.?\s*\d+[A-Z]?\s*,?\s*$")
_POSTCODE = re.compile(r"\b(?:(?P<cc>D|A|CH|F|NL|B|L)-)?(?P<code>\d{4,5})\s+(?P<word>[^\W\d_]{3,})")
_DOCUMENT_WORDS = _words("""
RECHNUNG RECHNUNGEN RECHNUNGSNR RECHNUNGSNUMMER RG RGNR RE RENR RNR INVOICE INVOICES INV INVNO
FACTURE FACTURES FACTUUR FACTUREN FAKTURA FATTURA FACTURA BILL BELEG BELEGNR DOC DOCUMENT
DOKUMENT GUTSCHRIFT CREDITNOTE CN GS FAKTURANR NOTA
""")


def _mark(buffer: list[str], start: int, end: int) -> None:
    buffer[start:end] = "|" * (end - start)


def _upper_same_length(text: str) -> str:
    # str.upper turns ß into SS; keep offsets stable so spans map back to the original text.
    if text.isascii():
        return text.upper()  # one character for one in ASCII
    return "".join(u if len(u := ch.upper()) == 1 else ch for ch in text)


def _is_date(m: re.Match[str]) -> bool:
    day, month = (m.group("d"), m.group("m")) if m.group("d") else (m.group("d2"), m.group("m2"))
    return 1 <= int(day) <= 31 and 1 <= int(month) <= 12


def mask_lookalikes(text: str, payer_iban: str | None = None) -> str:
    """Upper-cased `text` with every non-reference number replaced by `|` (same length).

    Masked: IBANs and fragments of the payer's own IBAN or bank code, dates, amounts, numbers
    after an order / customer / contract / postcode label, mandate and creditor ids of SEPA
    fields, and postcodes before a town name.
    """
    upper = _upper_same_length(text)
    buffer = list(upper)
    for m in _IBAN.finditer(upper):
        _mark(buffer, m.start(), m.end())
    if _may_hold_amount(upper):
        for m in _AMOUNT.finditer(upper):
            _mark(buffer, m.start(), m.end())
    for m in _DATE.finditer(upper):
        if _is_date(m):
            _mark(buffer, m.start(), m.end())
    if "+" in upper or "/" in upper:  # every SEPA keyword or slash field has one
        for m in _FOREIGN_FIELDS.finditer(upper):
            _mark(buffer, m.start("value"), m.end("value"))
    for m in _LOOKALIKE.finditer(upper):
        _mark(buffer, m.start("value"), m.end("value"))
    for m in _POSTCODE.finditer(text):
        word = _upper_same_length(m.group("word"))
        before = upper[max(0, m.start() - 40):m.start()]
        town_like = m.group("word")[1:].islower() and m.group("word")[0].isupper()
        if word in _DOCUMENT_WORDS or _preceding_word(before) in _DOCUMENT_WORDS:
            continue
        if m.group("cc") or town_like or _STREET.search(before):
            _mark(buffer, m.start("code"), m.end("code"))
    if payer_iban:
        _mask_payer_account(buffer, upper, compact(payer_iban))
    return "".join(buffer)


_CURRENCY_MARKS = ("EUR", "USD", "CHF", "GBP", "€", "$")


def _may_hold_amount(upper: str) -> bool:
    # Every `_AMOUNT` shape has decimals after a comma or a point, or a currency: most texts
    # (`Rechnung INV-2026-14638`) have neither, and skip the pattern's five alternatives.
    return "," in upper or "." in upper or any(mark in upper for mark in _CURRENCY_MARKS)


_UPPER_WORD = re.compile(r"[A-Z]+")
_ACCOUNT_DIGITS = re.compile(r"\d[\d ]{5,}\d")  # an account number, maybe in groups


def _preceding_word(before: str) -> str:
    words = _UPPER_WORD.findall(before)
    return words[-1] if words else ""


def _mask_payer_account(buffer: list[str], upper: str, iban: str) -> None:
    # The payer's account number or bank code (both inside its IBAN) often appear in the
    # text; a long digit run that is a piece of the IBAN is never one of our documents.
    if len(iban) < 12:
        return
    for m in _ACCOUNT_DIGITS.finditer(upper):
        digits = m.group().replace(" ", "")
        if len(digits) >= 6 and digits in iban:
            _mark(buffer, m.start(), m.end())


_PARTIAL_WORDS = re.compile(
    r"\b(?:TEILZAHLUNG|TEILBETRAG|ANZAHLUNG|ABSCHLAGSZAHLUNG|RATENZAHLUNG|ACOMPTE|"
    r"PAIEMENT PARTIEL|DEELBETALING|ACCONTO|PAGO PARCIAL|PART[- ]PAYMENT|PARTIAL PAYMENT|"
    r"INSTAL+MENT|ON ACCOUNT|A CONTO|AKONTO)\b")


def says_partial(text: str) -> bool:
    """The payer calls it a part payment (`Teilzahlung`, `Acompte`, `part payment`)."""
    return bool(_PARTIAL_WORDS.search(_upper_same_length(text)))


_DISCOUNT_WORDS = re.compile(
    r"(?:SKONTO|ESCOMPTE|KORTING|SCONTO|DESCUENTO|DTO|DISCOUNT|RABATT|REMISE)", re.IGNORECASE)


def says_discount(text: str | None) -> bool:
    """The payer mentions a cash discount (`abzgl. 2% Skonto`, `escompte`, `less discount`)."""
    return bool(text) and bool(_DISCOUNT_WORDS.search(text or ""))


# --- candidate windows ------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Z0-9]+")
_SUBFIELD = re.compile(r"\?\d\d")  # `?20`: a German :86: subfield marker
_SOFT = frozenset(_SEPARATORS)
MAX_WINDOW = 4  # tokens joined: `INV`, `2026`, `00`, `123` (a number broken across lines)
MAX_KEY = 35


class ReferenceCandidate(NamedTuple):
    """A window of adjacent tokens that may be a document number.

    A named tuple: a remittance text yields a dozen windows, made faster than a frozen
    dataclass sets its fields one by one."""

    raw: str  # the text as the payer wrote it
    full: str  # compacted, letters and digits
    digits: tuple[str, ...]  # digit keys (see `digit_keys`), empty if not number-shaped
    labelled: bool  # introduced by an invoice word (`Rechnung`, `Inv.`, `RE`)
    start: int
    end: int
    size: int = 1  # tokens joined


def reference_candidates(text: str, payer_iban: str | None = None) -> list[ReferenceCandidate]:
    """All windows of up to `MAX_WINDOW` tokens joined by separators, look-alikes masked.

    German `:86:` subfield markers (`?20`, `?21`) are treated as separators: a number wrapped
    at the end of a subfield continues in the next one.
    """
    cleaned = _SUBFIELD.sub("   ", text) if "?" in text else text
    if _DIGIT_RUN.search(cleaned) is None:
        return []  # every window needs a digit, and masking only ever removes some
    masked = mask_lookalikes(cleaned, payer_iban)
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(masked)]
    # Whether token j continues token j - 1 (a short gap of separators only): the same for
    # every window that reaches it, so judged once.
    joins = [False, *(len(gap := masked[tokens[j - 1][1]:tokens[j][0]]) <= 3
                      and set(gap) <= _SOFT for j in range(1, len(tokens)))]
    out: list[ReferenceCandidate] = []
    for i, (start, end, word) in enumerate(tokens):
        labelled: bool | None = None  # looked back for only when a window is kept
        joined = word
        last_end = end
        has_digit = not word.isalpha()  # tokens are letters and digits only
        for j in range(i, min(i + MAX_WINDOW, len(tokens))):
            if j > i:
                if not joins[j]:
                    break
                joined += tokens[j][2]
                last_end = tokens[j][1]
                has_digit = has_digit or not tokens[j][2].isalpha()
            if len(joined) > MAX_KEY:
                break
            if not has_digit:
                continue
            if word in _DOCUMENT_WORDS and j == i:
                continue  # the bare word "RE" is not a reference
            raw = cleaned[start:last_end]
            if labelled is None:
                labelled = _is_labelled(tokens, i)
            out.append(ReferenceCandidate(raw=raw, full=joined, digits=digit_keys(raw),
                                          labelled=labelled or word in _DOCUMENT_WORDS,
                                          start=start, end=last_end, size=j - i + 1))
    return out


_NUMBER_WORDS = frozenset({"NR", "NO", "N", "NUM", "NUMBER", "NUMMER", "NRS", "NOS", "UND",
                           "AND", "ET", "EN"})


def _is_labelled(tokens: list[tuple[int, int, str]], index: int) -> bool:
    # "Rechnung Nr. 4711", "Rechnungen 4711, 4712 und 4713": an invoice word before, with only
    # "Nr."-like words and other numbers in between; any other word ends the label's reach.
    for k in range(index - 1, max(-1, index - 7), -1):
        word = tokens[k][2]
        if word in _DOCUMENT_WORDS:
            return True
        if word.isdigit() or word in _NUMBER_WORDS:
            continue
        return False
    return False
