"""Amount-combination matcher: which of the payer's open items add up to the payment?

Customers pay several invoices at once, net of credit notes and cash discounts, and banks
deduct charges on the way. Once the payer is known (IBAN, exact name, learned alias, or the
items its text cites), we search the payer's open items for every set whose open amounts, each
less its allowed discount or not, sum to the payment within the bank-charge tolerance.

The search (`matchers.search.find_combinations`) is exact and bounded, not greedy, over
integer cents, bounded by a node budget and, as a safety net, a cap on CPU time
(`settings.combination_time_ms`); stopping early marks the result incomplete, which blocks
automatic application. Exact sums beat tolerance sums, fewer items
beat more; when several sets fit equally well, that is ambiguity and nobody is auto-applied.
An exact set of another size is a second reading too (two of the payer's invoices that add up
to a third): the fewest items still lead the suggestions, but a person decides.
When the payment names items, the search is anchored on them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rapidfuzz.distance import DamerauLevenshtein

from matchers import scoring
from matchers.candidates import CandidateView
from matchers.reference import ReferenceScan, payer_customers, scan_references
from matchers.search import SMALL_SET, SOLUTION_LIMIT, SearchResult, find_combinations
from matchers.settlement import (
    Fit,
    amount_evidence,
    discount_of,
    partial_evidence,
    settle,
    settle_chosen,
    without_unsaid_discounts,
)
from matchers.text import MIN_DIGITS, compact, digit_keys, tail_key
from reconciler.domain import Evidence, OpenItem, Payment, Proposal
from reconciler.money import ZERO, format_amount, minor_units
from reconciler.settings import MatchingSettings

NAME = "combination"

# --- proposals for identified payers ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """A customer the payer probably is, and why we think so."""

    customer_id: str
    evidence: tuple[Evidence, ...]


def _cents(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)).to_integral_value())


def candidate_items(payment: Payment, view: CandidateView, customer_ids: Sequence[str],
                    max_items: int, tolerance: Decimal = ZERO) -> tuple[list[OpenItem], bool]:
    """The open items worth searching, oldest due first, and whether some were left out."""
    pool: list[OpenItem] = []
    for customer_id in customer_ids:
        pool.extend(view.open_items_of(customer_id, payment.currency))
    credits = -sum((i.open_amount for i in pool if i.open_amount < ZERO), ZERO)
    # An invoice larger than the payment plus every credit note plus the bank charges (less
    # its own discount) cannot be in any fitting set.
    reachable = payment.amount + credits + tolerance
    # Without a discount rate an item has no discount to take (most items: no rounding).
    useful = [i for i in pool if (i.open_amount if not i.discount_rate
                                  else i.open_amount - discount_of(i, payment)) <= reachable]
    if len({i.entity for i in useful}) < 2:
        # One ledger (the usual case): `ENTITY/NUMBER` orders as the number alone.
        useful.sort(key=lambda i: (i.due_date, i.document_number))
    else:
        useful.sort(key=lambda i: (i.due_date, f"{i.entity}/{i.document_number}"))  # str(key)
    return useful[:max_items], len(useful) > max_items


def search_items(payment: Payment, items: Sequence[OpenItem],
                 settings: MatchingSettings) -> SearchResult:
    """Run `find_combinations` over `items` for this payment, in cents."""
    currency = payment.currency
    units = minor_units(currency)
    amounts: list[tuple[int, int | None]] = []
    for item in items:
        discount = discount_of(item, payment)
        full = int(item.open_amount.scaleb(units).to_integral_value())
        amounts.append((full, _cents(item.open_amount - discount, currency) if discount else None))
    tolerance = _cents(settings.tolerance(currency).bank_charge, currency)
    return find_combinations(amounts, _cents(payment.amount, currency), tolerance,
                             time_ms=settings.combination_time_ms)


def propose_for_identities(matcher: str, payment: Payment, view: CandidateView,
                           settings: MatchingSettings, identities: Sequence[Identity],
                           scan: ReferenceScan | None = None) -> list[Proposal]:
    """Search each identified customer's items (then its group's) and build the proposals.

    Shared by the combination and the fuzzy-name matcher: only the identities differ.
    """
    if payment.amount <= ZERO:
        return []
    scan = scan if scan is not None else scan_references(payment, view)
    named = _named_set_fits(matcher, payment, view, settings, identities, scan)
    if named is not None:
        return [named]
    anchored = _anchored(matcher, payment, view, settings, identities, scan)
    if anchored:
        return anchored
    found: list[tuple[Identity, list[OpenItem], SearchResult, bool, bool]] = []
    for identity in identities:
        charges = settings.tolerance(payment.currency).bank_charge
        own, truncated = candidate_items(payment, view, [identity.customer_id],
                                         settings.combination_max_items, charges)
        result = search_items(payment, own, settings)
        via_group = False
        if not result.solutions:
            group = view.group_of(identity.customer_id)
            if len(group) > 1:
                own, truncated = candidate_items(payment, view, group,
                                                 settings.combination_max_items, charges)
                result = search_items(payment, own, settings)
                via_group = True
        if result.solutions:
            found.append((identity, own, result, truncated, via_group))
    if not found:
        return []
    best_key = min((r.difference or 0, r.size or 0) for _, _, r, _, _ in found)
    rivals = sum(r.count for _, _, r, _, _ in found
                 if (r.difference or 0, r.size or 0) == best_key)
    proposals: list[Proposal] = []
    for identity, items, result, truncated, via_group in found:
        for solution in result.solutions:
            chosen = [items[i] for i, _ in solution]
            proposals.append(_proposal(matcher, payment, view, identity, chosen,
                                       [d for _, d in solution], result, rivals, best_key,
                                       truncated, via_group, scan, settings))
    proposals.sort(key=lambda p: (-p.confidence, sorted(str(k) for k in p.item_keys)))
    return proposals[:SOLUTION_LIMIT]


def _anchored(matcher: str, payment: Payment, view: CandidateView, settings: MatchingSettings,
              identities: Sequence[Identity], scan: ReferenceScan) -> list[Proposal]:
    """The payment names some items and pays more: search only the sets that contain them.

    Payers often list a few invoices and pay more of them. The named items (by reference, or
    by the short form of one of the payer's own numbers) are forced into the set and the rest
    of the amount is searched among the payer's other items.
    """
    charges = settings.tolerance(payment.currency).bank_charge
    for identity in identities:
        cited = _named_items(scan, view, identity, payment.currency)
        named_total = sum((i.open_amount for i in cited), ZERO)
        group = view.group_of(identity.customer_id)
        if not cited or payment.amount <= named_total \
                or not all(i.customer_id in group for i in cited):
            continue
        rest = dataclasses.replace(payment, amount=payment.amount - named_total)
        named = {(i.entity, i.document_number) for i in cited}
        pool, truncated = candidate_items(rest, view, [identity.customer_id],
                                          settings.combination_max_items, charges)
        pool = [i for i in pool if (i.entity, i.document_number) not in named]
        result = search_items(rest, pool, settings)
        if not result.solutions:
            return []
        proposals = []
        for solution in result.solutions:
            chosen = [*cited, *(pool[i] for i, _ in solution)]
            flags = [False] * len(cited) + [d for _, d in solution]
            key = (result.difference or 0, len(chosen))
            sized = dataclasses.replace(result, size=len(chosen))
            proposals.append(_proposal(matcher, payment, view, identity, chosen, flags, sized,
                                       result.count, key, truncated, False, scan, settings))
        proposals.sort(key=lambda p: (-p.confidence, sorted(str(k) for k in p.item_keys)))
        return proposals[:SOLUTION_LIMIT]
    return []


def _named_items(scan: ReferenceScan, view: CandidateView, identity: Identity,
                 currency: str) -> list[OpenItem]:
    """The open items the payment names: by reference, then the identity's own items it names
    by their last digit group (`Rg. 242543, 298642` for INV-2026-0242543 and -0298642)."""
    named = {(i.entity, i.document_number): i for i in scan.cited_open}
    if scan.numbers:
        for item in view.open_items_of(identity.customer_id, currency):
            if scan.tail_mentions(item) is not None:
                named.setdefault((item.entity, item.document_number), item)
    return list(named.values())


def _named_set_fits(matcher: str, payment: Payment, view: CandidateView,
                    settings: MatchingSettings, identities: Sequence[Identity],
                    scan: ReferenceScan) -> Proposal | None:
    """When the items the payment names add up, that set is the answer: no search.

    Another set with the same sum does not compete with items the payer named itself.
    """
    cited = list(scan.cited_open)
    if not cited:
        return None
    for identity in identities:
        group = set(view.group_of(identity.customer_id))
        if not all(i.customer_id in group for i in cited):
            continue
        settlement = settle(cited, payment, settings)
        if settlement.fit not in (Fit.EXACT, Fit.DISCOUNT, Fit.BANK_CHARGE):
            return None
        flags = [a.discount > ZERO for a in settlement.allocations]
        difference = _cents(settlement.difference, payment.currency)
        result = SearchResult((tuple((n, f) for n, f in enumerate(flags)),), difference,
                              len(cited), 1, 0, True)
        via_group = any(i.customer_id != identity.customer_id for i in cited)
        return _proposal(matcher, payment, view, identity, cited, flags, result, 1,
                         (difference, len(cited)), False, via_group, scan, settings)
    return None


def _proposal(matcher: str, payment: Payment, view: CandidateView, identity: Identity,
              items: list[OpenItem], discounted: list[bool], result: SearchResult, rivals: int,
              best_key: tuple[int, int], truncated: bool, via_group: bool,
              scan: ReferenceScan, settings: MatchingSettings) -> Proposal:
    if result.difference:
        discounted = list(without_unsaid_discounts(items, discounted, payment, settings))
    settlement = settle_chosen(items, discounted, payment)
    evidence: list[Evidence] = list(identity.evidence)
    docs = ", ".join(f"{i.entity}/{i.document_number} "  # str(i.key)
                     f"({format_amount(i.open_amount, i.currency)})" for i in items)
    evidence.append(Evidence(matcher, "items", f"{len(items)} open item(s): {docs}", 0.0))
    evidence.extend(amount_evidence(matcher, settlement, len(items)))
    if scan.says_partial:
        evidence.append(partial_evidence(matcher))
    key = (result.difference or 0, result.size or 0)
    if key != best_key:
        evidence.append(Evidence(matcher, "ambiguity", "another customer's items fit better",
                                 scoring.AMBIGUOUS))
    elif rivals > 1 or result.ambiguous:
        evidence.append(_ambiguity(matcher, rivals, result))
    if not result.complete or truncated:
        evidence.append(Evidence(matcher, "incomplete", "the search did not cover every open "
                                 "item: a better set may exist", scoring.INCOMPLETE))
    # Counted only for a crowded search: it looks up every item of a set of dozens.
    unnamed = _unnamed(scan, items) if result.crowded else 0
    if unnamed > SMALL_SET:
        # Dozens of items with credit notes reach almost any amount exactly with enough of
        # them: a unique exact set of many items the payer did not name says little more
        # than several would.
        evidence.append(Evidence(matcher, "ambiguity", f"{unnamed} items the payment does not "
                                 "name, out of a pool too large to search exhaustively: so many "
                                 "sets are possible that the sum may be a coincidence",
                                 scoring.AMBIGUOUS))
    if via_group:
        evidence.append(Evidence(matcher, "group", f"items of {identity.customer_id}'s group "
                                 "(parent or subsidiaries)", scoring.GROUP))
    exact = settlement.fit in (Fit.EXACT, Fit.DISCOUNT)
    evidence.extend(_tails_elsewhere(matcher, scan, view, identity, items, payment))
    evidence.extend(_reference_evidence(matcher, scan, items, exact,
                                        _owner_by_iban(identity, items, exact, rivals, result)))
    date = scoring.date_evidence(matcher, items, payment.value_date)
    if date is not None:
        evidence.append(date)
    merged = scoring.merge(evidence)
    score = scoring.confidence(merged)
    return Proposal(payment.id, matcher, identity.customer_id, settlement.allocations,
                    settlement.adjustments, score, merged, scoring.explain(matcher, merged, score),
                    payment.currency)


def _ambiguity(matcher: str, rivals: int, result: SearchResult) -> Evidence:
    """Why the set is not the only reading of the amount."""
    # Sets that only come within the tolerance compete only when no set fits exactly.
    inexact = result.within_tolerance if result.difference else 0
    alternatives = max(rivals, result.count, inexact)
    reasons = []
    if alternatives > 1:
        reasons.append(f"{alternatives}{'+' if alternatives > SOLUTION_LIMIT else ''} sets of "
                       "items fit the amount equally well")
    if result.other_exact:
        # Two of the payer's invoices that add up to a third: the fewest items are the
        # likelier reading, not a sure one.
        reasons.append(f"{result.other_exact} set(s) of another number of items fit the "
                       "amount exactly too")
    weight = scoring.AMBIGUOUS if alternatives > 1 else scoring.OTHER_READING
    return Evidence(matcher, "ambiguity", "; ".join(reasons), weight)


def _unnamed(scan: ReferenceScan, items: Sequence[OpenItem]) -> int:
    """How many of `items` the payment names neither by reference nor by a short form."""
    cited = {(i.entity, i.document_number) for i in scan.cited_open}
    return sum(1 for i in items if (i.entity, i.document_number) not in cited
               and scan.tail_mentions(i) is None)


def _tails_elsewhere(matcher: str, scan: ReferenceScan, view: CandidateView, identity: Identity,
                     items: Sequence[OpenItem], payment: Payment) -> list[Evidence]:
    """The payment names (by its last digit group) an open item of the payer outside this set,
    and none inside it: the payer meant that item, paid short or over."""
    if not scan.numbers or any(scan.tail_mentions(i) for i in items):
        return []
    chosen = {i.key for i in items}
    elsewhere = sorted(str(i.key) for i in view.open_items_of(identity.customer_id,
                                                               payment.currency)
                       if i.key not in chosen and scan.tail_mentions(i) is not None)
    if not elsewhere:
        return []
    return [Evidence(matcher, "conflict", f"the payment names {', '.join(elsewhere)}, not in "
                     "this set", scoring.NOT_CITED)]


def _owner_by_iban(identity: Identity, items: Sequence[OpenItem], exact: bool, rivals: int,
                   result: SearchResult) -> str | None:
    """The customer when the set is one item of the payer's own, paid exactly, found alone,
    and the payer's IBAN is on file for that customer alone; else None."""
    if len(items) != 1 or not exact or rivals > 1 or result.ambiguous:
        return None
    if items[0].customer_id != identity.customer_id:
        return None
    if not any(e.kind == "iban" and e.weight >= scoring.LEARNED_IBAN for e in identity.evidence):
        return None
    return identity.customer_id


def _typo(matcher: str, kind: str, names: str, owner: str | None) -> Evidence:
    """A cited number one keystroke away from an item in the set: a typo of ours (support),
    when the set is the IBAN owner's only exact item; else a doubt."""
    if owner is not None:
        return Evidence(matcher, "reference", f"the payment cites {names}, one keystroke away "
                        f"from the only item of {owner} that the amount fits exactly: a "
                        "mistyped reference", scoring.MISTYPED_REFERENCE)
    return Evidence(matcher, kind, f"the payment cites {names}, one keystroke away from an "
                    "item in this set (a typo?)", scoring.NEAR_MISS)


def _reference_evidence(matcher: str, scan: ReferenceScan, items: list[OpenItem],
                        exact: bool, owner: str | None = None) -> list[Evidence]:
    out: list[Evidence] = []
    chosen = {(i.entity, i.document_number) for i in items}
    cited = {(i.entity, i.document_number) for i in scan.cited_open}
    by_tail = [scan.tail_mentions(i) for i in items]
    named = [i for i, token in zip(items, by_tail, strict=True)
             if (i.entity, i.document_number) in cited or token is not None]
    missing = _cited_outside(scan, chosen)
    if missing:
        names = ", ".join(sorted(str(i.key) for i in missing))
        if all(_near_miss(i.document_number, items) for i in missing):
            # One digit changed or two swapped: the payer probably mistyped our number. That
            # is evidence for the set only when the number it hits is not the payer's own.
            theirs = owner if all(i.customer_id != owner for i in missing) else None
            out.append(_typo(matcher, "conflict", names, theirs))
        else:
            out.append(Evidence(matcher, "conflict", f"the payment cites {names}, not in this "
                                "set", scoring.NOT_CITED))
    elif len(named) == len(items):
        labelled = any(t is not None and t.labelled for t in by_tail) or bool(cited)
        out.append(Evidence(matcher, "reference", "the payment names every item of this set",
                            scoring.DIGITS_LABELLED if labelled else scoring.DIGITS_BARE))
    elif named and exact:
        names = ", ".join(sorted(str(i.key) for i in named))
        out.append(Evidence(matcher, "reference", f"the payment names {names}, all in this set",
                            scoring.REFERENCE_IN_SET))
    elif named:
        # The named items alone do not fit; unnamed ones were added only to come within the
        # tolerance. The payer more likely paid the named ones short or over.
        names = ", ".join(sorted(str(i.key) for i in named))
        out.append(Evidence(matcher, "conflict", f"the payment names only {names}; the other "
                            "items only bring the sum inside the tolerance", scoring.PADDED_SET))
    unknown = (*scan.unexplained(items), *scan.invalid)
    if unknown and all(_near_miss(u, items) for u in unknown):
        names = ", ".join(repr(u) for u in unknown)
        out.append(_typo(matcher, "unresolved", names, owner))
    elif unknown:
        names = ", ".join(repr(u) for u in unknown)
        out.append(Evidence(matcher, "unresolved", f"the payment cites unknown documents {names}",
                            scoring.UNRESOLVED_REFERENCE))
    if any(h.known_items and not h.open_items for h in scan.hits):
        out.append(Evidence(matcher, "closed", "the payment cites items already settled",
                            scoring.CLOSED_REFERENCE))
    return out


def _cited_outside(scan: ReferenceScan, chosen: set[tuple[str, str]]) -> list[OpenItem]:
    """The items the payment cites that the set leaves out. A reference that fits several
    items (an invoice and a credit note sharing their digits) is met by any one of them."""
    missing: dict[tuple[str, str], OpenItem] = {}
    for hit in scan.hits:
        keys = [(i.entity, i.document_number) for i in hit.open_items]
        if not any(key in chosen for key in keys):
            for key, item in zip(keys, hit.open_items, strict=True):
                missing.setdefault(key, item)
    return list(missing.values())


def _near_miss(cited: str, items: Sequence[OpenItem]) -> bool:
    """`cited` is one substitution or one swap of neighbours away from an item's number."""
    wanted = compact(cited)
    for item in items:
        for key in (compact(item.document_number), *digit_keys(item.document_number),
                    tail_key(item.document_number)):
            if key and len(key) >= MIN_DIGITS and len(wanted) >= MIN_DIGITS \
                    and DamerauLevenshtein.distance(wanted, key, score_cutoff=1) == 1:
                return True
    return False


def identify_payer(matcher: str, payment: Payment, view: CandidateView,
                   scan: ReferenceScan) -> list[Identity]:
    """Who is paying: by IBAN, learned IBAN, exact name, learned alias, cited items."""
    evidence: dict[str, list[Evidence]] = {}

    def add(ids: Sequence[str], kind: str, detail: str, weight: float) -> None:
        for customer_id in ids:
            share = weight if len(ids) == 1 else weight * 0.6  # a shared account or name
            evidence.setdefault(customer_id, []).append(
                Evidence(matcher, kind, f"{detail} -> {customer_id}", round(share, 4)))

    iban = payment.counterparty_iban
    add(view.customers_by_iban(iban), "iban", f"payer IBAN {iban} is on file", scoring.IBAN)
    add(view.customers_by_learned_iban(iban), "iban", f"payer IBAN {iban} was learned",
        scoring.LEARNED_IBAN)
    for name in (payment.counterparty_name, payment.ultimate_debtor):
        add(view.customers_by_name(name), "name", f"payer name {name!r} matches exactly",
            scoring.NAME_EXACT)
        add(view.customers_by_alias(name), "alias", f"payer name {name!r} is a learned alias",
            scoring.ALIAS)
    if not evidence:
        add(scan.cited_customers, "reference", "the payment cites items of",
            scoring.PAYER_BY_REFERENCE)
    return [Identity(c, tuple(e)) for c, e in sorted(evidence.items())][:5]


class CombinationMatcher:
    """The payer's open items that add up to the payment. See the module docstring."""

    name = NAME
    version = "1.0.0"

    def __init__(self, settings: MatchingSettings) -> None:
        self.settings = settings

    def propose(self, payment: Payment, view: CandidateView) -> Sequence[Proposal]:
        if payment.amount <= ZERO:
            return []
        scan = scan_references(payment, view)
        identities = identify_payer(NAME, payment, view, scan)
        if not identities:
            return []
        return propose_for_identities(NAME, payment, view, self.settings, identities, scan)


__all__ = ["CombinationMatcher", "Identity", "SearchResult", "find_combinations",
           "identify_payer", "payer_customers", "propose_for_identities"]
