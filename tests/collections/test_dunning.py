"""The daily dunning run: stages, grouping, every skip reason, idempotency, letters, journal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from reconciler import journal, promises
from reconciler.db.collections import (
    DunningActionRow,
    DunningRunRow,
    EmailOutboxRow,
    ItemDunningRow,
)
from reconciler.db.matching import ProposalRow
from reconciler.db.session import Database
from reconciler.disputes import open_dispute, resolve_dispute
from reconciler.dunning import run_dunning
from reconciler.errors import ConflictError
from reconciler.settings import DunningSettings, Settings
from tests.collections import builders as b

TODAY = dt.date(2026, 11, 20)


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def settings() -> Settings:
    return Settings(dunning=DunningSettings(creditor_iban="DE89370400440532013000"))


def _portfolio(db: Database) -> dict[str, int]:
    """One customer per situation, items due so that they reach a stage today."""
    ids: dict[str, int] = {}
    with db.transaction() as s:
        b.customer(s, "LATE", email="ap@late.example", country="DE")
        ids["late1"] = b.item(s, "INV-1", "LATE", "500.00", due=days(-6)).id  # reminder1
        ids["late2"] = b.item(s, "INV-2", "LATE", "250.00", due=days(-16)).id  # reminder1 first
        b.item(s, "INV-3", "LATE", "100.00", due=days(10))  # not due: no stage yet
        b.customer(s, "SOON", email="ap@soon.example", country="FR")
        ids["soon"] = b.item(s, "INV-4", "SOON", "300.00", due=days(4)).id  # courtesy (D-5)
        b.customer(s, "DISP")
        ids["disp"] = b.item(s, "INV-5", "DISP", "400.00", due=days(-20)).id
        b.customer(s, "PROM")
        ids["prom"] = b.item(s, "INV-6", "PROM", "600.00", due=days(-30)).id
        b.customer(s, "PEND")
        ids["pend"] = b.item(s, "INV-7", "PEND", "700.00", due=days(-8)).id
        b.customer(s, "CASH")
        ids["cash"] = b.item(s, "INV-8", "CASH", "80.00", due=days(-9)).id
        b.customer(s, "TINY")
        ids["tiny"] = b.item(s, "INV-9", "TINY", "4.00", due=days(-12)).id
        b.customer(s, "PAYS", ibans=("NL91ABNA0417164300",))
        ids["pays"] = b.item(s, "INV-10", "PAYS", "900.00", due=days(-7)).id
        b.customer(s, "KEY", segment="key_account")
        ids["key"] = b.item(s, "INV-11", "KEY", "5000.00", due=days(-8)).id
        b.customer(s, "PAID")
        b.item(s, "INV-12", "PAID", "100.00", due=days(-40), open_amount="0.00")
    with db.transaction() as s:
        open_dispute(s, ids["disp"], "quality", actor="user:ann", note="broken goods")
        promises.record_promise(s, "PROM", [ids["prom"]], Decimal("600.00"), days(5),
                                actor="user:ann", today=TODAY)
        s.add(ProposalRow(transaction_id=b.transaction(s, "700.00", value_date=days(-1),
                                                       state="suggested").id,
                          run_id=1, rank=1, matcher="reference", customer_id="PEND",
                          confidence=0.8, decision="suggest",
                          allocations=[{"entity": "MAIN", "document_number": "INV-7",
                                        "amount": "700.00", "discount": "0"}]))
        tx = b.transaction(s, "100.00", value_date=days(-2))
        b.apply(s, tx, "CASH", [("unapplied", None, "100.00")])
        b.transaction(s, "900.00", value_date=days(-1), state="unmatched",
                      iban="NL91ABNA0417164300")
    return ids


def test_run_plans_actions_and_skips_every_reason(db: Database, settings: Settings) -> None:
    ids = _portfolio(db)
    report = run_dunning(db, settings, TODAY)
    by_customer = {a.customer_id: a for a in report.actions}
    assert set(by_customer) == {"LATE", "SOON", "KEY"}
    late = by_customer["LATE"]
    # One letter grouping both overdue items; escalation starts at the first reminder.
    assert [d.document_number for d in late.items] == ["INV-2", "INV-1"]
    assert late.stage.name == "reminder1" and late.total == Decimal("750.00")
    assert by_customer["SOON"].stage.name == "courtesy"
    assert by_customer["KEY"].stage.channel == "task"
    assert by_customer["KEY"].plan.owner == "key-account-managers"
    skipped = {s.item_id: s.reason for s in report.skipped}
    assert skipped == {ids["disp"]: "dispute", ids["prom"]: "promise",
                       ids["pend"]: "pending_match", ids["cash"]: "unapplied_cash",
                       ids["tiny"]: "below_minimum", ids["pays"]: "pending_match"}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DunningActionRow)) == 3
        emails = s.scalars(select(EmailOutboxRow)).all()
        assert {e.recipient for e in emails} == {"ap@late.example", "ap@soon.example"}
        soon = next(e for e in emails if e.recipient == "ap@soon.example")
        assert "échéance" in soon.body and "DE89370400440532013000" in soon.body
        state = s.get(ItemDunningRow, ids["late1"])
        assert state is not None and state.level == 2 and state.last_action_date == TODAY
        assert journal.verify(s).ok


def test_run_is_idempotent_per_day(db: Database, settings: Settings) -> None:
    _portfolio(db)
    first = run_dunning(db, settings, TODAY)
    again = run_dunning(db, settings, TODAY)
    assert again.already_ran and again.stored_actions == len(first.actions)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DunningRunRow)) == 1
        assert s.scalar(select(func.count()).select_from(DunningActionRow)) == len(first.actions)


def test_dry_run_writes_nothing(db: Database, settings: Settings) -> None:
    _portfolio(db)
    with db.session() as s:
        before = journal.verify(s).rows
    report = run_dunning(db, settings, TODAY, dry_run=True)
    assert report.actions
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DunningRunRow)) == 0
        assert s.scalar(select(func.count()).select_from(ItemDunningRow)) == 0
        assert journal.verify(s).rows == before


def test_escalation_waits_and_goes_one_stage_at_a_time(db: Database, settings: Settings) -> None:
    with db.transaction() as s:
        b.customer(s, "SLOW")
        b.item(s, "INV-1", "SLOW", "1000.00", due=days(-60))
    stages = []
    for offset in (0, 3, 7, 14, 21):
        report = run_dunning(db, settings, days(offset))
        stages.append([a.stage.name for a in report.actions])
    # 60 days late but never chased: first reminder, then one step per week at most.
    assert stages == [["reminder1"], [], ["reminder2"], ["call"], ["formal_notice"]]
    with db.session() as s:
        notice = s.scalars(select(DunningActionRow).where(
            DunningActionRow.stage == "formal_notice")).one()
        assert notice.fee == Decimal("40.00") and notice.interest > 0


def test_resolved_dispute_returns_item_to_dunning(db: Database, settings: Settings) -> None:
    with db.transaction() as s:
        b.customer(s, "C1")
        item_id = b.item(s, "INV-1", "C1", "100.00", due=days(-10)).id
        dispute_id = open_dispute(s, item_id, "pricing", actor="user:ann")
    with db.transaction() as s, pytest.raises(ConflictError):
        open_dispute(s, item_id, "pricing", actor="user:ann")
    assert run_dunning(db, settings, TODAY).skip_counts()["dispute"] == 1
    with db.transaction() as s:
        resolve_dispute(s, dispute_id, "rejected", actor="user:bob")
    assert [a.customer_id for a in run_dunning(db, settings, days(1)).actions] == ["C1"]


def test_broken_promise_raises_priority(db: Database, settings: Settings) -> None:
    with db.transaction() as s:
        b.customer(s, "P1")
        b.customer(s, "P2")
        first = b.item(s, "INV-1", "P1", "100.00", due=days(-20)).id
        b.item(s, "INV-2", "P2", "100.00", due=days(-20))
        promises.record_promise(s, "P1", [first], Decimal("100.00"), days(-5),
                                actor="user:ann", today=days(-10))
    report = run_dunning(db, settings, TODAY)
    assert report.actions[0].customer_id == "P1"
    assert report.actions[0].priority > report.actions[1].priority


def test_short_payment_with_a_reason_opens_a_dispute(db: Database, settings: Settings) -> None:
    from reconciler.disputes import open_from_short_payment, reason_from_text

    assert reason_from_text("INV-1 abzgl. 50 EUR wegen beschädigter Ware") == "quality"
    assert reason_from_text("INV-1 invoice payment") is None
    with db.transaction() as s:
        b.customer(s, "C1")
        item_id = b.item(s, "INV-1", "C1", "500.00", due=days(-10)).id
        tx = b.transaction(s, "450.00", value_date=days(-1))
        assert open_from_short_payment(s, item_id, Decimal("50.00"), "INV-1 no reason",
                                       transaction_id=tx.id, actor="matcher:x") is None
        dispute_id = open_from_short_payment(s, item_id, Decimal("50.00"),
                                             "INV-1 minus 50 price difference",
                                             transaction_id=tx.id, actor="matcher:x")
    assert dispute_id is not None
    assert run_dunning(db, settings, TODAY).skip_counts()["dispute"] == 1
