"""Conflicts across bank lines: two payments may not both take the same item's last euro.

Each matcher looks at one payment at a time, so two payments can each claim the same invoice
(a customer who paid twice, a reference typed on the wrong transfer). The payments that
compete for items form a graph: payments are nodes, an edge joins two payments whose
proposals share an item. Each connected component is settled on its own: payments in order
of their best confidence take their best proposal that still fits the items' remaining open
amounts; a payment whose best proposal no longer fits falls back to its next one, or, when
none fits, keeps its proposals as suggestions for a person. Precision first: a winner whose
rival was about as sure as it was is not applied automatically either (`contested`) -- except
when the rival is the same payment again: the same customer settling the same items with the
same amounts, paid later. The first of two identical transfers settled the invoice; the
second is the double payment and waits for a person (with its cash proposed on account).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import networkx as nx

from reconciler.domain import Adjustment, AdjustmentKind, ItemKey, Proposal
from reconciler.money import ZERO, format_amount

# Two confidences closer than this cannot tell which payment an item belongs to.
TIE_MARGIN = 0.02
# A line whose items all went to another payment: keeping its cash on account is a suggestion.
ON_ACCOUNT_CONFIDENCE = 0.5
ENGINE = "engine"


@dataclass(frozen=True, slots=True)
class Resolution:
    """What is left of one payment's proposals after the conflicts are settled.

    `proposals[0]` (if any) is the one the rules may apply; the rest are alternatives.
    `notes` explains, per proposal and in the same order, why it lost or what it won against.
    `contested` forbids automatic application: a person decides.
    """

    proposals: tuple[Proposal, ...]
    notes: tuple[str, ...]
    contested: bool = False
    contest_reason: str = ""


def resolve(candidates: Mapping[int, Sequence[Proposal]],
            open_amounts: Mapping[ItemKey, Decimal],
            paid_on: Mapping[int, dt.date] | None = None) -> dict[int, Resolution]:
    """Settle competing proposals; `candidates` maps payment id -> proposals, best first.

    `paid_on` (payment id -> value date) puts the earlier of equally sure payments first and
    lets the first of two identical transfers win uncontested; without it, ids order them.
    """
    result: dict[int, Resolution] = {}
    for component in _competing(candidates):
        if len(component) == 1:
            (payment_id,) = component
            proposals = candidates[payment_id]
            result[payment_id] = Resolution(tuple(proposals), ("",) * len(proposals))
        else:
            result.update(_settle_component(component, candidates, open_amounts,
                                            paid_on or {}))
    return result


def _competing(candidates: Mapping[int, Sequence[Proposal]]) -> list[set[int]]:
    """The payments in groups that compete for items: the connected components of a graph
    whose nodes are payments and whose edges join two payments proposing the same item.

    Almost every payment is alone, so the graph holds only the payments that share an item
    with another (found in one pass over the allocations, each joined to the item's first
    claimant); every other payment is a group of its own.
    """
    first_claim: dict[ItemKey, int] = {}  # item -> the first payment proposing it
    graph = nx.Graph()
    for payment_id, proposals in candidates.items():
        for proposal in proposals:
            for allocation in proposal.allocations:
                claimant = first_claim.setdefault(allocation.item, payment_id)
                if claimant != payment_id:
                    graph.add_edge(claimant, payment_id)
    groups = [set(component) for component in nx.connected_components(graph)]
    groups.extend({payment_id} for payment_id in candidates if payment_id not in graph)
    return groups


def _on_account(lost: Sequence[tuple[Proposal, str]]) -> list[tuple[Proposal, str]]:
    best = lost[0][0] if lost else None
    if best is None or best.customer_id is None:
        return []
    amount = best.allocated + best.adjusted  # the payment amount (the proposal balances)
    proposal = Proposal(
        payment_id=best.payment_id, matcher=ENGINE, customer_id=best.customer_id,
        allocations=(), adjustments=(Adjustment(AdjustmentKind.UNAPPLIED, amount,
                                                "possible duplicate payment"),),
        confidence=min(ON_ACCOUNT_CONFIDENCE, best.confidence),
        explanation=f"the items this payment names are settled by another payment; keep "
                    f"{format_amount(amount)} on {best.customer_id}'s account (possibly paid "
                    "twice) until someone decides")
    return [(proposal, "")]


def _best_confidence(proposals: Sequence[Proposal]) -> float:
    return max((p.confidence for p in proposals), default=0.0)


def _fits(settled: Decimal, remaining: Decimal) -> bool:
    if settled == ZERO or remaining == ZERO:
        return False
    return (settled > ZERO) == (remaining > ZERO) and abs(settled) <= abs(remaining)


def _same_transfer(first: Proposal, again: Proposal) -> bool:
    """`again` settles exactly what `first` settles, for the same customer: a repeat."""
    return (first.customer_id is not None and first.customer_id == again.customer_id
            and sorted((a.item, a.amount, a.discount) for a in first.allocations)
            == sorted((a.item, a.amount, a.discount) for a in again.allocations)
            and sorted((a.kind.value, a.amount) for a in first.adjustments)
            == sorted((a.kind.value, a.amount) for a in again.adjustments))


def _settle_component(component: set[int], candidates: Mapping[int, Sequence[Proposal]],
                      open_amounts: Mapping[ItemKey, Decimal],
                      paid_on: Mapping[int, dt.date]) -> dict[int, Resolution]:
    # Most confident payment first; equal confidence: the one paid first (then the lower id).
    order = sorted(component, key=lambda pid: (-_best_confidence(candidates[pid]),
                                               paid_on.get(pid, dt.date.min), pid))
    remaining: dict[ItemKey, Decimal] = {}
    holder: dict[ItemKey, tuple[int, float]] = {}  # item -> (payment id, its confidence)
    rivals: dict[int, float] = defaultdict(float)  # winner -> best confidence it beat
    rival_of: dict[int, int] = {}
    beaten: dict[int, list[tuple[int, Proposal]]] = defaultdict(list)  # winner -> its rivals
    outcome: dict[int, tuple[list[Proposal], list[str], bool, str]] = {}

    for payment_id in order:
        kept: list[Proposal] = []
        notes: list[str] = []
        lost: list[tuple[Proposal, str]] = []
        chosen = False
        for proposal in candidates[payment_id]:
            blockers = [a for a in proposal.allocations
                        if not _fits(a.settled, remaining.get(a.item, open_amounts.get(a.item,
                                                                                        ZERO)))]
            if blockers:
                parts = []
                for allocation in blockers:
                    taker = holder.get(allocation.item)
                    if taker is not None:
                        beaten[taker[0]].append((payment_id, proposal))
                        parts.append(f"{allocation.item} taken by payment {taker[0]} "
                                     f"(confidence {taker[1]:.2f})")
                        if proposal.confidence > rivals[taker[0]]:
                            rivals[taker[0]] = proposal.confidence
                            rival_of[taker[0]] = payment_id
                    else:
                        left = remaining.get(allocation.item,
                                             open_amounts.get(allocation.item, ZERO))
                        parts.append(f"{allocation.item} open for only {format_amount(left)}")
                lost.append((proposal, "lost: " + "; ".join(parts)))
                continue
            if not chosen:
                chosen = True
                for allocation in proposal.allocations:
                    left = remaining.get(allocation.item, open_amounts.get(allocation.item, ZERO))
                    remaining[allocation.item] = left - allocation.settled
                    holder[allocation.item] = (payment_id, proposal.confidence)
            kept.append(proposal)
            notes.append("")
        fell_back = bool(lost) and lost[0][0] is candidates[payment_id][0]
        if not kept:
            # Nothing fits any more: most often the same invoice paid twice. Suggest keeping
            # the cash on the payer's account, then the lost proposals with why they lost.
            on_account = _on_account(lost)
            outcome[payment_id] = (
                [p for p, _ in on_account] + [p for p, _ in lost],
                [n for _, n in on_account] + [n for _, n in lost], True,
                "every proposal competes with a more certain payment")
        elif fell_back:
            outcome[payment_id] = (kept + [p for p, _ in lost], notes + [n for _, n in lost],
                                   True, "its best proposal lost its items to another payment")
        else:
            outcome[payment_id] = (kept + [p for p, _ in lost], notes + [n for _, n in lost],
                                   False, "")

    result: dict[int, Resolution] = {}
    for payment_id, (proposals, notes, contested, why) in outcome.items():
        best = proposals[0].confidence if proposals else 0.0
        rival = rivals.get(payment_id, 0.0)
        if not contested and rival and rival >= best - TIE_MARGIN \
                and not _only_later_repeats(payment_id, proposals[0], best, beaten[payment_id],
                                            paid_on):
            contested = True
            why = (f"payment {rival_of[payment_id]} claims the same items with confidence "
                   f"{rival:.2f}")
        result[payment_id] = Resolution(tuple(proposals), tuple(notes), contested, why)
    return result


def _only_later_repeats(winner: int, won: Proposal, best: float,
                        rivals: Sequence[tuple[int, Proposal]],
                        paid_on: Mapping[int, dt.date]) -> bool:
    """Every close rival is the same transfer again, paid after the winner."""
    close = [(pid, p) for pid, p in rivals if p.confidence >= best - TIE_MARGIN]
    if winner not in paid_on:
        return False
    return all(pid in paid_on and paid_on[pid] > paid_on[winner] and _same_transfer(won, p)
               for pid, p in close)
