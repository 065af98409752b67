"""Fuzzy name matcher: recognise the payer by a name the bank spelled its own way.

Banks upper-case names, drop or transliterate umlauts (ü as `ue` or `u`), swap word order,
add or omit the legal form and cut names at 35 characters. Names are normalised on both sides
(`matchers.text.normalise_name`) and compared with rapidfuzz `token_sort_ratio` (the ratio
of the word-sorted forms); a payer name that was cut short counts in full when it is a prefix
of the customer's name.

A high score is evidence only when it stands out: the best candidate must beat the second
best customer by a margin and the median of the top candidates by a wider one (a name like
`Service GmbH` scores well against everyone, which says nothing). Ties give no match.

It steps aside when the IBAN, the exact name or a learned alias already identifies the payer
(the combination matcher covers those), so the same fact is not counted twice. Once the
customer is found, the items come from the same exact combination search as the
combination matcher (`matchers.combination.propose_for_identities`).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from matchers import scoring
from matchers.candidates import CandidateView
from matchers.combination import Identity, propose_for_identities
from matchers.reference import payer_customers, scan_references
from matchers.text import name_variants, sorted_words
from reconciler.domain import Evidence, Payment, Proposal
from reconciler.settings import MatchingSettings

NAME = "fuzzy_name"
TRUNCATED_AT = 27  # MT940 :86: name subfields hold 27 characters, SEPA names 70, many banks 35
MIN_SCORE = 88.0
MIN_LEAD = 8.0  # over the second-best customer
MIN_LEAD_OVER_MEDIAN = 20.0  # over the median of the top candidates
TOP = 10


def _prefix_score(query: str, choice: str) -> float:
    # A name cut at the bank's field length: its last word may be cut mid-word.
    if len(query) < 12 or not choice.startswith(query[: len(query) - 1].rsplit(" ", 1)[0]):
        return 0.0
    return 97.0 if choice.startswith(query) else 95.0


def score_names(name: str, view: CandidateView) -> dict[str, tuple[float, int]]:
    """Best score per customer for `name`, with the index of the choice that gave it."""
    best: dict[str, tuple[float, int]] = {}
    truncated = len(name) >= TRUNCATED_AT
    for query in name_variants(name):
        # token_sort_ratio is the plain ratio of the word-sorted forms: the choices' forms
        # are sorted once in the view, not once per comparison.
        hits = process.extract(sorted_words(query), view.name_sorted_words, scorer=fuzz.ratio,
                               processor=None, limit=TOP * 2, score_cutoff=50)
        scored = [(float(score), index) for _, score, index in hits]
        if truncated:
            scored.extend((_prefix_score(query, view.name_choices[index]), index)
                          for index in view.names_starting_with(query[:8]))
        for score, index in scored:
            customer_id = view.name_owners[index]
            if score > best.get(customer_id, (-1.0, 0))[0]:
                best[customer_id] = (score, index)
    return best


def distinct_winner(scores: dict[str, tuple[float, int]]) -> tuple[str, float, int] | None:
    """The customer whose score stands out, or None (nothing good, a tie, or all alike)."""
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1][0], kv[0]))
    winner, (top, choice) = ranked[0]
    if top < MIN_SCORE:
        return None
    second = ranked[1][1][0] if len(ranked) > 1 else 0.0
    field = [s for _, (s, _) in ranked[:TOP]] + [0.0] * max(0, TOP - len(ranked))
    if top - second < MIN_LEAD or top - statistics.median(field) < MIN_LEAD_OVER_MEDIAN:
        return None
    return winner, top, choice


class FuzzyNameMatcher:
    """Identify the customer by name, then find its items. See the module docstring."""

    name = NAME
    version = "1.0.0"

    def __init__(self, settings: MatchingSettings) -> None:
        self.settings = settings
        # The name search of the view `_winners` was filled from (see `_winner`).
        self._searched: CandidateView | None = None
        self._winners: dict[tuple[tuple[str, ...], bool], tuple[str, float, int] | None] = {}

    def _winner(self, name: str, view: CandidateView) -> tuple[str, float, int] | None:
        """`distinct_winner(score_names(name, view))`, searched once per spelling and view.

        Unknown payers repeat within a run (the tax office, the company's own transfers
        between its accounts, a customer paying a dozen invoices one by one), and each search
        compares the name with every customer's: the answer is kept for the view it came from.
        """
        if view is not self._searched:
            self._searched, self._winners = view, {}
        key = (name_variants(name), len(name) >= TRUNCATED_AT)  # all score_names depends on
        if key not in self._winners:
            self._winners[key] = distinct_winner(score_names(name, view))
        return self._winners[key]

    def propose(self, payment: Payment, view: CandidateView) -> Sequence[Proposal]:
        if payment.amount <= 0 or not view.name_choices:
            return []
        if payer_customers(payment, view):
            return []  # the IBAN already says who pays: the combination matcher has it
        identities: list[Identity] = []
        for name in (payment.counterparty_name, payment.ultimate_debtor):
            if not name or not name_variants(name):
                continue
            if view.customers_by_name(name) or view.customers_by_alias(name):
                continue  # an exact name or alias is the combination matcher's evidence
            winner = self._winner(name, view)
            if winner is None:
                continue
            customer_id, score, index = winner
            if any(i.customer_id == customer_id for i in identities):
                continue
            alias = view.name_is_alias[index]
            choice = view.name_choices[index]
            weight = scoring.NAME_FUZZY_MAX * (0.5 + 0.5 * (score - MIN_SCORE) / (100 - MIN_SCORE))
            detail = (f"payer name {name!r} resembles {'learned alias' if alias else 'name'} "
                      f"{choice!r} of {customer_id} (score {score:.0f})")
            evidence = [Evidence(NAME, "alias" if alias else "name", detail, round(weight, 4))]
            evidence.extend(self._iban_check(payment, view, customer_id))
            identities.append(Identity(customer_id, tuple(evidence)))
        if not identities:
            return []
        scan = scan_references(payment, view)
        return propose_for_identities(NAME, payment, view, self.settings, identities, scan)

    @staticmethod
    def _iban_check(payment: Payment, view: CandidateView, customer_id: str) -> list[Evidence]:
        owners = view.customers_by_iban(payment.counterparty_iban)
        if not owners:
            return []
        if any(view.in_same_group(o, customer_id) for o in owners):
            return [Evidence(NAME, "iban", f"payer IBAN {payment.counterparty_iban} belongs to "
                             f"{customer_id}'s group", scoring.IBAN)]
        return [Evidence(NAME, "conflict", f"payer IBAN belongs to {', '.join(owners)}, the name "
                         f"to {customer_id}", scoring.OTHER_CUSTOMER)]


__all__ = ["FuzzyNameMatcher", "distinct_winner", "score_names"]
