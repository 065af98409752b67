"""Reading decisions from form posts and JSON bodies into domain records.

Anything unusable is an InputError naming the field and line, raised before any service is
called, so a bad post changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

from reconciler.domain import Adjustment, AdjustmentKind, Allocation, ItemKey
from reconciler.errors import InputError
from reconciler.money import ZERO, money
from web import context
from web.queries.records import items_by_ids

ADJUSTMENT_KINDS = tuple(k.value for k in AdjustmentKind if k is not AdjustmentKind.DISCOUNT)


def read_amount(text: object, where: str, *, allow_zero: bool = False) -> Decimal:
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise InputError(f"not an amount: {text!r}", where=where)
    try:
        amount = money(text)
    except InputError:
        raise InputError(f"not an amount: {text!r}", where=where) from None
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise InputError(f"too many decimals: {text!r}", where=where)
    if amount == ZERO and not allow_zero:
        raise InputError("amount must not be zero", where=where)
    return amount


def read_int(text: object, where: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise InputError(f"not a number: {text!r}", where=where) from None


def read_reason(form: Mapping[str, Any], *, required: bool = False) -> str:
    reason = str(form.get("reason") or "").strip()
    if required and not reason:
        raise InputError("give a reason", where="reason")
    if len(reason) > 2000:
        raise InputError("reason too long (2000 characters at most)", where="reason")
    return reason


def _item_keys(ids: Sequence[int]) -> dict[int, ItemKey]:
    with context.database().session() as s:
        rows = items_by_ids(s, list(ids))
    return {i: ItemKey(r.entity, r.document_number) for i, r in rows.items()}


def allocations_from_form(form: MultiDict[str, str]) -> tuple[Allocation, ...]:
    """Rows of `item_id`, `amount`, `discount`; rows with an empty amount are left out."""
    item_ids = form.getlist("item_id")
    amounts = form.getlist("amount")
    discounts = form.getlist("discount")
    rows: list[tuple[int, Decimal, Decimal]] = []
    for index, raw_id in enumerate(item_ids):
        where = f"allocation line {index + 1}"
        amount_text = amounts[index].strip() if index < len(amounts) else ""
        discount_text = discounts[index].strip() if index < len(discounts) else ""
        if not amount_text and not discount_text:
            continue
        amount = read_amount(amount_text or "0", f"{where}: amount", allow_zero=True)
        discount = read_amount(discount_text or "0", f"{where}: discount", allow_zero=True)
        if amount == ZERO and discount == ZERO:
            continue
        rows.append((read_int(raw_id, f"{where}: item"), amount, discount))
    keys = _item_keys([r[0] for r in rows])
    result = []
    for index, (item_id, amount, discount) in enumerate(rows):
        if item_id not in keys:
            raise InputError(f"no open item with id {item_id}", where=f"allocation {index + 1}")
        result.append(Allocation(keys[item_id], amount, discount))
    return tuple(result)


def adjustments_from_form(form: MultiDict[str, str]) -> tuple[Adjustment, ...]:
    kinds = form.getlist("adj_kind")
    amounts = form.getlist("adj_amount")
    reasons = form.getlist("adj_reason")
    result = []
    for index, kind in enumerate(kinds):
        where = f"adjustment line {index + 1}"
        amount_text = amounts[index].strip() if index < len(amounts) else ""
        if not kind.strip() and not amount_text:
            continue
        result.append(_adjustment(kind, amount_text, reasons[index] if index < len(reasons)
                                  else "", where))
    return tuple(result)


def _adjustment(kind: object, amount: object, reason: object, where: str) -> Adjustment:
    if kind not in ADJUSTMENT_KINDS:
        raise InputError(f"unknown adjustment kind {kind!r} (one of "
                         f"{', '.join(ADJUSTMENT_KINDS)})", where=where)
    return Adjustment(AdjustmentKind(str(kind)), read_amount(amount, f"{where}: amount"),
                      str(reason or "").strip())


def allocations_from_json(body: Mapping[str, Any]) -> tuple[Allocation, ...]:
    raw = body.get("allocations", [])
    if not isinstance(raw, list):
        raise InputError("allocations must be a list", where="allocations")
    ids: list[int] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise InputError("each allocation is an object", where=f"allocations[{index}]")
        if "item_id" in entry:
            ids.append(read_int(entry["item_id"], f"allocations[{index}].item_id"))
    keys = _item_keys(ids)
    result = []
    for index, entry in enumerate(raw):
        where = f"allocations[{index}]"
        if "item_id" in entry:
            item_id = read_int(entry["item_id"], f"{where}.item_id")
            if item_id not in keys:
                raise InputError(f"no open item with id {item_id}", where=where)
            key = keys[item_id]
        elif "document_number" in entry:
            key = ItemKey(str(entry.get("entity") or context.settings().entity),
                          str(entry["document_number"]))
        else:
            raise InputError("name the item by item_id or entity + document_number", where=where)
        amount = read_amount(entry.get("amount"), f"{where}.amount")
        discount = read_amount(entry.get("discount", "0"), f"{where}.discount", allow_zero=True)
        result.append(Allocation(key, amount, discount))
    return tuple(result)


def adjustments_from_json(body: Mapping[str, Any]) -> tuple[Adjustment, ...]:
    raw = body.get("adjustments", [])
    if not isinstance(raw, list):
        raise InputError("adjustments must be a list", where="adjustments")
    result = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise InputError("each adjustment is an object", where=f"adjustments[{index}]")
        result.append(_adjustment(entry.get("kind"), entry.get("amount"), entry.get("reason"),
                                  f"adjustments[{index}]"))
    return tuple(result)
