"""The exact, bounded subset-sum search behind the amount-combination matcher.

Which items (each left out, taken in full, or taken less its cash discount) sum to a target
within a tolerance, in integer cents? Not greedy: every fitting set is considered, and the
result says how many fit equally well (ambiguity) and whether the search was complete.

Three methods, all deterministic:
- for pools of more than `SMALL_POOL` items, the exact sets of up to four items first, by
  hashing single and pair sums (an exact small set outranks any larger set, so an exact hit
  there is complete);
- meet-in-the-middle (each half's subset sums as (sum, bitmask) ints, binary search across):
  exhaustive while each half keeps at most `HALF_LIMIT` sums that can still fit (sums that
  cannot reach the target, or cannot come back under it, are dropped as they appear);
- otherwise depth-first branch-and-bound over the larger amounts, each branch finished by a
  binary search in a sorted table of every subset of the smallest amounts, bounded by
  `DEPTH_BUDGET` nodes and a cap on CPU time (`time_ms`, a safety net only: the node budget
  binds first; CPU, not wall-clock, time so that a busy machine or a worker process waiting
  for a core does not change the result); stopping early marks the result incomplete, which
  blocks automatic application.

Whatever the method, a complete search finds the same best difference, size and number of
equally good sets; the sets kept when more than `SOLUTION_LIMIT` tie follow the method's
order.

Fewer items win, but an exact set of another size is still a second reading of the payment
(two of the payer's invoices that add up to a third: which did it pay?). The search notes
the exact sets it meets; those that are not the best set plus items that cancel out (an
invoice and its credit note) are counted as `other_exact`, which makes the result ambiguous.
Meet-in-the-middle meets every exact set; the other methods stop at the smallest and count
only those they met on the way.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

NODE_BUDGET = 60_000  # deterministic bound on the search; the time cap is a safety net
# The depth-first search's own bound: each of its nodes costs more than a matched pair, and
# a pool that needs more is one where many sets fit (ambiguous whatever the search finds).
DEPTH_BUDGET = 20_000
SOLUTION_LIMIT = 3  # alternatives kept for review
HALF_LIMIT = 1 << 11  # sums per half for the meet-in-the-middle search; beyond: depth-first
SMALL_POOL = 16  # items; beyond, exact sets of up to four items are looked for first
SMALL_SET = 4  # items in a set that the exact small-set search covers
EXACT_KEPT = 64  # exact sets noted for the other-size check; beyond, the result is ambiguous
TAIL_LIMIT = 1 << 12  # subsets of the smallest amounts tabulated for the depth-first search

Choice = tuple[int, bool]  # (item index, cash discount taken)
_Pick = tuple[int, int]  # (position in search order, option: 0 full, 1 discounted)
_Found = tuple[tuple[Any, ...], list[_Pick]]  # (the order the small-set search met it, set)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The best-fitting sets found. `difference` is cents the items exceed the target by."""

    solutions: tuple[tuple[Choice, ...], ...] = ()
    difference: int | None = None
    size: int | None = None
    count: int = 0  # sets as good as the best (capped at SOLUTION_LIMIT + 1)
    within_tolerance: int = 0  # inexact sets found inside the tolerance (when no exact one)
    complete: bool = True
    # Found in a pool too large to search exhaustively, with more than `SMALL_SET` items: so
    # many sets are possible there that even a unique exact sum may be a coincidence.
    crowded: bool = False
    # Exact sets of another size than the best, other than the best plus items that cancel
    # out (see the module docstring).
    other_exact: int = 0

    @property
    def ambiguous(self) -> bool:
        if self.count > 1 or self.other_exact:
            return True
        return bool(self.difference) and self.within_tolerance > 1


@dataclass(slots=True)
class _Search:
    options: list[tuple[int, ...]]
    target: int
    tolerance: int
    budget: int
    deadline: float
    pos_max: list[int] = field(default_factory=list)
    neg_min: list[int] = field(default_factory=list)
    nodes: int = 0
    stopped: bool = False
    best_key: tuple[int, int] | None = None
    best: list[tuple[_Pick, ...]] = field(default_factory=list)
    count: int = 0
    within: int = 0
    exact: list[int] = field(default_factory=list)  # exact sets met, as pick masks
    exact_overflow: bool = False


def find_combinations(amounts: Sequence[tuple[int, int | None]], target: int, tolerance: int,
                      *, limit: int = SOLUTION_LIMIT, node_budget: int = NODE_BUDGET,
                      time_ms: int = 1000, half_limit: int = HALF_LIMIT) -> SearchResult:
    """Sets of items whose amounts sum to `target` .. `target + tolerance` (integer cents).

    `amounts[i]` is (open amount, open amount less discount or None). Each item is left out,
    taken in full, or taken with its discount. Returns the sets with the smallest difference
    (then the fewest items), at most `limit` of them, in a deterministic order.

    Exact small sets first for large pools, then meet-in-the-middle while each half keeps at
    most `HALF_LIMIT` sums that can still fit (`half_limit=0` forces the other methods);
    beyond that depth-first with branch-and-bound until `node_budget` (at most
    `DEPTH_BUDGET`) nodes or `time_ms` (then `complete` is False).
    """
    order = sorted(range(len(amounts)), key=lambda i: (-abs(amounts[i][0]), i))
    options: list[tuple[int, ...]] = []
    for i in order:
        full, discounted = amounts[i]
        options.append((full,) if discounted is None or discounted == full else (full, discounted))
    state = _Search(options, target, tolerance, node_budget,
                    time.process_time() + time_ms / 1000.0)
    pos_max = [0] * (len(options) + 1)
    neg_min = [0] * (len(options) + 1)
    for k in range(len(options) - 1, -1, -1):
        pos_max[k] = pos_max[k + 1] + max(0, *options[k])
        neg_min[k] = neg_min[k + 1] + min(0, *options[k])
    state.pos_max, state.neg_min = pos_max, neg_min
    if pos_max[0] < target or neg_min[0] > target + tolerance:
        return SearchResult()  # every item together falls short, or the credits exceed it
    if len(options) > SMALL_POOL or not half_limit:
        # A large pool: the exact sets of up to four items first (cheap, by hashing). An
        # exact small set outranks any larger one, so the search is then complete.
        _exact_small_sets(state)
    crowded = False
    if state.best_key is None and not state.stopped \
            and not (half_limit and _meet_in_the_middle(state, len(options) // 2)):
        _descend(state)
        crowded = state.best_key is not None and state.best_key[1] > SMALL_SET
    other_exact = _other_exact_sets(state) if state.best_key and not state.best_key[0] else 0
    solutions = []
    for chosen in state.best[:limit]:
        solutions.append(tuple(sorted(
            (order[k], bool(opt)) for k, opt in chosen)))
    solutions.sort()
    key = state.best_key
    return SearchResult(tuple(solutions), key[0] if key else None, key[1] if key else None,
                        state.count, state.within, not state.stopped, crowded, other_exact)


def _other_exact_sets(s: _Search) -> int:
    """The exact sets met of another size than the best, other than the best set with more
    items added (the same items, each taken the same way): adding an invoice and the credit
    note that cancels it is no second reading; taking an item's discount and another item
    instead is one."""
    best = 0
    for position, option in s.best[0]:
        best |= 1 << (2 * position + option)
    size = best.bit_count()
    others = sum(1 for found in s.exact
                 if found.bit_count() != size and (found & best) != best)
    return others + s.exact_overflow


def _half_sums(s: _Search, positions: range, ceiling: int, other_reach: int,
               shift: int) -> list[int] | None:
    """The subsets of one half that can still fit, or None when too many.

    Each subset is one int, its sum shifted left by `shift` bits plus its mask: bit 2k of
    the mask takes item k in full, bit 2k+1 with its discount. Ints compare and sort as the
    pairs (sum, mask) would, and adding an item is one addition: no tuple per subset. A sum
    is dropped as soon as it cannot fit whatever the rest of the pool adds: above what the
    credit notes still to come can bring down (`ceiling`), or below what the invoices still
    to come, this half's and the other's (`other_reach`), can lift to the target. Dropping
    only filters the list, so the survivors keep their order.
    """
    sums: list[int] = [0]
    stop = positions.stop
    neg_min, pos_max, target = s.neg_min, s.pos_max, s.target
    for k in positions:
        # What the rest of this half can still take away (credit notes) keeps a sum alive,
        # and what it (with the other half) can still add.
        limit = ceiling - (neg_min[k + 1] - neg_min[stop])
        floor = target - other_reach - (pos_max[k + 1] - pos_max[stop])
        lowest, above = floor << shift, (limit + 1) << shift  # floor <= sum <= limit
        grown: list[int] = []
        for n, value in enumerate(s.options[k]):
            shifted = value << shift
            step = shifted + (1 << (2 * k + n))
            low, high = lowest - shifted, above - shifted
            grown.extend([entry + step for entry in sums if low <= entry < high])
        if sums[0] < lowest or sums[-1] >= above or len(sums) > 64:
            sums = [entry for entry in sums if lowest <= entry < above]
        sums.extend(grown)
        if len(sums) > HALF_LIMIT:
            return None
        if not sums:
            return sums
    return sums


def _picks(mask: int) -> list[_Pick]:
    picks: list[_Pick] = []
    position = 0
    while mask:
        if mask & 1:
            picks.append((position // 2, position % 2))
        mask >>= 1
        position += 1
    return picks


def _meet_in_the_middle(s: _Search, middle: int) -> bool:
    """Every subset sum of each half that can fit, then one binary search per left sum.

    Exact and fast while each half keeps at most `HALF_LIMIT` sums; returns False (nothing
    recorded) when a half grows beyond that, and the caller searches depth-first instead.
    """
    upper_bound = s.target + s.tolerance
    end = len(s.options)
    shift = 2 * end  # the masks' bits
    left_reach = s.pos_max[0] - s.pos_max[middle]
    # The right half holds the smaller amounts, whose sums survive the ceiling more often:
    # when a half is too large it is usually that one, so it is built first.
    right = _half_sums(s, range(middle, end), upper_bound - s.neg_min[0] + s.neg_min[middle],
                       left_reach, shift)
    if right is None:
        return False
    left = _half_sums(s, range(middle), upper_bound - s.neg_min[middle], s.pos_max[middle],
                      shift)
    if left is None:
        return False
    if not right or not left:
        return True
    right.sort()
    masks = (1 << shift) - 1
    right_sums = [entry >> shift for entry in right]
    low_sum, high_sum = right_sums[0], right_sums[-1]
    target = s.target
    for entry in left:
        total = entry >> shift
        if total + high_sum < target or total + low_sum > upper_bound:
            continue
        low = bisect.bisect_left(right_sums, target - total)
        high = bisect.bisect_right(right_sums, upper_bound - total, low)
        mask = entry & masks
        for j in range(low, high):
            s.nodes += 1
            if s.nodes > s.budget:
                s.stopped = True
                return True
            both = mask | (right[j] & masks)
            if both:
                _record_mask(s, total + right_sums[j] - target, both)
    return True


def _exact_small_sets(s: _Search) -> None:
    """The exact sets of one to four items (each full or discounted), smallest size only.

    Set intersections of single and pair sums say which sizes hit the target at all; only
    the sums that hit are enumerated, in the order of sorted pair sums. A pool of forty items
    has some three thousand pairs and almost never an exact small set: the pair sums are
    plain ints, and pairs are only spelled out for the sums that hit."""
    target = s.target
    elements = [(value, k, n) for k, choices in enumerate(s.options)
                for n, value in enumerate(choices)]
    found: list[_Found] = []
    for value, k, n in elements:
        if value == target:
            found.append(((k, n), [(k, n)]))
    by_value: dict[int, list[tuple[int, int, int]]] = {}
    for position, (value, k, n) in enumerate(elements):
        by_value.setdefault(value, []).append((position, k, n))
    if not found and any(target - v in by_value for v in by_value):
        for i, (value, k, n) in enumerate(elements):
            for j, k2, n2 in by_value.get(target - value, ()):
                if j > i and k2 != k:
                    found.append(((k, k2, n, n2), [(k, n), (k2, n2)]))
    if not found:
        pair_sums = _pair_sums(s.options)
        rests = {target - value for value, _, _ in elements} & pair_sums
        by_sum: dict[int, list[_Pair]] = {}
        for pair in _pairs_summing(elements, rests) if rests else ():
            by_sum.setdefault(pair[0], []).append(pair)
        for value, k, n in elements:
            found.extend(((k, n, first, second, picks), [(k, n), *picks])
                         for _, first, second, picks in by_sum.get(target - value, ())
                         if k < first)
        if not found:
            _exact_quads(s, elements, pair_sums, found)
    found.sort(key=lambda f: f[0])
    for _, picks in found:
        _record(s, 0, picks)


_Pair = tuple[int, int, int, tuple[_Pick, _Pick]]  # (sum, position, position, picks)


def _pair_sums(options: list[tuple[int, ...]]) -> set[int]:
    """The sums of two options of different positions."""
    sums: set[int] = set()
    earlier: list[int] = []
    for choices in options:
        for value in choices:
            sums.update({value + other for other in earlier})
        earlier.extend(choices)
    return sums


def _pairs_summing(elements: list[tuple[int, int, int]], sums: set[int]) -> list[_Pair]:
    """The pairs of elements of different positions whose sum is in `sums`, as
    (sum, first position, second position, picks), in the order of `elements`."""
    return [(a[0] + b[0], a[1], b[1], ((a[1], a[2]), (b[1], b[2])))
            for i, a in enumerate(elements) for b in elements[i + 1:]
            if a[0] + b[0] in sums and a[1] != b[1]]


def _exact_quads(s: _Search, elements: list[tuple[int, int, int]], pair_sums: set[int],
                 found: list[_Found]) -> None:
    hits = pair_sums & {s.target - total for total in pair_sums}
    if not hits:
        return
    by_sum: dict[int, list[_Pair]] = {}
    for pair in sorted(_pairs_summing(elements, hits)):
        by_sum.setdefault(pair[0], []).append(pair)
    for total, pairs_here in sorted(by_sum.items()):
        others = by_sum.get(s.target - total, [])
        for first in pairs_here:
            for other in others:
                if first[2] < other[1]:
                    s.nodes += 1
                    if s.nodes > s.budget:
                        s.stopped = True
                        return
                    found.append(((*first, *other[1:]), [*first[3], *other[3]]))


def _tail_table(options: list[tuple[int, ...]], start: int) -> tuple[list[int], list[int],
                                                                     list[int]]:
    """Every subset of positions `start`.. as (sorted sums, their masks, their ranks).

    The rank is the order in which a depth-first walk (full, then discounted, then left out,
    earlier positions first) would reach the subset, so matches are recorded in that order."""
    sums, masks = [0], [0]
    for k in range(len(options) - 1, start - 1, -1):
        new_sums: list[int] = []
        new_masks: list[int] = []
        for n, value in enumerate(options[k]):
            bit = 1 << (2 * k + n)
            new_sums.extend([total + value for total in sums])
            new_masks.extend([mask | bit for mask in masks])
        sums = new_sums + sums
        masks = new_masks + masks
    ranks = sorted(range(len(sums)), key=sums.__getitem__)
    return [sums[r] for r in ranks], [masks[r] for r in ranks], ranks


def _tail_start(options: list[tuple[int, ...]]) -> int:
    start, size = len(options), 1
    while start > 0 and size * (len(options[start - 1]) + 1) <= TAIL_LIMIT:
        start -= 1
        size *= len(options[start]) + 1
    return start


def _descend(s: _Search) -> None:
    """Depth-first branch-and-bound over the larger amounts, every set of the smallest ones
    looked up in a sorted table at once; a node is one position visited or one set matched.

    The state lives in locals of one closure (the search visits up to `node_budget` nodes:
    attribute lookups per node would dominate). The best key changes only when a set is
    recorded, under a child visited or a look-up that finds sets: each loop reads it again
    only then, not once per branch."""
    options, neg_min, pos_max = s.options, s.neg_min, s.pos_max
    target, tolerance, deadline = s.target, s.tolerance, s.deadline
    budget = min(s.budget, DEPTH_BUDGET)
    start = _tail_start(options)
    tail_sums, tail_masks, tail_ranks = _tail_table(options, start)
    # A sum above every ceiling that passes the bounds (at most `tolerance + pos_max[start]`)
    # ends the table: a look-up past the last sum needs no length check of its own.
    tail_sums.append(tolerance + pos_max[start] + 1)
    clock = time.process_time
    nodes = s.nodes
    stopped = s.stopped
    checkpoint = 0  # set with the root below
    chosen: list[_Pick] = []
    left = bisect.bisect_left
    right = bisect.bisect_right
    # Per position: take in full, take discounted, leave out (None), in the order searched.
    branches = [[*(((k, n), value) for n, value in enumerate(choices)), (None, 0)]
                for k, choices in enumerate(options)]

    def record_tail(total: int, low: int, high: int) -> None:
        """The sets of the tail table at positions low..high completing `total`, in the
        order of the depth-first walk."""
        matched = range(low, high) if high - low == 1 \
            else sorted(range(low, high), key=tail_ranks.__getitem__)
        for j in matched:
            mask = tail_masks[j]
            difference = total + tail_sums[j] - target
            if (mask or chosen) and (not difference or s.best_key is None
                                     or s.best_key[0] != 0):
                _record_mask(s, difference, mask, chosen)

    def must_stop() -> bool:
        """At a checkpoint: over the budget, or on a multiple of 1,024 and out of time."""
        nonlocal checkpoint
        if nodes > budget or (nodes & 1023 == 0 and clock() > deadline):
            return True
        checkpoint = min(budget + 1, ((nodes >> 10) + 1) << 10)
        return False

    def visit(k: int, total: int) -> None:
        """Node (k, total), already counted and inside the bounds: its children are counted
        and bounded here, before the call (most of them fall outside). Children at the tail
        table's position (most nodes) are looked up here too, without a call of their own."""
        nonlocal nodes, stopped
        best_key = s.best_key
        exact_found = best_key is not None and best_key[0] == 0
        best_size = best_key[1] if exact_found and best_key is not None else 0
        if exact_found and len(chosen) >= best_size and total != target:
            return  # an exact set of fewer items exists; a larger one cannot beat it
        upper = target if exact_found else target + tolerance
        if k == start:
            low = left(tail_sums, target - total)
            high = right(tail_sums, upper - total, low)
            if low < high:
                nodes += high - low
                record_tail(total, low, high)
            return
        after = k + 1
        lowest, highest = neg_min[after] - upper, pos_max[after] - target
        children_are_tails = after == start
        size = len(chosen)
        for pick, value in branches[k]:
            nodes += 1
            if nodes >= checkpoint and must_stop():
                stopped = True
                return
            child = total + value
            if child + lowest > 0 or child + highest < 0:
                continue
            if children_are_tails:
                # `visit(after, child)` for a tail node, inline. Most find no set in the
                # table: the pick joins `chosen` only for one that does.
                if exact_found:  # only exact sets now, and only smaller ones
                    if size + (pick is not None) >= best_size and child != target:
                        continue
                    ceiling = target - child
                else:
                    ceiling = target + tolerance - child
                low = left(tail_sums, target - child)
                if tail_sums[low] > ceiling:
                    continue  # a tail node stops nothing: only the budget check above does
                high = right(tail_sums, ceiling, low)
                nodes += high - low
                if pick is not None:
                    chosen.append(pick)
                record_tail(child, low, high)
            else:
                if pick is not None:
                    chosen.append(pick)
                visit(after, child)
            if pick is not None:
                chosen.pop()
            if stopped:
                return
            # Sets may have been recorded under this branch: only then can the key change.
            best_key = s.best_key
            if best_key is not None and best_key[0] == 0:  # only exact sets from now on
                if not exact_found:
                    exact_found, lowest = True, neg_min[after] - target
                best_size = best_key[1]

    nodes += 1  # the root
    # The next count at which the budget or the clock needs a look: the budget's end, or the
    # next multiple of 1,024 (the clock is read when a branch lands on one). One comparison
    # per node instead of three.
    checkpoint = min(budget + 1, ((nodes >> 10) + 1) << 10)
    if nodes <= budget and neg_min[0] <= target + tolerance and pos_max[0] >= target:
        visit(0, 0)
    s.nodes, s.stopped = nodes, stopped or nodes > budget


def _record_mask(s: _Search, difference: int, mask: int, chosen: Sequence[_Pick] = ()) -> None:
    """`_record` for a set given as a mask (plus picks already made): the picks are only
    spelled out for a set that ranks among the best."""
    key = (difference, len(chosen) + mask.bit_count())
    if not difference:
        _note_exact(s, mask, chosen)
    if s.best_key is not None and key > s.best_key:
        if difference:
            s.within += 1
        return
    _record(s, difference, [*chosen, *_picks(mask)])


def _record(s: _Search, difference: int, chosen: list[_Pick]) -> None:
    if difference:
        s.within += 1
    key = (difference, len(chosen))
    if s.best_key is None or key < s.best_key:
        s.best_key, s.best, s.count = key, [tuple(chosen)], 1
    elif key == s.best_key:
        s.count += 1
        if len(s.best) <= SOLUTION_LIMIT:
            s.best.append(tuple(chosen))


def _note_exact(s: _Search, mask: int, chosen: Sequence[_Pick]) -> None:
    """Keep an exact set as a pick mask (bit 2k: item k in full, 2k+1: with its discount)."""
    if len(s.exact) >= EXACT_KEPT:
        s.exact_overflow = True
        return
    for position, option in chosen:
        mask |= 1 << (2 * position + option)
    s.exact.append(mask)
