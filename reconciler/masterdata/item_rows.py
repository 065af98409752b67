"""One row of `open_items.csv` -> the fields stored for the open item.

A million-row export is nearly all plainly valid rows, so two readers share the work:
`PlainItemReader` takes a row only when every field is in its usual form and passes every
check, and hands anything else to `read_item`, which checks each field and names every
problem. Both give the same fields for a row both accept (a test holds them to that), so the
fast one never decides what a row means, only that it needs no second look.

Dates, document types, currencies and rates repeat across an export, so each distinct text is
read once (`_remembered`); amounts are nearly all distinct and are read every time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from operator import itemgetter
from typing import Any

from reconciler.masterdata import fields
from reconciler.money import ZERO, minor_units

# Every column a row can have, in the order `PlainItemReader.read` unpacks them.
COLUMNS = ("entity", "document_number", "document_type", "customer_id", "currency", "amount",
           "open_amount", "issue_date", "due_date", "payment_reference", "discount_rate",
           "discount_due_date")
# The fields a row gives, in the order the careful reader lists them.
STORED = ("entity", "document_number", "document_type", "customer_id", "currency", "amount",
          "erp_open_amount", "open_amount", "issue_date", "due_date", "payment_reference",
          "discount_rate", "discount_due_date", "status")
_AMOUNT = fields.AMOUNT_PATTERN
_SHORT_AMOUNT = fields.SHORT_AMOUNT


class PlainItemReader:
    """The straight path for a row whose fields are all in their usual form (see above).

    `read` returns the stored fields, or None when the row needs `read_item`: a field out of
    the ordinary, a value never seen before that does not read, or any check that fails.
    """

    __slots__ = ("default_entity", "pick", "units")

    def __init__(self, columns: Mapping[str, int | None], width: int,
                 default_entity: str) -> None:
        # A column the file lacks reads as the empty text appended to each row at `width`.
        positions = [width if columns.get(c) is None else columns[c] for c in COLUMNS]
        self.pick = itemgetter(*positions)
        self.default_entity = default_entity
        self.units: dict[str, int] = {}  # minor units per currency code

    def read(self, values: list[str]) -> dict[str, Any] | None:
        values.append("")
        (entity, number, kind_text, customer, currency_text, amount_text, open_text,
         issue_text, due_text, reference, rate_text, discount_text) = map(str.strip,
                                                                         self.pick(values))
        entity = entity or self.default_entity
        if not (0 < len(number) <= 64 and 0 < len(customer) <= 64 and len(entity) <= 40
                and len(reference) <= 64):
            return None
        document_type = _TYPES.get(kind_text) or _remembered_or_none(
            _TYPES, fields.read_document_type, kind_text)
        currency = _CURRENCIES.get(currency_text) or _remembered_or_none(
            _CURRENCIES, fields.read_currency, currency_text)
        issue_date = _DAYS.get(issue_text) or _remembered_or_none(
            _DAYS, fields.read_date, issue_text)
        due_date = _DAYS.get(due_text) or _remembered_or_none(_DAYS, fields.read_date, due_text)
        if document_type is None or currency is None or issue_date is None \
                or due_date is None or due_date < issue_date:
            return None
        units = self.units.get(currency)
        if units is None:
            units = self.units[currency] = minor_units(currency)
        amount = _plain_amount(amount_text, units)
        if amount is None:
            return None
        erp_open = amount if open_text == amount_text else _plain_amount(open_text, units)
        if erp_open is None:
            return None
        if document_type is _INVOICE:
            if amount < ZERO:
                return None
        elif amount > ZERO:  # a credit note is owed to the customer: negative
            return None
        if erp_open * amount < ZERO or abs(erp_open) > abs(amount):
            return None
        discount_rate = discount_due = None
        if rate_text:
            discount_rate = _RATES.get(rate_text)
            if discount_rate is None:
                discount_rate = _remembered_or_none(_RATES, fields.read_rate, rate_text)
                if discount_rate is None:
                    return None
            if discount_rate and not discount_text:
                return None
        if discount_text:
            discount_due = _DAYS.get(discount_text) or _remembered_or_none(
                _DAYS, fields.read_date, discount_text)
            if discount_due is None:
                return None
        return {"entity": entity, "document_number": number,
                "document_type": document_type.value, "customer_id": customer,
                "currency": currency, "amount": amount, "erp_open_amount": erp_open,
                "open_amount": erp_open, "issue_date": issue_date, "due_date": due_date,
                "payment_reference": reference or None, "discount_rate": discount_rate,
                "discount_due_date": discount_due, "status": "open"}


_INVOICE = fields.DocumentType.INVOICE


def _plain_amount(text: str, units: int) -> Decimal | None:
    """`fields.read_amount` for the short amounts it reads without `money`, else None."""
    if len(text) > _SHORT_AMOUNT:
        return None
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return None
    decimals = match.group(1)
    if decimals is not None and len(decimals) > units:
        return None
    return Decimal(text)


def read_item(columns: tuple[tuple[str, int], ...], values: list[str], default_entity: str,
               errors: list[tuple[str, str, str]]) -> dict[str, Any] | None:
    """One row -> the stored fields (status and open_amount still to decide), or None with
    every problem of the row in `errors` (column, value, message).

    The careful reader: `PlainItemReader` takes the rows that are plainly valid and sends
    every other row here, so a rejected file lists the same problems whichever reader saw it.
    Dates, types, currencies and rates repeat across an export, so each distinct text is
    read once (`_remembered`); amounts are nearly all distinct and are read every time.
    """
    text = {name: values[index].strip() for name, index in columns}
    get = text.get
    before = len(errors)
    document_number = text["document_number"]
    customer_id = text["customer_id"]
    entity = get("entity") or default_entity
    reference = get("payment_reference", "")
    if len(document_number) > 64:
        errors.append(("document_number", document_number, "longer than 64 characters"))
    if len(customer_id) > 64:
        errors.append(("customer_id", customer_id, "longer than 64 characters"))
    if len(entity) > 40:
        errors.append(("entity", entity, "longer than 40 characters"))
    if len(reference) > 64:
        errors.append(("payment_reference", reference, "longer than 64 characters"))
    if not document_number:
        errors.append(("document_number", "", "required"))
    if not customer_id:
        errors.append(("customer_id", "", "required"))
    document_type: fields.DocumentType | None = None
    currency: str | None = None
    amount: Decimal | None = None
    erp_open: Decimal | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    discount_rate: Decimal | None = None
    discount_due: dt.date | None = None
    kind_text, currency_text = text["document_type"], text["currency"]
    try:
        document_type = _TYPES.get(kind_text) or _remembered(
            _TYPES, fields.read_document_type, kind_text)
    except fields.FieldError as exc:
        errors.append(("document_type", kind_text, str(exc)))
    try:
        currency = _CURRENCIES.get(currency_text) or _remembered(
            _CURRENCIES, fields.read_currency, currency_text)
    except fields.FieldError as exc:
        errors.append(("currency", currency_text, str(exc)))
    amount_text, open_text = text["amount"], text["open_amount"]
    try:
        amount = fields.read_amount(amount_text, currency)
    except fields.FieldError as exc:
        errors.append(("amount", amount_text, str(exc)))
    if open_text == amount_text and amount is not None:
        erp_open = amount  # the usual case: nothing paid yet
    else:
        try:
            erp_open = fields.read_amount(open_text, currency)
        except fields.FieldError as exc:
            errors.append(("open_amount", open_text, str(exc)))
    for column in ("issue_date", "due_date"):
        try:
            day = _DAYS.get(text[column]) or _remembered(_DAYS, fields.read_date, text[column])
        except fields.FieldError as exc:
            errors.append((column, text[column], str(exc)))
            continue
        if column == "issue_date":
            issue_date = day
        else:
            due_date = day
    rate_text, discount_text = get("discount_rate", ""), get("discount_due_date", "")
    try:
        column = "discount_rate"
        discount_rate = (_RATES.get(rate_text) or _remembered(_RATES, fields.read_rate,
                                                               rate_text)) if rate_text else None
        column = "discount_due_date"
        discount_due = (_DAYS.get(discount_text) or _remembered(
            _DAYS, fields.read_date, discount_text)) if discount_text else None
    except fields.FieldError as exc:
        errors.append((column, get(column, ""), str(exc)))
    if amount is not None and document_type is not None:
        _check_signs(document_type, amount, erp_open, errors, text)
    if issue_date and due_date and due_date < issue_date:
        errors.append(("due_date", text["due_date"], "before the issue date"))
    if discount_rate and not discount_text:
        errors.append(("discount_due_date", "", "required when discount_rate is given"))
    if len(errors) > before or document_type is None:
        return None
    return dict(zip(STORED, (entity, document_number, document_type.value, customer_id,
                             currency, amount, erp_open, erp_open, issue_date, due_date,
                             reference or None, discount_rate, discount_due, "open"),
                    strict=True))


_TYPES: dict[str, fields.DocumentType] = {}
_CURRENCIES: dict[str, str] = {}
_DAYS: dict[str, dt.date] = {}
_RATES: dict[str, Decimal] = {}
_REMEMBERED = 100_000  # per kind: a file with endless distinct dates stays bounded


def _remembered(cache: dict[str, Any], read: Callable[[str], Any], text: str) -> Any:
    """`read(text)`, kept in `cache` when it succeeds (a FieldError is raised every time)."""
    value = read(text)
    if len(cache) < _REMEMBERED:
        cache[text] = value
    return value


def _check_signs(document_type: fields.DocumentType, amount: Decimal, erp_open: Decimal | None,
                 errors: list[tuple[str, str, str]], text: dict[str, str]) -> None:
    # An invoice is owed to us (positive), a credit note owed to the customer (negative);
    # what is still open lies between zero and the document's amount.
    if document_type is fields.DocumentType.INVOICE and amount < ZERO:
        errors.append(("amount", text["amount"], "an invoice amount cannot be negative"))
        return
    if document_type is fields.DocumentType.CREDIT_NOTE and amount > ZERO:
        errors.append(("amount", text["amount"], "a credit note amount must be negative"))
        return
    if erp_open is None:
        return
    if (erp_open * amount < ZERO) or abs(erp_open) > abs(amount):
        errors.append(("open_amount", text["open_amount"],
                       f"must lie between 0 and the amount {text['amount']}"))


def _remembered_or_none(cache: dict[str, Any], read: Callable[[str], Any], text: str) -> Any:
    """`_remembered`, with None for a text that does not read (the careful reader says why)."""
    try:
        return _remembered(cache, read, text)
    except fields.FieldError:
        return None
