"""Remittance text as payers really write it: document numbers in many spellings, typos,
look-alike numbers that are not references, and the languages of the payers.
"""

from __future__ import annotations

import datetime as dt
import random

from reconciler.demo.identifiers import print_form

_INVOICE_WORDS = {
    "de": ("Rechnung", "Rechnung Nr.", "Re.", "RE", "Rg.", "Rechnungsnr."),
    "fr": ("Facture", "Facture n°", "Fact.", "FACT", "Fac"),
    "nl": ("Factuur", "Factuurnr", "Fact.", "factuur nr."),
    "it": ("Fattura", "Fatt.", "Fattura n.", "FT"),
    "es": ("Factura", "Fra.", "Factura n.º", "FRA"),
    "en": ("Invoice", "Invoice no.", "Inv", "INV no", "Our ref inv"),
}
_CREDIT_WORDS = {
    "de": ("abzgl. Gutschrift", "./. GS", "minus Gutschrift"), "fr": ("moins avoir", "avoir"),
    "nl": ("min creditnota", "creditnota"), "it": ("meno nota di credito", "NC"),
    "es": ("menos abono", "abono"), "en": ("less credit note", "less CN"),
}
_PAYMENT_WORDS = {
    "de": ("Zahlung", "Ausgleich", "Überweisung", "Begleichung"),
    "fr": ("Paiement", "Règlement", "Virement"), "nl": ("Betaling", "Voldoening"),
    "it": ("Pagamento", "Saldo"), "es": ("Pago", "Transferencia"),
    "en": ("Payment", "Remittance", "Settlement"),
}
_ORDER_WORDS = {
    "de": ("Bestellung", "Auftrag", "Ihr Auftrag", "Lieferschein"), "fr": ("Commande", "BL"),
    "nl": ("Order", "Bestelling"), "it": ("Ordine", "DDT"), "es": ("Pedido", "Albarán"),
    "en": ("PO", "Order", "Delivery note"),
}
_CUSTOMER_WORDS = {
    "de": ("Kd-Nr.", "Kundennr.", "KdNr"), "fr": ("Client", "N° client"),
    "nl": ("Klantnr", "Debiteurnr"), "it": ("Cliente", "Cod. cliente"),
    "es": ("Cliente", "N.º cliente"), "en": ("Account", "Cust no"),
}


def _parts(number: str) -> tuple[str, str, str]:
    prefix, year, sequence = number.split("-")
    return prefix, year, sequence


def spell_document(number: str, language: str, rng: random.Random) -> str:
    """One of the ways a payer writes our document number 'INV-2026-00123'."""
    prefix, year, sequence = _parts(number)
    short = str(int(sequence))
    words = (_CREDIT_WORDS if prefix == "CN" else _INVOICE_WORDS)[language]
    choice = rng.randrange(12)
    if choice == 0:
        return number
    if choice == 1:
        return number.lower()
    if choice == 2:
        return f"{prefix} {year} {sequence}"
    if choice == 3:
        return f"{prefix}{year}{sequence}"
    if choice == 4:
        return f"{prefix.lower()} {year} {short}"
    if choice == 5:
        return f"{rng.choice(words)} {year}-{sequence}"
    if choice == 6:
        return f"{rng.choice(words)} {short}"
    if choice == 7:
        return f"{rng.choice(words)} {year}/{sequence}"
    if choice == 8:
        return f"{rng.choice(words)} {number}"
    if choice == 9:
        return f"{prefix}-{year}-{short}"
    if choice == 10:
        return f"{year}{sequence}"
    return f"{rng.choice(words)} {prefix} {year}-{short}"


def list_documents(numbers: list[str], language: str, rng: random.Random) -> str:
    """Several document numbers in one line, as payers list what a payment covers."""
    if rng.random() < 0.5:
        return ", ".join(numbers)
    _, year, _ = _parts(numbers[0])
    sequences = [_parts(n)[2] for n in numbers]
    word = rng.choice(_INVOICE_WORDS[language])
    if rng.random() < 0.5:
        return f"{word} {year}-" + "/".join(sequences)
    return f"{word} " + " ".join(str(int(s)) for s in sequences)


def mistype(number: str, rng: random.Random) -> str:
    """A number with one digit changed or two neighbouring digits swapped."""
    prefix, year, sequence = _parts(number)
    digits = list(sequence)
    significant = [i for i, d in enumerate(digits) if d != "0" or i >= len(digits) - 2]
    i = rng.choice(significant)
    if rng.random() < 0.5 and i + 1 < len(digits) and digits[i] != digits[i + 1]:
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    else:
        digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
    return f"{prefix}-{year}-{''.join(digits)}"


def payment_words(language: str, rng: random.Random) -> str:
    return rng.choice(_PAYMENT_WORDS[language])


def lookalike(language: str, customer_id: str, issue: dt.date, decoy: str | None,
              rng: random.Random) -> str:
    """A number that looks like a reference but is not: an order, a customer number, a date,
    or the digits of someone else's invoice used as an order number."""
    choice = rng.randrange(5)
    if choice == 0 and decoy is not None:
        _, year, sequence = _parts(decoy)
        return f"{rng.choice(_ORDER_WORDS[language])} {year}-{sequence}"
    if choice == 1:
        return f"{rng.choice(_ORDER_WORDS[language])} 45000{rng.randrange(10000, 99999)}"
    if choice == 2:
        return f"{rng.choice(_CUSTOMER_WORDS[language])} {customer_id[1:]}"
    if choice == 3:
        return f"{issue:%d.%m.%Y}" if language != "en" else f"{issue:%Y-%m-%d}"
    return f"{rng.choice(_ORDER_WORDS[language])} {rng.randrange(100000, 999999)}"


def rf_in_text(reference: str, rng: random.Random) -> str:
    return print_form(reference) if rng.random() < 0.5 else reference


def clip(text: str, limit: int = 140) -> str:
    """SEPA remittance information holds 140 characters; the rest is lost on the way."""
    return text if len(text) <= limit else text[:limit].rstrip()
