"""The matching run end to end on small ledgers: apply, suggest, leave, learn, dry run."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select

from reconciler import journal
from reconciler.applying import apply_manual, reject_proposal
from reconciler.db.bank import TransactionRow
from reconciler.db.journal import JournalRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import (
    ApplicationLineRow,
    ApplicationRow,
    LearnedEvidenceRow,
    MatchRunRow,
    ProposalRow,
)
from reconciler.db.session import Database
from reconciler.domain import Allocation, Decision, ItemKey
from reconciler.engine import run_matching
from reconciler.settings import Settings
from tests.engine.builders import add_customer, add_item, add_payment

ACME_IBAN = "DE02100100100006820101"
GLOBEX_IBAN = "DE89370400440532013000"


def settings(db: Database) -> Settings:
    return Settings(database_url=db.url)


def ledger(db: Database) -> dict[str, int]:
    """Two customers; a clean payment, an ambiguous one and one nobody can place."""
    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        add_customer(s, "C2", "Globex Handels AG", (GLOBEX_IBAN,))
        add_item(s, "INV-2026-10001", "C1", "1190.00")
        add_item(s, "INV-2026-10002", "C1", "238.00")
        add_item(s, "INV-2026-20001", "C2", "500.00")
        add_item(s, "INV-2026-20002", "C2", "500.00")
        return {
            "clean": add_payment(s, "1190.00", name="ACME MASCHINENBAU GMBH", iban=ACME_IBAN,
                                 text="Rechnung INV-2026-10001", bank_reference="CLEAN"),
            "ambiguous": add_payment(s, "500.00", name="Globex Handels AG", iban=GLOBEX_IBAN,
                                     text="Zahlung", bank_reference="AMBIG"),
            "stranger": add_payment(s, "77.13", name="Tax Office Berlin",
                                    iban="DE44500105175407324931", text="Erstattung",
                                    bank_reference="STRANGER"),
        }


def tx_state(db: Database, transaction_id: int) -> str:
    with db.session() as s:
        row = s.get(TransactionRow, transaction_id)
        assert row is not None
        return row.state


def counts(db: Database) -> dict[str, Any]:
    with db.session() as s:
        found: dict[str, Any] = {
            table.__tablename__: s.scalar(select(func.count()).select_from(table))
            for table in (ApplicationRow, ApplicationLineRow, ProposalRow, JournalRow,
                          MatchRunRow, LearnedEvidenceRow)}
        found["states"] = sorted(s.execute(select(TransactionRow.id, TransactionRow.state)).all())
        found["open"] = sorted(s.execute(select(OpenItemRow.document_number,
                                                OpenItemRow.open_amount)).all())
    return found


def test_clean_payment_is_applied_with_its_matcher_as_actor(db: Database) -> None:
    lines = ledger(db)
    summary = run_matching(db, settings(db))
    assert summary.lines == 3 and summary.auto == 1
    assert tx_state(db, lines["clean"]) == "applied"
    with db.session() as s:
        application = s.scalars(select(ApplicationRow)).one()
        assert application.status == "auto" and application.actor.startswith(
            "matcher:reference@")
        assert "INV-2026-10001" in application.explanation
        rows = s.scalars(select(JournalRow).where(
            JournalRow.action == "application.created")).all()
        assert [r.actor for r in rows] == [application.actor]
        item = s.scalars(select(OpenItemRow).where(
            OpenItemRow.document_number == "INV-2026-10001")).one()
        assert item.open_amount == 0 and item.status == "closed"
        assert journal.verify(s).ok
        run = s.scalars(select(MatchRunRow)).one()
        assert run.finished_at is not None and run.summary["auto"] == 1


def test_ambiguous_payment_is_suggested_ranked_and_explained(db: Database) -> None:
    lines = ledger(db)
    summary = run_matching(db, settings(db))
    outcome = {o.transaction_id: o for o in summary.outcomes}
    assert outcome[lines["ambiguous"]].decision is Decision.SUGGEST
    assert tx_state(db, lines["ambiguous"]) == "suggested"
    with db.session() as s:
        rows = s.scalars(select(ProposalRow).where(
            ProposalRow.transaction_id == lines["ambiguous"]).order_by(ProposalRow.rank)).all()
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 2
    documents = {r.allocations[0]["document_number"] for r in rows[:2]}
    assert documents == {"INV-2026-20001", "INV-2026-20002"}
    assert all(r.explanation and r.state == "pending" for r in rows)
    assert "ranked #2" in rows[1].explanation
    # A second run with nothing new rewrites nothing: same proposals, and the journal only
    # gains the row that records the run itself.
    before = counts(db)
    again = run_matching(db, settings(db))
    after = counts(db)
    assert again.suggested == summary.suggested and again.auto == 0
    assert after["match_runs"] == before["match_runs"] + 1
    assert after["journal"] == before["journal"] + 1
    assert {k: v for k, v in after.items() if k not in ("match_runs", "journal")} == \
        {k: v for k, v in before.items() if k not in ("match_runs", "journal")}


def test_stranger_is_left_unmatched(db: Database) -> None:
    lines = ledger(db)
    summary = run_matching(db, settings(db))
    outcome = {o.transaction_id: o for o in summary.outcomes}
    assert outcome[lines["stranger"]].decision is Decision.UNMATCHED
    assert tx_state(db, lines["stranger"]) == "unmatched"


def test_dry_run_writes_nothing_and_predicts_the_real_run(db: Database) -> None:
    ledger(db)
    before = counts(db)
    dry = run_matching(db, settings(db), dry_run=True)
    assert counts(db) == before
    assert dry.dry_run and dry.run_id is None
    real = run_matching(db, settings(db))
    assert [(o.transaction_id, o.decision, o.items) for o in dry.outcomes] == \
        [(o.transaction_id, o.decision, o.items) for o in real.outcomes]


def test_two_payments_for_the_same_last_euro(db: Database) -> None:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        add_item(s, "INV-2026-10001", "C1", "1190.00")
        first = add_payment(s, "1190.00", name="Acme", iban=ACME_IBAN,
                            text="Rechnung INV-2026-10001")
        second = add_payment(s, "1190.00", name="Acme", iban=ACME_IBAN,
                             text="Rechnung INV-2026-10001")
    summary = run_matching(db, settings(db))
    assert summary.auto == 0 and summary.suggested == 2  # a person decides which one it was
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ApplicationRow)) == 0
        explanations = list(s.scalars(select(ProposalRow.explanation).where(
            ProposalRow.transaction_id == second)))
    assert any(f"taken by payment {first}" in e for e in explanations)


def test_item_changed_under_the_run_goes_to_review(db: Database) -> None:
    """Another worker settles part of the item between the snapshot and the application."""
    from matchers.registry import load_registry

    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        add_item(s, "INV-2026-10001", "C1", "1190.00")
        clean = add_payment(s, "1190.00", name="Acme", iban=ACME_IBAN,
                            text="Rechnung INV-2026-10001")
        other = add_payment(s, "100.00", state="not_receivable")
    real = load_registry(settings(db).matching)

    class InterferingRegistry:
        def actor(self, name: str) -> str:
            return real.actor(name)

        def run(self, payment: Any, view: Any) -> Any:
            with db.transaction() as s:  # a person applies another line meanwhile
                row = s.get(TransactionRow, other)
                assert row is not None
                row.state = "unreconciled"
                s.flush()
                apply_manual(s, other, [Allocation(ItemKey("MAIN", "INV-2026-10001"),
                                                   Decimal("100.00"))], actor="user:alice")
            return real.run(payment, view)

    summary = run_matching(db, settings(db), registry=InterferingRegistry())
    assert summary.auto == 0 and summary.suggested == 1
    assert tx_state(db, clean) == "suggested"
    assert any("not applied automatically" in r for r in summary.outcomes[0].reasons)


def test_learning_feeds_the_next_run(db: Database) -> None:
    new_iban = "GB33BUKB20201555555555"
    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        add_customer(s, "C2", "Globex Handels AG", (GLOBEX_IBAN,))
        add_item(s, "INV-2026-20001", "C2", "812.40")
        add_item(s, "INV-2026-20002", "C2", "377.15")
        first = add_payment(s, "812.40", name="Initech Treasury Services", iban=new_iban)
        second = add_payment(s, "377.15", name="Initech Treasury Services", iban=new_iban)
    before = {o.transaction_id: o for o in run_matching(db, settings(db), dry_run=True).outcomes}
    with db.transaction() as s:  # a reviewer places the first payment by hand
        apply_manual(s, first, [Allocation(ItemKey("MAIN", "INV-2026-20001"),
                                           Decimal("812.40"))], actor="user:alice")
    after = {o.transaction_id: o for o in run_matching(db, settings(db), dry_run=True).outcomes}
    assert after[second].items == ("MAIN/INV-2026-20002",)
    assert (after[second].confidence or 0) > (before[second].confidence or 0)
    assert after[second].decision is not Decision.UNMATCHED


def test_a_rejected_proposal_is_not_proposed_again(db: Database) -> None:
    lines = ledger(db)
    run_matching(db, settings(db))
    with db.session() as s:
        best = s.scalars(select(ProposalRow).where(
            ProposalRow.transaction_id == lines["ambiguous"], ProposalRow.rank == 1)).one()
    with db.transaction() as s:
        reject_proposal(s, best.id, actor="user:alice", reason="not that one")
    run_matching(db, settings(db))
    with db.session() as s:
        pending = s.scalars(select(ProposalRow).where(
            ProposalRow.transaction_id == lines["ambiguous"],
            ProposalRow.state == "pending")).all()
    assert pending and all(p.allocations != best.allocations for p in pending)


def test_concurrent_runs_never_apply_a_payment_twice(db: Database) -> None:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        for n in range(12):
            add_item(s, f"INV-2026-3{n:04d}", "C1", f"{100 + n}.00")
            add_payment(s, f"{100 + n}.00", name="Acme", iban=ACME_IBAN,
                        text=f"Rechnung INV-2026-3{n:04d}")
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            run_matching(db, settings(db))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, [repr(e) for e in errors]
    with db.session() as s:
        per_tx = s.execute(select(ApplicationRow.transaction_id, func.count())
                           .group_by(ApplicationRow.transaction_id)).all()
        assert len(per_tx) == 12 and all(n == 1 for _, n in per_tx)
        assert all(i.open_amount == 0 for i in s.scalars(select(OpenItemRow)))
        assert journal.verify(s).ok


def test_disputed_items_are_kept_out_of_matching(db: Database) -> None:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        add_item(s, "INV-2026-10001", "C1", "1190.00", status="disputed")
        tx = add_payment(s, "1190.00", name="Acme", iban=ACME_IBAN,
                         text="Rechnung INV-2026-10001")
    summary = run_matching(db, settings(db))
    assert summary.auto == 0
    assert all("INV-2026-10001" not in item for o in summary.outcomes for item in o.items)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ApplicationRow)) == 0
    assert tx_state(db, tx) in ("suggested", "unmatched")


class FixedMatcherRegistry:
    """A plug-in chain that proposes what the test says (a matcher is a plug-in like any)."""

    def __init__(self, proposals: dict[int, list[Any]]) -> None:
        self.proposals = proposals

    def actor(self, name: str) -> str:
        return f"matcher:{name}@9.9"

    def run(self, payment: Any, view: Any) -> tuple[list[Any], list[Any]]:
        return self.proposals.get(payment.id, []), []


def test_partial_payments_of_one_invoice_are_both_applied_in_one_run(db: Database) -> None:
    from reconciler.domain import Proposal

    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        add_item(s, "INV-1", "C1", "100.00")
        first = add_payment(s, "40.00", name="Acme", iban=ACME_IBAN)
        second = add_payment(s, "60.00", name="Acme", iban=ACME_IBAN)

    def partial(tx: int, amount: str) -> Proposal:
        return Proposal(tx, "fixed", "C1", (Allocation(ItemKey("MAIN", "INV-1"), Decimal(amount)),),
                        confidence=0.99, explanation="instalment")

    registry = FixedMatcherRegistry({first: [partial(first, "40.00")],
                                     second: [partial(second, "60.00")]})
    summary = run_matching(db, settings(db), registry=registry)
    assert summary.auto == 2, [o.reasons for o in summary.outcomes]
    with db.session() as s:
        item = s.scalars(select(OpenItemRow)).one()
        assert item.open_amount == 0 and item.status == "closed"
        actors = set(s.scalars(select(ApplicationRow.actor)))
    assert actors == {"matcher:fixed@9.9"}


def test_a_run_stopped_while_writing_keeps_its_decisions_and_says_so(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during the writing: what was committed stands, the run's row is closed as
    interrupted with a journal row, and the next run applies the rest, nothing twice."""
    import reconciler.writing

    lines = 30
    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        payments = []
        for n in range(lines):
            add_item(s, f"INV-2026-4{n:04d}", "C1", f"{200 + n}.00")
            payments.append(add_payment(s, f"{200 + n}.00", name="Acme", iban=ACME_IBAN,
                                        text=f"Rechnung INV-2026-4{n:04d}"))
    apply_one = reconciler.writing._apply_automatically
    # SQLite applies the lines one after the other: the stop comes at the second. PostgreSQL's
    # appliers take the lines in order, several at once, and the run waits for the first line's
    # outcome first: the stop comes there, while the other appliers are inside theirs.
    stop_at = payments[0] if db.is_postgres else payments[1]
    begun: list[int] = []

    def apply_or_stop(*args: Any) -> str:
        line = args[3]
        begun.append(line.payment.id)
        if line.payment.id == stop_at:
            raise KeyboardInterrupt
        time.sleep(0.5 if db.is_postgres else 0.05)  # a decision takes a moment
        return apply_one(*args)

    monkeypatch.setattr(reconciler.writing, "_apply_automatically", apply_or_stop)
    with pytest.raises(KeyboardInterrupt):
        run_matching(db, settings(db))
    with db.session() as s:
        applied = s.scalar(select(func.count()).select_from(ApplicationRow))
        # Every decision begun before the stop was finished, and none begun after it.
        assert applied == len(begun) - 1
        if db.is_postgres:
            # The appliers' lines, and one more that the stopped applier may take before the
            # run hears of the stop; the others are still inside theirs by then.
            assert len(begun) <= reconciler.writing.APPLY_WORKERS + 1
        else:
            assert applied == 1
        run = s.scalars(select(MatchRunRow)).one()
        assert run.finished_at is not None
        assert run.summary == {"run_id": run.id, "lines": lines, "applied": applied,
                               "interrupted": "KeyboardInterrupt"}
        stopped = s.scalars(select(JournalRow).where(
            JournalRow.action == "match.interrupted")).one()
        assert stopped.subject == f"run:{run.id}" and stopped.data["applied"] == applied

    monkeypatch.setattr(reconciler.writing, "_apply_automatically", apply_one)
    again = run_matching(db, settings(db))
    assert again.lines == lines - applied and again.auto == lines - applied
    with db.session() as s:
        per_tx = s.execute(select(ApplicationRow.transaction_id, func.count())
                           .group_by(ApplicationRow.transaction_id)).all()
        assert len(per_tx) == lines and all(n == 1 for _, n in per_tx)
        assert journal.verify(s).ok


def test_the_appliers_keep_their_connections_for_the_whole_run(db: Database) -> None:
    """Each decision is its own transaction, but not its own trip to the connection pool:
    on PostgreSQL a checkout pings the server first, one more round trip per decision."""
    import reconciler.writing

    lines = 40
    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        for n in range(lines):
            add_item(s, f"INV-2026-5{n:04d}", "C1", f"{300 + n}.00")
            add_payment(s, f"{300 + n}.00", name="Acme", iban=ACME_IBAN,
                        text=f"Rechnung INV-2026-5{n:04d}")
    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(None)

    event.listen(db.engine.pool, "checkout", count)
    try:
        summary = run_matching(db, settings(db))
    finally:
        event.remove(db.engine.pool, "checkout", count)
    assert summary.auto == lines
    # The appliers' own connections plus the run's few others (its snapshot, its row, the
    # review batches, the summary): far fewer than the decisions.
    assert len(checkouts) <= reconciler.writing.APPLY_WORKERS + 8 < lines
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ApplicationRow)) == lines
        assert journal.verify(s).ok


def test_a_run_reports_wall_and_cpu_seconds_for_the_same_phases(db: Database) -> None:
    ledger(db)
    summary = run_matching(db, settings(db))
    names = [phase for phase, _ in summary.phases]
    assert names == ["read", "index", "match", "resolve + decide", "write"]
    assert [phase for phase, _ in summary.phases_cpu] == names
    assert all(seconds >= 0 for _, seconds in summary.phases_cpu)
    dry = run_matching(db, settings(db), dry_run=True)
    assert [phase for phase, _ in dry.phases_cpu] == names[:-1]  # a dry run writes nothing


def _spin(seconds: float) -> None:
    ends = time.process_time() + seconds
    while time.process_time() < ends:
        pass


def test_cpu_seconds_count_the_worker_processes_waited_for() -> None:
    """The match phase's CPU is mostly its worker processes': once they are joined, their
    time counts, so a phase's CPU figure is not just the parent's waiting."""
    import multiprocessing

    from reconciler.engine import cpu_seconds

    before, own = cpu_seconds(), time.process_time()
    worker = multiprocessing.get_context("fork").Process(target=_spin, args=(0.4,))
    worker.start()
    worker.join()
    assert worker.exitcode == 0
    assert cpu_seconds() - before >= 0.35
    assert time.process_time() - own < 0.2  # the parent only waited
