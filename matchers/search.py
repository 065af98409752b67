"""The exact, bounded subset-sum search behind the amount-combination matcher.

Which items (each left out, taken in full, or taken less its cash discount) sum to a target
within a tolerance, in integer cents? Not greedy: every fitting set is considered, and the
result says how many fit equally well (ambiguity) and whether the search was complete.

Three methods, chosen by the size of the pool, all deterministic:
- meet-in-the-middle (each half's subset sums as (sum, bitmask) ints, binary search across):
  exhaustive while each half keeps at most `HALF_LIMIT` sums that can still fit;
- for larger pools, every set of up to four items by sorted pair sums (an exact small set
  outranks any larger one, so an exact hit there is complete);
- otherwise depth-first branch-and-bound over the reachable range, bounded by `node_budget`
  nodes and a wall-clock cap (`time_ms`, a safety net under load); stopping early marks the
  result incomplete, which blocks automatic application.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

NODE_BUDGET = 60_000  # deterministic bound on the search; the time cap is a safety net
SOLUTION_LIMIT = 3  # alternatives kept for review
HALF_LIMIT = 1 << 14  # sums per half for the meet-in-the-middle search; beyond: depth-first

Choice = tuple[int, bool]  # (item index, cash discount taken)
_Pick = tuple[int, int]  # (position in search order, option: 0 full, 1 discounted)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The best-fitting sets found. `difference` is cents the items exceed the target by."""

    solutions: tuple[tuple[Choice, ...], ...] = ()
    difference: int | None = None
    size: int | None = None
    count: int = 0  # sets as good as the best (capped at SOLUTION_LIMIT + 1)
    within_tolerance: int = 0  # inexact sets found inside the tolerance (when no exact one)
    complete: bool = True

    @property
    def ambiguous(self) -> bool:
        if self.count > 1:
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


def find_combinations(amounts: Sequence[tuple[int, int | None]], target: int, tolerance: int,
                      *, limit: int = SOLUTION_LIMIT, node_budget: int = NODE_BUDGET,
                      time_ms: int = 200, half_limit: int = HALF_LIMIT) -> SearchResult:
    """Sets of items whose amounts sum to `target` .. `target + tolerance` (integer cents).

    `amounts[i]` is (open amount, open amount less discount or None). Each item is left out,
    taken in full, or taken with its discount. Returns the sets with the smallest difference
    (then the fewest items), at most `limit` of them, in a deterministic order.

    Searched exhaustively by meet-in-the-middle while each half keeps at most `HALF_LIMIT`
    sums that can still fit (`half_limit=0` forces the other method); beyond that depth-first
    with branch-and-bound until `node_budget` nodes or `time_ms` (then `complete` is False).
    """
    order = sorted(range(len(amounts)), key=lambda i: (-abs(amounts[i][0]), i))
    options: list[tuple[int, ...]] = []
    for i in order:
        full, discounted = amounts[i]
        options.append((full,) if discounted is None or discounted == full else (full, discounted))
    state = _Search(options, target, tolerance, node_budget,
                    time.perf_counter() + time_ms / 1000.0)
    pos_max = [0] * (len(options) + 1)
    neg_min = [0] * (len(options) + 1)
    for k in range(len(options) - 1, -1, -1):
        pos_max[k] = pos_max[k + 1] + max(0, *options[k])
        neg_min[k] = neg_min[k + 1] + min(0, *options[k])
    state.pos_max, state.neg_min = pos_max, neg_min
    if not (half_limit and _meet_in_the_middle(state, len(options) // 2)):
        # A large pool: every set of up to SMALL_SET items first (cheap, by pair sums). An
        # exact one of those outranks any larger set, so the search is then complete;
        # otherwise a bounded depth-first search looks for larger sets.
        _small_sets(state)
        if state.best_key is None or state.best_key[0] != 0:
            state.best_key, state.best, state.count, state.within = None, [], 0, 0
            _descend(state, 0, 0, [])
    solutions = []
    for chosen in state.best[:limit]:
        solutions.append(tuple(sorted(
            (order[k], bool(opt)) for k, opt in chosen)))
    solutions.sort()
    key = state.best_key
    return SearchResult(tuple(solutions), key[0] if key else None, key[1] if key else None,
                        state.count, state.within, not state.stopped)


def _half_sums(s: _Search, positions: range, ceiling: int) -> list[tuple[int, int]] | None:
    """(sum, mask) of the subsets of one half that can still fit, or None when too many.

    Bit 2k of the mask takes item k in full, bit 2k+1 with its discount: plain ints keep the
    enumeration cheap."""
    sums: list[tuple[int, int]] = [(0, 0)]
    for k in positions:
        # What the rest of this half can still take away (credit notes) keeps a sum alive.
        limit = ceiling - (s.neg_min[k + 1] - s.neg_min[positions.stop])
        grown: list[tuple[int, int]] = []
        for n, value in enumerate(s.options[k]):
            bit = 1 << (2 * k + n)
            grown.extend([(total + value, mask | bit) for total, mask in sums
                          if total + value <= limit])
        sums.extend(grown)
        if len(sums) > HALF_LIMIT:
            return None
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
    # The right half holds the smaller amounts, whose sums survive the ceiling more often:
    # when a half is too large it is usually that one, so it is built first.
    right = _half_sums(s, range(middle, end), upper_bound - s.neg_min[0] + s.neg_min[middle])
    if right is None:
        return False
    left = _half_sums(s, range(middle), upper_bound - s.neg_min[middle])
    if left is None:
        return False
    right.sort()
    right_sums = [total for total, _ in right]
    for total, mask in left:
        low = bisect.bisect_left(right_sums, s.target - total)
        high = bisect.bisect_right(right_sums, upper_bound - total)
        for j in range(low, high):
            s.nodes += 1
            if s.nodes > s.budget:
                s.stopped = True
                return True
            both = mask | right[j][1]
            if both:
                _record(s, total + right_sums[j] - s.target, _picks(both))
    return True


def _small_sets(s: _Search) -> None:
    """Every set of one to four items (each full or discounted), by sorted pair sums."""
    upper_bound = s.target + s.tolerance
    elements = [(value, k, n) for k, choices in enumerate(s.options)
                for n, value in enumerate(choices)]
    for value, k, n in elements:
        if s.target <= value <= upper_bound:
            _record(s, value - s.target, [(k, n)])
    pairs = sorted((a[0] + b[0], a[1], b[1], ((a[1], a[2]), (b[1], b[2])))
                   for i, a in enumerate(elements) for b in elements[i + 1:] if a[1] != b[1])
    sums = [p[0] for p in pairs]

    def matching(low_value: int, high_value: int) -> range:
        return range(bisect.bisect_left(sums, low_value), bisect.bisect_right(sums, high_value))

    for total, _first, _second, picks in pairs:
        if s.target <= total <= upper_bound:
            _record(s, total - s.target, list(picks))
    for value, k, n in elements:  # three items: one element and a pair of later items
        for j in matching(s.target - value, upper_bound - value):
            total, first, second, picks = pairs[j]
            if k < first:
                _record(s, value + total - s.target, [(k, n), *picks])
    for total, _first, second, picks in pairs:  # four items: two pairs, ordered, disjoint
        for j in matching(s.target - total, upper_bound - total):
            other_total, third, _fourth, other = pairs[j]
            if second < third:
                s.nodes += 1
                if s.nodes > s.budget:
                    s.stopped = True
                    return
                _record(s, total + other_total - s.target, [*picks, *other])


def _descend(s: _Search, k: int, total: int, chosen: list[_Pick]) -> None:
    """Depth-first branch-and-bound from position `k`; every call counts as one node.

    The state lives in locals of one closure (the search visits up to `node_budget` nodes:
    attribute lookups per node would dominate)."""
    options, neg_min, pos_max = s.options, s.neg_min, s.pos_max
    target, tolerance, budget, deadline = s.target, s.tolerance, s.budget, s.deadline
    end = len(options)
    clock = time.perf_counter
    nodes = s.nodes
    stopped = s.stopped

    def visit(k: int, total: int) -> None:
        nonlocal nodes, stopped
        nodes += 1
        if nodes > budget or (nodes & 1023 == 0 and clock() > deadline):
            stopped = True
        if stopped:
            return
        best_key = s.best_key
        exact_found = best_key is not None and best_key[0] == 0
        upper = target if exact_found else target + tolerance
        if total + neg_min[k] > upper or total + pos_max[k] < target:
            return
        if exact_found and best_key is not None and len(chosen) >= best_key[1] \
                and total != target:
            return  # an exact set of fewer items exists; a larger one cannot beat it
        if k == end:
            if chosen and target <= total <= upper:
                _record(s, total - target, chosen)
            return
        for n, value in enumerate(options[k]):
            chosen.append((k, n))
            visit(k + 1, total + value)
            chosen.pop()
        visit(k + 1, total)

    visit(k, total)
    s.nodes, s.stopped = nodes, stopped


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
