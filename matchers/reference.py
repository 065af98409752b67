"""Exact reference matcher: the payment names the documents it pays.

Sources, strongest first: the structured creditor reference (RF with verified ISO 11649 check
digits, or any structured reference equal to an item's payment reference), then document
numbers and payment references found in the remittance text and the end-to-end id.

A reference is evidence about *which* items; the amount decides *how*. When the cited items'
open amounts (less an allowed cash discount, within the bank-charge tolerance) equal the
payment, confidence is high. Otherwise the proposal is a partial payment, an overpayment to
unapplied cash or a short payment with a write-off, each with lower confidence. A reference to
a closed item, to an item of another customer, or to a number we do not know is evidence, not
a match: it lowers confidence and never auto-applies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from matchers import scoring
from matchers.candidates import CandidateView
from matchers.settlement import Fit, amount_evidence, partial_evidence, settle
from matchers.text import (
    MIN_DIGITS,
    ReferenceCandidate,
    compact,
    find_creditor_references,
    is_valid_creditor_reference,
    reference_candidates,
    says_partial,
    tail_key,
)
from reconciler.domain import (
    Adjustment,
    AdjustmentKind,
    Evidence,
    OpenItem,
    Payment,
    Proposal,
)
from reconciler.money import format_amount
from reconciler.settings import MatchingSettings

NAME = "reference"
_LETTERS = re.compile(r"[A-Z]+")
_NOT_PROVIDED = {"NOTPROVIDED", "NONREF", "NONE"}


@dataclass(frozen=True, slots=True)
class ReferenceHit:
    """One reference in the payment and the items it names."""

    token: str  # as the payer wrote it
    kind: str  # creditor-reference | payment-reference | document | digits
    strength: float  # evidence weight of the hit itself
    open_items: tuple[OpenItem, ...]  # open, in the payment's currency
    known_items: tuple[OpenItem, ...]  # closed, disputed or in another currency


@dataclass(frozen=True, slots=True)
class NumberToken:
    """A bare number in the text that named no item on its own (`03963` in `2026-03015/03963`)."""

    raw: str
    digits: str  # without leading zeros
    labelled: bool


@dataclass(frozen=True, slots=True)
class ReferenceScan:
    hits: tuple[ReferenceHit, ...] = ()
    invalid: tuple[str, ...] = ()  # RF references whose check digits fail
    numbers: tuple[NumberToken, ...] = ()  # numbers outside every hit, for `tail_key` matches
    says_partial: bool = False  # the payer calls it a part payment
    # `cited_open`, made once: the combination search asks for it several times per payer.
    _cited_open: tuple[OpenItem, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen: dict[object, OpenItem] = {}
        for hit in self.hits:
            for item in hit.open_items:
                seen.setdefault((item.entity, item.document_number), item)
        object.__setattr__(self, "_cited_open", tuple(seen.values()))

    @property
    def unresolved(self) -> tuple[NumberToken, ...]:
        """Numbers after an invoice word that name no item (yet: see `unexplained`)."""
        return tuple(n for n in self.numbers if n.labelled and len(n.digits) >= MIN_DIGITS)

    def unexplained(self, items: Sequence[OpenItem]) -> tuple[str, ...]:
        """Unresolved numbers that are not the short form (tail) of one of `items` either."""
        tails = {tail_key(i.document_number) for i in items}
        return tuple(n.raw for n in self.unresolved if n.digits not in tails)

    def tail_mentions(self, item: OpenItem) -> NumberToken | None:
        """The number that names `item` by its last digit group, if any."""
        tail = tail_key(item.document_number)
        if tail is None:
            return None
        return next((n for n in self.numbers if n.digits == tail), None)

    @property
    def cited_open(self) -> tuple[OpenItem, ...]:
        """The open items the hits name, each once, in the order first named."""
        return self._cited_open

    @property
    def cited_customers(self) -> tuple[str, ...]:
        ids = {i.customer_id for h in self.hits for i in (*h.open_items, *h.known_items)}
        return tuple(sorted(ids))


def _split(items: Sequence[OpenItem], view: CandidateView,
           currency: str) -> tuple[tuple[OpenItem, ...], tuple[OpenItem, ...]]:
    open_items: list[OpenItem] = []
    known: list[OpenItem] = []
    for item in items:
        is_open = item.currency == currency and view.is_open(item.key)
        (open_items if is_open else known).append(item)
    return tuple(open_items), tuple(known)


def _hit(view: CandidateView, payment: Payment, token: str, kind: str, strength: float,
         items: Sequence[OpenItem]) -> ReferenceHit | None:
    if not items:
        return None
    open_items, known = _split(items, view, payment.currency)
    return ReferenceHit(token, kind, strength, open_items, known)


def _lookup_candidate(view: CandidateView, payment: Payment,
                      candidate: ReferenceCandidate) -> ReferenceHit | None:
    found = view.items_by_reference_key(candidate.full)  # letters and digits: compacted
    if found:
        return _hit(view, payment, candidate.raw, "payment-reference", scoring.DOCUMENT_NUMBER,
                    found)
    found = view.items_by_document(candidate.full)
    if found:
        return _hit(view, payment, candidate.raw, "document", scoring.DOCUMENT_NUMBER, found)
    if not candidate.digits:
        return None
    if not candidate.labelled and view.customer(candidate.full) is not None:
        return None  # a customer number written bare is not an invoice number
    matches: dict[object, OpenItem] = {}
    for key in candidate.digits:
        for item in view.items_by_digits(key):
            matches.setdefault((item.entity, item.document_number), item)
    found = tuple(matches.values())
    prefix = _LETTERS.match(candidate.full)
    if len(found) > 1 and prefix:
        # `cn 2026 275`: the payer's own prefix tells the credit note from the invoice.
        same = tuple(i for i in found if compact(i.document_number).startswith(prefix.group()))
        found = same or found
    strength = scoring.DIGITS_LABELLED if candidate.labelled else scoring.DIGITS_BARE
    return _hit(view, payment, candidate.raw, "digits", strength, found)


# The chain's matchers scan the same payment in turn (reference, combination, fuzzy name):
# the last scan is kept and handed out again for the same payment and view (both immutable).
_last_scan: tuple[Payment, CandidateView, ReferenceScan] | None = None


def scan_references(payment: Payment, view: CandidateView) -> ReferenceScan:
    """Every reference in the payment that names items in the view (open or not)."""
    global _last_scan
    last = _last_scan
    if last is not None and last[0] is payment and last[1] is view:
        return last[2]
    scan = _scan(payment, view)
    _last_scan = (payment, view, scan)
    return scan


def _scan(payment: Payment, view: CandidateView) -> ReferenceScan:
    hits: list[ReferenceHit] = []
    invalid: list[str] = []
    texts: list[str] = []
    structured = compact(payment.creditor_reference or "")
    if structured:
        if structured.startswith("RF") and not is_valid_creditor_reference(structured):
            invalid.append(structured)
        else:
            kind = "creditor-reference"
            hit = _hit(view, payment, payment.creditor_reference or "", kind,
                       scoring.CREDITOR_REFERENCE, view.items_by_reference_key(structured))
            if hit:
                hits.append(hit)
            elif not structured.startswith("RF"):
                texts.append(payment.creditor_reference or "")  # maybe a document number
    text = payment.remittance_text or ""
    valid_rf, invalid_rf = find_creditor_references(text)
    invalid.extend(r for r in invalid_rf if r not in invalid)
    for ref in valid_rf:
        if ref != structured:
            hit = _hit(view, payment, ref, "creditor-reference", scoring.CREDITOR_REFERENCE,
                       view.items_by_reference_key(ref))
            if hit:
                hits.append(hit)
    texts.append(text)
    if payment.end_to_end_id and compact(payment.end_to_end_id) not in _NOT_PROVIDED:
        texts.append(payment.end_to_end_id)
    found: list[tuple[int, int, ReferenceHit]] = []
    singles: list[tuple[int, int, NumberToken]] = []
    offset = 0
    for part in texts:
        for candidate in reference_candidates(part, payment.counterparty_iban):
            hit = _lookup_candidate(view, payment, candidate)
            span = (offset + candidate.start, offset + candidate.end)
            if hit is not None:
                found.append((*span, hit))
            elif candidate.size == 1 and candidate.full.isdigit():
                digits = candidate.full.lstrip("0")
                if len(digits) >= 3:
                    singles.append((*span, NumberToken(candidate.raw, digits,
                                                       candidate.labelled)))
        offset += len(part) + 3
    accepted = _without_overlaps(found)
    hits.extend(h for _, _, h in accepted)
    numbers = tuple(token for start, end, token in singles
                    if not any(s < end and start < e for s, e, _ in accepted))
    return ReferenceScan(_unique_hits(hits), tuple(invalid), numbers,
                         says_partial(payment.remittance_text or ""))


def _without_overlaps(found: list[tuple[int, int, ReferenceHit]]
                      ) -> list[tuple[int, int, ReferenceHit]]:
    # The strongest kind of hit wins, then the longest window: `INV-2026-00123` as a document
    # number beats the `2026` inside it and the digits of `Rechnung INV-2026-00123`.
    ranked = sorted(found, key=lambda f: (-f[2].strength, -(f[1] - f[0]), f[0]))
    accepted: list[tuple[int, int, ReferenceHit]] = []
    for start, end, hit in ranked:
        if all(end <= s or e <= start for s, e, _ in accepted):
            accepted.append((start, end, hit))
    return sorted(accepted, key=lambda f: f[0])


def _unique_hits(hits: list[ReferenceHit]) -> tuple[ReferenceHit, ...]:
    best: dict[frozenset[object], ReferenceHit] = {}
    order: list[frozenset[object]] = []
    for hit in hits:
        # Items by (entity, number), what `item.key` holds: a plain tuple hashes in C, the
        # key's dataclass in Python.
        key = frozenset((i.entity, i.document_number)
                        for i in (*hit.open_items, *hit.known_items))
        if key not in best:
            order.append(key)
            best[key] = hit
        elif hit.strength > best[key].strength:
            best[key] = hit
    return tuple(best[k] for k in order)


def payer_customers(payment: Payment, view: CandidateView) -> tuple[str, ...]:
    """Customers that own the payer's IBAN, from the master data or learned."""
    found = list(view.customers_by_iban(payment.counterparty_iban))
    for customer_id in view.customers_by_learned_iban(payment.counterparty_iban):
        if customer_id not in found:
            found.append(customer_id)
    return tuple(found)


def _describe(items: Sequence[OpenItem]) -> str:
    return ", ".join(f"{i.key} (open {format_amount(i.open_amount, i.currency)})" for i in items)


class ReferenceMatcher:
    """Settle the items the payment names. See the module docstring for the rules."""

    name = NAME
    version = "1.0.0"

    def __init__(self, settings: MatchingSettings) -> None:
        self.settings = settings

    def propose(self, payment: Payment, view: CandidateView) -> Sequence[Proposal]:
        if payment.amount <= 0:
            return []
        scan = scan_references(payment, view)
        payers = payer_customers(payment, view)
        if not scan.hits and not (scan.numbers and (
                payers or view.customers_by_name(payment.counterparty_name))):
            return []
        cited: dict[object, OpenItem] = {}
        ambiguous: list[ReferenceHit] = []
        evidence: list[Evidence] = []
        for hit in scan.hits:
            candidates = hit.open_items
            if len(candidates) > 1 and payers:
                own = tuple(i for i in candidates
                            if any(view.in_same_group(p, i.customer_id) for p in payers))
                candidates = own or candidates
            if len(candidates) == 1:
                cited.setdefault((candidates[0].entity, candidates[0].document_number),
                                candidates[0])
                evidence.append(Evidence(NAME, "reference", f"{hit.kind} {hit.token!r} names "
                                         f"{_describe(candidates)}", hit.strength))
            elif candidates:
                ambiguous.append(hit)
        closed = [i for h in scan.hits for i in h.known_items]
        scope = {*payers, *view.customers_by_name(payment.counterparty_name),
                 *(i.customer_id for i in cited.values())}
        for item, token in self._tails(scan, view, payment, scope, cited):
            cited.setdefault((item.entity, item.document_number), item)
            strength = scoring.DIGITS_LABELLED if token.labelled else scoring.DIGITS_BARE
            evidence.append(Evidence(NAME, "reference", f"{token.raw!r} is the short form of "
                                     f"{_describe([item])}", round(strength - 0.05, 4)))
        if not cited:
            return self._fallbacks(payment, view, ambiguous, closed, payers)
        items = sorted(cited.values(), key=lambda i: (i.due_date, str(i.key)))
        if ambiguous:
            tokens = ", ".join(repr(h.token) for h in ambiguous)
            evidence.append(Evidence(NAME, "ambiguity", f"{tokens} names several items",
                                     scoring.AMBIGUOUS / 2))
        if closed:
            evidence.append(Evidence(NAME, "closed", f"also names {_describe(closed)}, which is "
                                     "not open (already paid, disputed or another currency)",
                                     scoring.CLOSED_REFERENCE))
        for bad in scan.invalid:
            evidence.append(Evidence(NAME, "unresolved", f"creditor reference {bad} fails its "
                                     "check digits", scoring.UNRESOLVED_REFERENCE))
        unknown = scan.unexplained(items)
        if unknown:
            evidence.append(Evidence(NAME, "unresolved", "names unknown documents "
                                     + ", ".join(repr(u) for u in unknown),
                                     scoring.UNRESOLVED_REFERENCE))
        return [self._proposal(payment, view, items, payers, evidence, scan.says_partial)]

    @staticmethod
    def _tails(scan: ReferenceScan, view: CandidateView, payment: Payment, scope: set[str],
               cited: dict[object, OpenItem]) -> list[tuple[OpenItem, NumberToken]]:
        """Numbers that name exactly one open item of the payer's group by its last group."""
        if not scan.numbers or not scope:
            return []
        pool: dict[object, OpenItem] = {}
        for customer_id in sorted(scope):
            for member in view.group_of(customer_id):
                for item in view.open_items_of(member, payment.currency):
                    pool.setdefault((item.entity, item.document_number), item)
        by_tail: dict[str, list[OpenItem]] = {}
        for item in pool.values():
            tail = tail_key(item.document_number)
            if tail is not None and (item.entity, item.document_number) not in cited:
                by_tail.setdefault(tail, []).append(item)
        found = []
        for token in scan.numbers:
            matches = by_tail.get(token.digits, [])
            if len(matches) == 1:
                found.append((matches[0], token))
        return found

    def _proposal(self, payment: Payment, view: CandidateView, items: list[OpenItem],
                  payers: tuple[str, ...], evidence: list[Evidence],
                  partial_said: bool = False) -> Proposal:
        owners = sorted({i.customer_id for i in items})
        customer_id = owners[0]
        if payers:
            in_group = [p for p in payers if all(view.in_same_group(p, o) for o in owners)]
            if in_group:
                customer_id = in_group[0]
                direct = customer_id in owners and len(owners) == 1
                evidence.append(Evidence(NAME, "iban", f"payer IBAN {payment.counterparty_iban} "
                                         f"belongs to {customer_id}" + ("" if direct else
                                         ", in the same group"),
                                         scoring.IBAN if direct else scoring.LEARNED_IBAN))
            else:
                evidence.append(Evidence(NAME, "conflict", f"payer IBAN belongs to "
                                         f"{', '.join(payers)}, the items to {', '.join(owners)}",
                                         scoring.OTHER_CUSTOMER))
        elif len(owners) > 1 and not all(view.in_same_group(owners[0], o) for o in owners):
            evidence.append(Evidence(NAME, "conflict", "the items belong to unrelated customers "
                                     + ", ".join(owners), scoring.OTHER_CUSTOMER))
        named = (*view.customers_by_name(payment.counterparty_name),
                 *view.customers_by_alias(payment.counterparty_name))
        if customer_id in named:
            evidence.append(Evidence(NAME, "name", f"payer name {payment.counterparty_name!r} "
                                     f"is {customer_id}", scoring.NAME_EXACT))
        elif named and not payers and not any(view.in_same_group(n, o) for n in named
                                              for o in owners):
            # The name says who pays, the reference says someone else: a typo in the
            # reference is likelier than one customer paying another's invoice.
            evidence.append(Evidence(NAME, "conflict", f"payer name {payment.counterparty_name!r}"
                                     f" is {', '.join(named)}, the items belong to "
                                     f"{', '.join(owners)}", scoring.NAME_CONFLICT))
        settlement = settle(items, payment, self.settings)
        evidence.extend(amount_evidence(NAME, settlement, 1))
        if partial_said and settlement.fit is not Fit.PARTIAL:
            evidence.append(partial_evidence(NAME))
        date = scoring.date_evidence(NAME, items, payment.value_date)
        if date is not None:
            evidence.append(date)
        merged = scoring.merge(evidence)
        score = scoring.confidence(merged)
        return Proposal(payment.id, NAME, customer_id, settlement.allocations,
                        settlement.adjustments, score, merged,
                        scoring.explain(NAME, merged, score), payment.currency)

    def _fallbacks(self, payment: Payment, view: CandidateView, ambiguous: list[ReferenceHit],
                   closed: list[OpenItem], payers: tuple[str, ...]) -> list[Proposal]:
        proposals: list[Proposal] = []
        for hit in ambiguous:
            for item in hit.open_items[:3]:
                evidence = [Evidence(NAME, "reference", f"{hit.kind} {hit.token!r} names "
                                     f"{_describe([item])}", hit.strength),
                            Evidence(NAME, "ambiguity", f"{hit.token!r} names "
                                     f"{len(hit.open_items)} items", scoring.AMBIGUOUS)]
                proposals.append(self._proposal(payment, view, [item], payers, evidence))
        settled = [i for i in closed if not view.is_open(i.key)]  # not just another currency
        if proposals or not settled:
            return proposals
        owners = sorted({i.customer_id for i in settled})
        if len(owners) != 1:
            return []
        # Every cited item is already settled: perhaps paid twice. Keep the cash on the
        # customer's account and let a person decide (refund, or another open item).
        evidence = [Evidence(NAME, "reference", f"names {_describe(settled)}", scoring.DIGITS_BARE),
                    Evidence(NAME, "closed", "every cited item is already settled or not "
                             "open: possible double payment", scoring.CLOSED_REFERENCE),
                    Evidence(NAME, "difference", "kept as unapplied cash", scoring.OVERPAYMENT)]
        merged = scoring.merge(evidence)
        score = scoring.confidence(merged)
        adjustment = Adjustment(AdjustmentKind.UNAPPLIED, payment.amount,
                                "cites settled items only")
        return [Proposal(payment.id, NAME, owners[0], (), (adjustment,), score, merged,
                         scoring.explain(NAME, merged, score), payment.currency)]


__all__ = ["Fit", "NumberToken", "ReferenceHit", "ReferenceMatcher", "ReferenceScan",
           "scan_references"]
