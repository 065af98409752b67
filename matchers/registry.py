"""The matcher registry: built once from entry points, passed explicitly, run per payment.

Built-in matchers are found through the entry-point group `reconciler.matchers` exactly like a
third-party one. The settings choose the order (`settings.matchers`) and switch some off
(`settings.disabled`); a name that is registered twice, or configured but not registered, is a
`ConfigError` at start-up, not a surprise at run time.

Plug-ins are not trusted: a matcher that raises becomes a `Diagnostic` and the chain goes on;
every proposal is validated (allocations + adjustments = payment amount exactly; items exist,
are open, are in the payment's currency, appear once and are not over-settled; confidence in
[0, 1]) and invalid ones become diagnostics. Proposals for the same item set are merged: the
strongest is kept with the evidence of all, and two matchers agreeing raise its confidence.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from matchers import ENTRY_POINT_GROUP, Matcher, scoring
from matchers.candidates import CandidateView
from reconciler.domain import Diagnostic, Evidence, Payment, Proposal, Severity
from reconciler.errors import ConfigError
from reconciler.money import ZERO
from reconciler.settings import MatchingSettings

REGISTRY = "registry"


class EntryPointLike(Protocol):
    """What `load_registry` needs of an entry point (importlib's, or a test's stand-in)."""

    name: str
    value: str

    def load(self) -> Any: ...


def load_registry(settings: MatchingSettings,
                  entry_points: Iterable[EntryPointLike] | None = None) -> MatcherRegistry:
    """Instantiate the configured matchers, in `settings.matchers` order, minus `disabled`.

    `entry_points` defaults to the installed `reconciler.matchers` group; tests pass their own.
    Raises `ConfigError` for a name registered twice with different targets, a configured or
    disabled name that is not registered, a target that does not load, or an object that does
    not behave as a `Matcher` with the registered name.
    """
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    available: dict[str, EntryPointLike] = {}
    for entry in entry_points:
        previous = available.get(entry.name)
        if previous is not None and previous.value != entry.value:
            raise ConfigError(f"matcher {entry.name!r} is registered twice: {previous.value} "
                              f"and {entry.value}")
        available[entry.name] = entry
    known = ", ".join(sorted(available)) or "none"
    if len(set(settings.matchers)) != len(settings.matchers):
        raise ConfigError(f"matching.matchers names a matcher twice: {settings.matchers}")
    for key, names in (("matchers", settings.matchers), ("disabled", settings.disabled)):
        for name in names:
            if name not in available:
                raise ConfigError(f"matching.{key}: unknown matcher {name!r} (registered: {known})")
    matchers: list[Matcher] = []
    for name in settings.matchers:
        if name in settings.disabled:
            continue
        entry = available[name]
        try:
            factory = entry.load()
        except Exception as exc:
            raise ConfigError(f"matcher {name!r}: cannot load {entry.value}: {exc}") from None
        try:
            matcher = factory(settings)
        except Exception as exc:
            raise ConfigError(f"matcher {name!r}: {entry.value}(settings) failed: {exc}") from None
        if not isinstance(matcher, Matcher):
            raise ConfigError(f"matcher {name!r}: {entry.value} lacks name, version or propose()")
        if matcher.name != name:
            raise ConfigError(f"matcher {name!r}: {entry.value} calls itself {matcher.name!r}")
        matchers.append(matcher)
    return MatcherRegistry(tuple(matchers), settings)


class MatcherRegistry:
    """The configured chain. Build with `load_registry`; hold it, pass it, run it."""

    __slots__ = ("matchers", "settings")

    def __init__(self, matchers: Sequence[Matcher], settings: MatchingSettings) -> None:
        self.matchers = tuple(matchers)
        self.settings = settings

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.matchers)

    def actor(self, matcher_name: str) -> str:
        """Journal actor for a matcher: `matcher:reference@1.0.0`."""
        for matcher in self.matchers:
            if matcher.name == matcher_name:
                return f"matcher:{matcher.name}@{matcher.version}"
        return f"matcher:{matcher_name}"

    def run(self, payment: Payment, view: CandidateView
            ) -> tuple[list[Proposal], list[Diagnostic]]:
        """Every matcher on `payment`: ranked, validated, merged proposals and diagnostics.

        The list is best first (confidence, then chain order); the first proposal's
        explanation says why each alternative lost.
        """
        where = f"payment {payment.id}"
        collected: list[tuple[int, Proposal]] = []
        diagnostics: list[Diagnostic] = []
        for position, matcher in enumerate(self.matchers):
            try:
                proposals = list(matcher.propose(payment, view))
            except Exception as exc:
                diagnostics.append(Diagnostic(
                    Severity.ERROR, f"matcher {matcher.name} failed: {type(exc).__name__}: {exc}",
                    where, "matcher-failed"))
                continue
            for proposal in proposals:
                problem = validate(proposal, payment, view, matcher.name)
                if problem is None and proposal.currency is None:
                    proposal = dataclasses.replace(proposal, currency=payment.currency)
                if problem:
                    diagnostics.append(Diagnostic(
                        Severity.WARNING, f"matcher {matcher.name}: proposal dropped: {problem}",
                        where, "invalid-proposal"))
                else:
                    collected.append((position, proposal))
        return explain_ranking(merge_duplicates(collected)), diagnostics


def validate(proposal: object, payment: Payment, view: CandidateView, matcher: str) -> str | None:
    """What is wrong with a proposal, or None when it may go on to the rules."""
    if not isinstance(proposal, Proposal):
        return f"not a Proposal but {type(proposal).__name__}"
    if proposal.payment_id != payment.id:
        return f"for payment {proposal.payment_id}, not {payment.id}"
    if proposal.matcher != matcher:
        return f"signed by {proposal.matcher!r}"
    if proposal.currency not in (None, payment.currency):
        return f"in {proposal.currency}, the payment is in {payment.currency}"
    score = proposal.confidence
    if isinstance(score, bool) or not isinstance(score, (int, float)) or math.isnan(score) \
            or not 0.0 <= score <= 1.0:
        return f"confidence {score!r} is not in [0, 1]"
    seen: set[tuple[str, str]] = set()  # the items' (entity, number): hashed in C
    total = ZERO
    for allocation in proposal.allocations:
        if not isinstance(allocation.amount, Decimal) or not isinstance(allocation.discount,
                                                                          Decimal):
            return f"{allocation.item}: amounts must be Decimal"
        identity = (allocation.item.entity, allocation.item.document_number)
        if identity in seen:
            return f"{allocation.item} appears twice"
        seen.add(identity)
        item = view.item(allocation.item)  # open: the usual case, one look-up
        if item is None:
            if view.known_item(allocation.item) is None:
                return f"{allocation.item} is not a known item"
            return f"{allocation.item} is not open"
        if item.currency != payment.currency:
            return f"{allocation.item} is in {item.currency}, the payment in {payment.currency}"
        settled = allocation.settled
        if allocation.discount < ZERO or settled * item.open_amount < ZERO \
                or abs(settled) > abs(item.open_amount):
            return (f"{allocation.item}: settles {settled} of an open amount of "
                    f"{item.open_amount}")
        total += allocation.amount
    for adjustment in proposal.adjustments:
        if not isinstance(adjustment.amount, Decimal):
            return f"adjustment {adjustment.kind}: amount must be Decimal"
        total += adjustment.amount
    if total != payment.amount:
        return f"allocations and adjustments sum to {total}, the payment is {payment.amount}"
    return None


def _group_key(proposal: Proposal) -> tuple[frozenset[tuple[str, str]], str | None]:
    # Proposals without items (cash kept on account) differ by customer. Items as their
    # (entity, number), what `item_keys` holds, in tuples that hash in C.
    keys = frozenset((a.item.entity, a.item.document_number) for a in proposal.allocations)
    return keys, None if keys else proposal.customer_id


def merge_duplicates(collected: Sequence[tuple[int, Proposal]]) -> list[Proposal]:
    """One proposal per item set: the strongest, with everyone's evidence, ranked best first."""
    groups: dict[tuple[frozenset[tuple[str, str]], str | None],
                 list[tuple[int, Proposal]]] = {}
    for position, proposal in collected:
        groups.setdefault(_group_key(proposal), []).append((position, proposal))
    merged: list[tuple[float, int, Proposal]] = []
    for members in groups.values():
        members.sort(key=lambda m: (-m[1].confidence, m[0]))
        position, strongest = members[0]
        names = sorted({p.matcher for _, p in members})
        if len(names) > 1:
            others = [p for _, p in members[1:] if p.matcher != strongest.matcher]
            agreement = Evidence(REGISTRY, "agreement", f"{', '.join(names)} propose the same "
                                 "items independently", scoring.AGREEMENT)
            evidence = scoring.merge((*strongest.evidence,
                                      *(e for p in others for e in p.evidence), agreement))
            score = max(strongest.confidence, scoring.confidence(evidence))
            also = "; ".join(f"{p.matcher} {p.confidence:.2f}" for p in others)
            strongest = dataclasses.replace(
                strongest, evidence=evidence, confidence=score,
                explanation=f"{strongest.explanation}\nalso proposed by {also}; "
                            f"agreement raises confidence to {score:.2f}")
        merged.append((strongest.confidence, position, strongest))
    if len(merged) < 2:
        return [m[2] for m in merged]  # most lines: one proposal, nothing to rank
    # The items' names (`ENTITY/NUMBER`, sorted) break ties of confidence and chain position.
    merged.sort(key=lambda m: (-m[0], m[1], sorted(str(k) for k in m[2].item_keys)))
    return [m[2] for m in merged]


def explain_ranking(ranked: list[Proposal]) -> list[Proposal]:
    """Add to the best proposal's explanation why each alternative lost."""
    if len(ranked) < 2:
        return ranked
    best = ranked[0]
    lines = []
    for other in ranked[1:]:
        items = ", ".join(sorted(str(k) for k in other.item_keys)) or "cash on account"
        lines.append(f"  alternative {items} by {other.matcher}: confidence "
                     f"{other.confidence:.2f} < {best.confidence:.2f}")
    explanation = f"{best.explanation}\nalternatives that lost:\n" + "\n".join(lines)
    return [dataclasses.replace(best, explanation=explanation), *ranked[1:]]


__all__ = ["MatcherRegistry", "load_registry", "merge_duplicates", "validate"]
