"""The candidate view: what the matchers may look at, indexed, read-only.

The engine builds one view per matching run from the ledger (customers, open items, learned
links) and hands the same view to every matcher for every payment. It is immutable after
`build`: matchers share it and the conformance test checks that none of them changes it.

Memory matters at a million items: items live once in a tuple, the indexes map keys to item
positions (an `int`, or a tuple of ints when a key is shared), and the classes use `__slots__`.
"""

from __future__ import annotations

import bisect
import operator
import typing
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeVar

from matchers.text import compact, document_keys, name_variants, sorted_words
from reconciler.domain import Customer, ItemKey, ItemStatus, OpenItem
from reconciler.heap import collector_paused
from reconciler.money import ZERO

_Positions = int | tuple[int, ...]
_AMOUNT_DECIMALS = 4  # the amount index keys on 1/10,000ths, the finest stored amount
_K = TypeVar("_K", str, Decimal)


@dataclass(frozen=True, slots=True)
class LearnedLink:
    """What reviewers taught the engine: this payer IBAN or payer name is this customer."""

    kind: Literal["iban", "name"]
    value: str
    customer_id: str


def _put(index: dict[_K, _Positions], key: _K, position: int) -> None:
    # Most keys are unique: store a bare int and only build a tuple on a collision.
    found: _Positions | None = index.get(key)
    if found is None:
        index[key] = position
    elif isinstance(found, int):
        if found != position:
            index[key] = (found, position)
    elif position not in found:
        index[key] = (*typing.cast(tuple[int, ...], found), position)


def _add_name(index: dict[str, tuple[str, ...]], name: str, customer_id: str) -> None:
    for variant in name_variants(name):
        ids = index.get(variant, ())
        if customer_id not in ids:
            index[variant] = (*ids, customer_id)


def _grouped(items: list[OpenItem], positions: list[int]) -> dict[str, tuple[int, ...]]:
    """The `positions` of `items` by customer, ascending within each customer."""
    customer_ids = map(operator.attrgetter("customer_id"), map(items.__getitem__, positions))
    groups: dict[str, list[int]] = {}
    for position, customer_id in zip(positions, customer_ids, strict=True):
        found = groups.get(customer_id)
        if found is None:
            groups[customer_id] = [position]
        else:
            found.append(position)
    return {customer_id: tuple(found) for customer_id, found in groups.items()}


def is_matchable(item: OpenItem) -> bool:
    """Open for matching: status open and something left to pay (disputed items are not)."""
    return item.status is ItemStatus.OPEN and item.open_amount != ZERO


class CandidateView:
    """Read-only indexes over customers and items, shared by all matchers.

    Lookups (all return tuples, empty when nothing is known):

    - `item(key)`: an open item; `known_item(key)`: open, closed or disputed; `is_open(key)`.
    - `items_by_document(full_key)` / `items_by_digits(digit_key)` / `items_by_payment_reference`
      (`items_by_reference_key` when the reference is compacted already): items (open *and*
      closed: a reference to a closed item is evidence too) by the keys of
      `matchers.text.document_keys` and by their compacted payment reference.
    - `open_items_of(customer_id, currency=None)`: the customer's open items.
    - `items_with_amount(amount, currency, customer_ids=None)`: open items whose open amount
      equals `amount`, in ledger order: of the given customers (read from their items), or of
      everyone (from the amount index: two parallel arrays sorted by amount, 16 bytes an
      item, built by the first such lookup in a process since no built-in matcher asks it
      per payment).
    - `customer(id)`, `customers_by_iban(iban)`, `customers_by_learned_iban(iban)`,
      `customers_by_name(name)` (exact after normalisation), `customers_by_alias(name)`,
      `group_of(customer_id)`: the customer, its parent, its subsidiaries and its siblings.
    - `name_choices` / `name_owners`: parallel tuples of normalised names and aliases (sorted)
      and the customer each belongs to, for fuzzy search (`name_is_alias` tells which are
      learned; `name_sorted_words` holds each with its words in sorted order, the form a
      word-order-blind comparison needs, made once here rather than per comparison);
      `names_starting_with(prefix)` gives the positions of a prefix by bisection.
    """

    __slots__ = (
        "_by_alias",
        "_by_amount",
        "_by_customer",
        "_by_digits",
        "_by_document",
        "_by_iban",
        "_by_learned_iban",
        "_by_name",
        "_by_reference",
        "_children",
        "_customers",
        "_items",
        "_open",
        "_positions",
        "name_choices",
        "name_is_alias",
        "name_owners",
        "name_sorted_words",
    )

    _items: tuple[OpenItem, ...]
    _open: bytearray

    def __init__(self) -> None:
        raise TypeError("use CandidateView.build(customers, items, learned, closed_items)")

    @classmethod
    def build(cls, customers: Iterable[Customer], items: Iterable[OpenItem],
              learned: Iterable[LearnedLink] = (),
              closed_items: Iterable[OpenItem] = ()) -> CandidateView:
        """Index everything once. Items not open (closed, disputed, zero) are kept as known."""
        view = object.__new__(cls)
        with collector_paused():
            view._index_customers(customers, learned)
            view._index_items(items, closed_items)
        return view

    # --- building ---------------------------------------------------------------------------

    def _index_customers(self, customers: Iterable[Customer],
                         learned: Iterable[LearnedLink]) -> None:
        by_id: dict[str, Customer] = {}
        by_iban: dict[str, tuple[str, ...]] = {}
        by_name: dict[str, tuple[str, ...]] = {}
        children: dict[str, list[str]] = {}
        for customer in customers:
            by_id[customer.customer_id] = customer
            for iban in customer.ibans:
                key = compact(iban)
                ids = by_iban.get(key, ())
                if customer.customer_id not in ids:
                    by_iban[key] = (*ids, customer.customer_id)
            _add_name(by_name, customer.name, customer.customer_id)
            if customer.parent_customer_id:
                children.setdefault(customer.parent_customer_id, []).append(customer.customer_id)
        by_alias: dict[str, tuple[str, ...]] = {}
        by_learned_iban: dict[str, tuple[str, ...]] = {}
        for link in learned:
            if link.kind == "iban":
                key = compact(link.value)
                ids = by_learned_iban.get(key, ())
                if link.customer_id not in ids:
                    by_learned_iban[key] = (*ids, link.customer_id)
            elif link.kind == "name":
                _add_name(by_alias, link.value, link.customer_id)
            else:
                raise ValueError(f"learned link kind must be 'iban' or 'name', not {link.kind!r}")
        # One sorted list of names and aliases: fuzzy search scans it, prefix search bisects it.
        entries = sorted((name, alias, customer_id)
                         for table, alias in ((by_name, False), (by_alias, True))
                         for name, ids in table.items() for customer_id in ids)
        choices = [name for name, _, _ in entries]
        owners = [customer_id for _, _, customer_id in entries]
        is_alias = [alias for _, alias, _ in entries]
        self._customers = by_id
        self._by_iban = by_iban
        self._by_learned_iban = by_learned_iban
        self._by_name = by_name
        self._by_alias = by_alias
        self._children = {k: tuple(sorted(v)) for k, v in children.items()}
        self.name_choices = tuple(choices)
        self.name_owners = tuple(owners)
        self.name_is_alias = tuple(is_alias)
        self.name_sorted_words = tuple(sorted_words(name) for name in choices)

    def _index_items(self, items: Iterable[OpenItem], closed_items: Iterable[OpenItem]) -> None:
        # A million items: the indexes are built in a few passes over plain lists (fewer large
        # tables at a time stay in the processor's cache), the common case of a unique key
        # costs one `setdefault`, and every index holds the same int object for a position:
        # one per item, not one per index (and fewer pages for forked workers to copy).
        every: list[OpenItem] = []
        ordinals: list[int] = []  # ordinals[p] is p, the object the indexes share
        is_open = bytearray()
        positions: dict[str, dict[str, int]] = {}  # entity -> document number -> position
        open_status = ItemStatus.OPEN
        for source_is_open, source in ((True, items), (False, closed_items)):
            for item in source:
                numbers = positions.get(item.entity)
                if numbers is None:
                    numbers = positions[item.entity] = {}
                position = len(every)
                if numbers.setdefault(item.document_number, position) != position:
                    continue  # an item listed as open wins over a stale closed copy
                every.append(item)
                ordinals.append(position)
                is_open.append(source_is_open and item.status is open_status
                               and item.open_amount != ZERO)
        by_document: dict[str, _Positions] = {}
        by_digits: dict[str, _Positions] = {}
        for position, item in zip(ordinals, every, strict=True):
            full, digits = document_keys(item.document_number)
            if by_document.setdefault(full, position) != position:
                _put(by_document, full, position)
            for digit_key in digits:
                if by_digits.setdefault(digit_key, position) != position:
                    _put(by_digits, digit_key, position)
        by_reference: dict[str, _Positions] = {}
        for position, item in zip(ordinals, every, strict=True):
            if item.payment_reference:
                _put(by_reference, compact(item.payment_reference), position)
        matchable = [position for position, flag in zip(ordinals, is_open, strict=True) if flag]
        self._items = tuple(every)
        self._open = is_open
        self._positions = positions
        self._by_document = by_document
        self._by_digits = by_digits
        self._by_reference = by_reference
        self._by_customer = _grouped(every, matchable)
        self._by_amount: tuple[array[int], array[int]] | None = None  # built on first use

    def __getstate__(self) -> tuple[None, dict[str, object]]:
        """Pickled (and compared) without the amount index: a cache, built again on use."""
        state = {name: getattr(self, name) for name in self.__slots__ if hasattr(self, name)}
        state["_by_amount"] = None
        return None, state

    # --- items ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def _position(self, key: ItemKey) -> int | None:
        numbers = self._positions.get(key.entity)
        return None if numbers is None else numbers.get(key.document_number)

    def item(self, key: ItemKey) -> OpenItem | None:
        position = self._position(key)
        if position is None or not self._open[position]:
            return None
        return self._items[position]

    def known_item(self, key: ItemKey) -> OpenItem | None:
        position = self._position(key)
        return None if position is None else self._items[position]

    def is_open(self, key: ItemKey) -> bool:
        position = self._position(key)
        return position is not None and bool(self._open[position])

    def _resolve(self, found: _Positions | None) -> tuple[OpenItem, ...]:
        # Asked for every window of every remittance text: most find nothing, most of the
        # rest one item, neither needs a generator.
        if found is None:
            return ()
        if isinstance(found, int):
            return (self._items[found],)
        items = self._items
        return tuple([items[p] for p in found])

    def items_by_document(self, full_key: str) -> tuple[OpenItem, ...]:
        return self._resolve(self._by_document.get(full_key))

    def items_by_digits(self, digit_key: str) -> tuple[OpenItem, ...]:
        return self._resolve(self._by_digits.get(digit_key))

    def items_by_payment_reference(self, reference: str) -> tuple[OpenItem, ...]:
        return self._resolve(self._by_reference.get(compact(reference)))

    def items_by_reference_key(self, key: str) -> tuple[OpenItem, ...]:
        """`items_by_payment_reference` for a reference already compacted (`compact`)."""
        return self._resolve(self._by_reference.get(key))

    def open_items_of(self, customer_id: str, currency: str | None = None) -> tuple[OpenItem, ...]:
        items = self._items
        positions = self._by_customer.get(customer_id, ())
        if currency is None:
            return tuple([items[p] for p in positions])
        return tuple([item for p in positions if (item := items[p]).currency == currency])

    def items_with_amount(self, amount: Decimal, currency: str,
                          customer_ids: Iterable[str] | None = None) -> tuple[OpenItem, ...]:
        """Open items of `customer_ids` (default: every customer) whose open amount is `amount`."""
        if customer_ids is None:
            found: Iterable[int] = self._positions_with_amount(amount)
        else:
            found = sorted({p for customer_id in set(customer_ids)
                            for p in self._by_customer.get(customer_id, ())})
        return tuple(item for item in map(self._items.__getitem__, found)
                     if item.open_amount == amount and item.currency == currency)

    def _positions_with_amount(self, amount: Decimal) -> list[int]:
        """Positions of the open items owing exactly `amount`, ascending (the amount index)."""
        scaled = amount.scaleb(_AMOUNT_DECIMALS)
        if scaled != scaled.to_integral_value():
            return []  # finer than any stored amount
        if self._by_amount is None:
            ranked = sorted((int(item.open_amount.scaleb(_AMOUNT_DECIMALS)), position)
                            for position, item in enumerate(self._items) if self._open[position])
            self._by_amount = (array("q", (a for a, _ in ranked)),
                               array("q", (p for _, p in ranked)))
        amounts, positions = self._by_amount
        wanted = int(scaled)
        start = bisect.bisect_left(amounts, wanted)
        end = bisect.bisect_right(amounts, wanted, lo=start)
        return sorted(positions[start:end])

    # --- customers --------------------------------------------------------------------------

    def customer(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    def customers_by_iban(self, iban: str | None) -> tuple[str, ...]:
        return self._by_iban.get(compact(iban), ()) if iban else ()

    def customers_by_learned_iban(self, iban: str | None) -> tuple[str, ...]:
        return self._by_learned_iban.get(compact(iban), ()) if iban else ()

    def customers_by_name(self, name: str | None) -> tuple[str, ...]:
        return self._lookup_name(self._by_name, name)

    def customers_by_alias(self, name: str | None) -> tuple[str, ...]:
        return self._lookup_name(self._by_alias, name)

    @staticmethod
    def _lookup_name(index: dict[str, tuple[str, ...]], name: str | None) -> tuple[str, ...]:
        if not name:
            return ()
        found: list[str] = []
        for variant in name_variants(name):
            for customer_id in index.get(variant, ()):
                if customer_id not in found:
                    found.append(customer_id)
        return tuple(found)

    def names_starting_with(self, prefix: str) -> range:
        """Positions in `name_choices` of the names that start with `prefix`."""
        low = bisect.bisect_left(self.name_choices, prefix)
        high = bisect.bisect_left(self.name_choices, prefix + "\uffff")
        return range(low, high)

    def group_of(self, customer_id: str) -> tuple[str, ...]:
        """The customer first, then parent, subsidiaries and siblings (sorted, no repeats)."""
        customer = self._customers.get(customer_id)
        related: set[str] = set(self._children.get(customer_id, ()))
        parent = customer.parent_customer_id if customer else None
        if parent:
            related.add(parent)
            related.update(self._children.get(parent, ()))
        related.discard(customer_id)
        return (customer_id, *sorted(related))

    def in_same_group(self, first: str, second: str) -> bool:
        """`second in group_of(first)`, without building the group (asked per item)."""
        if first == second or second in self._children.get(first, ()):
            return True
        customer = self._customers.get(first)
        parent = customer.parent_customer_id if customer else None
        if not parent:
            return False
        return second == parent or second in self._children.get(parent, ())
