"""The matcher chain. Pure: matchers read a candidate view and return proposals.

Rule of this package: no database, no network, no Flask. Modules import only
`reconciler.domain`, `reconciler.money`, `reconciler.errors`, `reconciler.settings` (the typed
`MatchingSettings` a matcher is constructed with) and their own libraries (rapidfuzz).

A matcher is a small class with a unique `name`, a `version` and one method:

    class MyMatcher:
        name = "my_matcher"
        version = "1.0.0"

        def __init__(self, settings: MatchingSettings) -> None: ...

        def propose(self, payment: Payment, view: CandidateView) -> Sequence[Proposal]: ...

registered through the entry-point group `reconciler.matchers` (`name = "module:Class"`),
exactly like the built-ins (`reference`, `combination`, `fuzzy_name`). `propose` must not
change the view and must return proposals whose allocations plus adjustments equal the
payment amount (see `matchers.settlement` for the sign convention); the registry
(`matchers.registry`) validates, de-duplicates and ranks them, and turns a matcher that raises
into a diagnostic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from matchers.candidates import CandidateView, LearnedLink
from reconciler.domain import Payment, Proposal

ENTRY_POINT_GROUP = "reconciler.matchers"


@runtime_checkable
class Matcher(Protocol):
    """What the registry expects of a matcher: `Matcher(settings)` then `propose` per payment."""

    name: str
    version: str

    def propose(self, payment: Payment, view: CandidateView) -> Sequence[Proposal]:
        """Proposals for `payment`, strongest first; an empty sequence when nothing fits."""
        ...


__all__ = ["ENTRY_POINT_GROUP", "CandidateView", "LearnedLink", "Matcher"]
