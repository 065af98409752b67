"""The collections pages: worklist, one dunning action and its outcome, disputes, KPIs.

Dunning runs and actions are written with the ORM as fixtures (like `seed`); the decisions
posted from the pages go through the real services.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reconciler import disputes as disputes_service
from reconciler.db.collections import (
    DisputeNoteRow,
    DisputeRow,
    DunningActionRow,
    DunningRunRow,
    KpiSnapshotRow,
    PromiseRow,
)
from reconciler.db.journal import JournalRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.session import Database
from reconciler.dunning import run_dunning
from reconciler.money import money
from reconciler.settings import DunningSettings, Settings
from tests.collections import builders
from tests.web.conftest import post
from tests.web.seed import Seeded

Clients = Callable[[str], FlaskClient]
TODAY = dt.datetime.now(dt.UTC).date()


def add_actions(db: Database, seeded: Seeded) -> dict[str, int]:
    """A phone task for C002 (INV-3, 40 days late) and a letter for C001 (INV-1)."""
    ids = seeded.item_ids
    with db.transaction() as s:
        run = DunningRunRow(run_date=TODAY, actor="test")
        s.add(run)
        s.flush()

        def action(customer: str, stage: str, channel: str, doc: str, total: str, priority: int,
                   segment: str, owner: str) -> int:
            row = DunningActionRow(
                run_id=run.id, customer_id=customer, stage=stage, level=1, channel=channel,
                owner=owner, segment=segment, language="en", currency="EUR",
                total=money(total), items=[{"item_id": ids[doc], "document_number": doc,
                                            "due_date": "2026-10-11", "days_overdue": 40,
                                            "open_amount": total, "stage": stage}],
                risk_score=30, priority=priority, subject=f"Reminder {doc}",
                body=f"Dear customer, {doc} is overdue.")
            s.add(row)
            s.flush()
            return row.id

        call = action("C002", "call", "phone", "INV-3", "500.00", 10, "key", "ottilie")
        letter = action("C001", "first_reminder", "letter", "INV-1", "1190.00", 0, "sme",
                        "paul")
    return {"call": call, "letter": letter}


def snapshot(db: Database) -> tuple[object, ...]:
    with db.session() as s:
        return (
            tuple(s.execute(select(DunningActionRow.id, DunningActionRow.status,
                                   DunningActionRow.outcome).order_by(DunningActionRow.id))),
            tuple(s.execute(select(OpenItemRow.id, OpenItemRow.status).order_by(OpenItemRow.id))),
            tuple(s.execute(select(DisputeRow.id, DisputeRow.status).order_by(DisputeRow.id))),
            s.scalar(select(func.count()).select_from(PromiseRow)),
            s.scalar(select(func.count()).select_from(DisputeNoteRow)),
            s.scalar(select(func.count()).select_from(JournalRow)),
        )


def journal_actions(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(JournalRow.action).order_by(JournalRow.seq)))


def action_row(db: Database, action_id: int) -> DunningActionRow:
    with db.session() as s:
        row = s.get(DunningActionRow, action_id)
        assert row is not None
        return row


def test_worklist_orders_and_filters(db: Database, seeded: Seeded, client_for: Clients) -> None:
    actions = add_actions(db, seeded)
    client = client_for("viewer")
    page = client.get("/worklist").get_data(as_text=True)
    # The broken-promise priority of the call puts the smaller total first.
    assert page.index("Beta Logistics") < page.index("ACME Trading")
    assert "/customers/C002" in page and "500.00 EUR" in page and "1,190.00 EUR" in page
    assert f"/worklist/{actions['call']}" in page
    only_sme = client.get("/worklist?segment=sme").get_data(as_text=True)
    assert "ACME Trading" in only_sme and "Beta Logistics" not in only_sme
    by_owner = client.get("/worklist?owner=ottilie&stage=call").get_data(as_text=True)
    assert "Beta Logistics" in by_owner and "ACME Trading" not in by_owner
    # Neither customer has a payment history: both land in the same risk class.
    classes = {"A", "B", "C", "D"}
    shown = [c for c in classes if "ACME Trading" in client.get(
        f"/worklist?risk_class={c}").get_data(as_text=True)]
    assert len(shown) == 1
    assert client.get("/worklist?risk_class=Z").status_code == 400


def test_action_page_shows_letter_and_forms(db: Database, seeded: Seeded,
                                            client_for: Clients) -> None:
    actions = add_actions(db, seeded)
    viewer = client_for("viewer").get(f"/worklist/{actions['call']}").get_data(as_text=True)
    assert "Reminder INV-3" in viewer and "INV-3 is overdue" in viewer
    assert "Record promise" not in viewer  # a viewer sees no decision forms
    reviewer = client_for("reviewer")
    call = reviewer.get(f"/worklist/{actions['call']}").get_data(as_text=True)
    assert "Record promise" in call and "Open dispute" in call and "Mark done" not in call
    letter = reviewer.get(f"/worklist/{actions['letter']}").get_data(as_text=True)
    assert "Mark done" in letter and "Record promise" not in letter
    assert client_for("viewer").get("/worklist/987654").status_code == 404


def test_promise_is_recorded_and_closes_the_call(db: Database, seeded: Seeded,
                                                 client_for: Clients) -> None:
    actions = add_actions(db, seeded)
    promised = TODAY + dt.timedelta(days=7)
    client = client_for("reviewer")
    response = post(client, f"/worklist/{actions['call']}/outcome",
                    {"outcome": "promise", "promised_date": promised.isoformat(),
                     "amount": "500.00", "note": "pays Friday"})
    assert response.status_code == 302  # type: ignore[attr-defined]
    with db.session() as s:
        promise = s.scalars(select(PromiseRow)).one()
    assert promise.customer_id == "C002" and promise.amount == Decimal("500.00")
    assert promise.item_ids == [seeded.item_ids["INV-3"]] and promise.promised_date == promised
    row = action_row(db, actions["call"])
    assert (row.status, row.outcome, row.outcome_note) == ("done", "promise", "pays Friday")
    assert journal_actions(db)[-2:] == ["promise.recorded", "dunning.outcome"]
    # Done is done: a second decision on the same action is a conflict and changes nothing.
    before = snapshot(db)
    again = post(client, f"/worklist/{actions['call']}/outcome",
                 {"outcome": "no_answer"})
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert snapshot(db) == before


def test_dispute_outcome_opens_a_dispute_per_item(db: Database, seeded: Seeded,
                                                  client_for: Clients) -> None:
    actions = add_actions(db, seeded)
    response = post(client_for("reviewer"), f"/worklist/{actions['call']}/outcome",
                    {"outcome": "dispute", "reason_code": "quality", "note": "damaged"})
    assert response.status_code == 302  # type: ignore[attr-defined]
    with db.session() as s:
        dispute = s.scalars(select(DisputeRow)).one()
        item = s.get(OpenItemRow, seeded.item_ids["INV-3"])
    assert dispute.reason_code == "quality" and dispute.owner == "ottilie"
    assert item is not None and item.status == "disputed"
    assert action_row(db, actions["call"]).outcome == "dispute"
    assert journal_actions(db)[-2:] == ["dispute.opened", "dunning.outcome"]


def test_no_answer_and_mark_done(db: Database, seeded: Seeded, client_for: Clients) -> None:
    actions = add_actions(db, seeded)
    client = client_for("reviewer")
    post(client, f"/worklist/{actions['call']}/outcome", {"outcome": "no_answer"})
    assert action_row(db, actions["call"]).outcome == "no_answer"
    post(client, f"/worklist/{actions['letter']}/done")
    letter = action_row(db, actions["letter"])
    assert letter.status == "done" and letter.outcome_note == "letter sent"
    assert journal_actions(db)[-2:] == ["dunning.outcome", "dunning.outcome"]
    page = client.get("/worklist").get_data(as_text=True)
    assert "Nothing due." in page


@pytest.mark.parametrize(("url_key", "form", "status"), [
    ("call", {"outcome": "promise", "promised_date": "2026-13-40", "amount": "500"}, 400),
    ("call", {"outcome": "promise", "promised_date": "tomorrow", "amount": "500"}, 400),
    ("call", {"outcome": "promise", "promised_date": "2099-01-01", "amount": "abc"}, 400),
    ("call", {"outcome": "promise", "promised_date": "2099-01-01", "amount": "-5"}, 400),
    ("call", {"outcome": "promise", "promised_date": "2000-01-01", "amount": "500"}, 400),
    ("call", {"outcome": "dispute", "reason_code": "no_such_reason"}, 400),
    ("call", {"outcome": "shrug"}, 400),
    ("letter", {"outcome": "no_answer"}, 400),  # a letter is marked done, not called
    ("unknown", {"outcome": "no_answer"}, 404),
])
def test_bad_outcomes_change_nothing(db: Database, seeded: Seeded, client_for: Clients,
                                     url_key: str, form: dict[str, object], status: int) -> None:
    actions = add_actions(db, seeded)
    action_id = actions.get(url_key, 987654)
    client = client_for("reviewer")
    before = snapshot(db)
    response = post(client, f"/worklist/{action_id}/outcome", form)
    assert response.status_code == status, response.get_data(as_text=True)  # type: ignore
    assert snapshot(db) == before


def test_mark_done_refuses_calls_and_unknown_actions(db: Database, seeded: Seeded,
                                                     client_for: Clients) -> None:
    actions = add_actions(db, seeded)
    client = client_for("reviewer")
    before = snapshot(db)
    assert post(client, f"/worklist/{actions['call']}/done").status_code == 400  # type: ignore
    assert post(client, "/worklist/987654/done").status_code == 404  # type: ignore
    assert snapshot(db) == before


def test_viewer_cannot_decide(db: Database, seeded: Seeded, client_for: Clients) -> None:
    actions = add_actions(db, seeded)
    client = client_for("viewer")
    before = snapshot(db)
    response = post(client, f"/worklist/{actions['letter']}/done")
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert snapshot(db) == before


def open_one_dispute(db: Database, seeded: Seeded) -> int:
    with db.transaction() as s:
        return disputes_service.open_dispute(s, seeded.item_ids["INV-3"], "pricing",
                                             actor="user:rita", owner="ottilie",
                                             note="price list of 2025")


def test_disputes_page_note_and_resolve(db: Database, seeded: Seeded,
                                        client_for: Clients) -> None:
    dispute_id = open_one_dispute(db, seeded)
    page = client_for("viewer").get("/disputes").get_data(as_text=True)
    assert "INV-3" in page and "Beta Logistics" in page and "pricing" in page
    assert "ottilie" in page and "price list of 2025" in page and "0 days" in page
    assert "Resolve" not in page  # no forms for a viewer
    client = client_for("reviewer")
    post(client, f"/disputes/{dispute_id}/note", {"note": "customer sent the old quote"})
    assert "customer sent the old quote" in client.get("/disputes").get_data(as_text=True)
    post(client, f"/disputes/{dispute_id}/resolve", {"resolution": "credit_note"})
    with db.session() as s:
        dispute = s.get(DisputeRow, dispute_id)
        item = s.get(OpenItemRow, seeded.item_ids["INV-3"])
    assert dispute is not None and dispute.status == "resolved"
    assert dispute.resolution == "credit_note" and dispute.resolved_by == "user:rita"
    assert item is not None and item.status == "open"
    assert journal_actions(db)[-2:] == ["dispute.note", "dispute.resolved"]
    assert "No open disputes." in client.get("/disputes").get_data(as_text=True)


def test_bad_dispute_posts_change_nothing(db: Database, seeded: Seeded,
                                          client_for: Clients) -> None:
    dispute_id = open_one_dispute(db, seeded)
    client = client_for("reviewer")
    before = snapshot(db)
    cases: tuple[tuple[str, dict[str, object], int], ...] = (
            (f"/disputes/{dispute_id}/resolve", {"resolution": "forgiven"}, 400),
            (f"/disputes/{dispute_id}/note", {"note": "   "}, 400),
            ("/disputes/987654/resolve", {"resolution": "paid"}, 404),
            ("/disputes/987654/note", {"note": "hello"}, 404))
    for url, form, status in cases:
        response = post(client, url, form)
        assert response.status_code == status, url  # type: ignore[attr-defined]
    assert snapshot(db) == before


def test_kpis_page_and_csv(db: Database, seeded: Seeded, client_for: Clients) -> None:
    with db.transaction() as s:
        for days, dso in ((2, "41.5"), (1, "43.25")):
            s.add(KpiSnapshotRow(as_of=TODAY - dt.timedelta(days=days), dimension="all",
                                 value="", figures={"dso": float(dso)}))
    client = client_for("viewer")
    as_of = "2026-11-20"
    page = client.get(f"/kpis?as_of={as_of}").get_data(as_text=True)
    assert "Aged balance on 2026-11-20" in page and "<svg" in page
    assert "DSO by day" in page and "43" in page
    # INV-3 (500.00) is 40 days overdue on the seed date: the 31-60 bucket.
    assert "500.00 EUR" in page
    assert f"/kpis.csv?as_of={as_of}" in page
    by_currency = client.get(f"/kpis?as_of={as_of}&by=currency").get_data(as_text=True)
    assert "By currency" in by_currency and ">EUR<" in by_currency
    response = client.get(f"/kpis.csv?as_of={as_of}&by=entity")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["dimension"] for r in rows] == ["all", "entity"]
    assert rows[1]["value"] == "MAIN"
    # Four items of 1190 + 1190 + 500 + 250, none paid yet.
    assert Decimal(rows[0]["receivables"]) == Decimal("3130.00")
    assert Decimal(rows[0]["aged_balance.31-60"]) == Decimal("500.00")
    assert rows[0]["receivables"] == rows[1]["receivables"]


def test_kpis_refuse_bad_parameters(seeded: Seeded, client_for: Clients) -> None:
    client = client_for("viewer")
    for url in ("/kpis?as_of=yesterday", "/kpis?by=planet", "/kpis.csv?as_of=2026-02-30",
                "/kpis.csv?by=planet"):
        assert client.get(url).status_code == 400, url


def test_pages_carry_no_inline_script(db: Database, seeded: Seeded, client_for: Clients) -> None:
    actions = add_actions(db, seeded)
    open_one_dispute(db, seeded)
    client = client_for("admin")
    for url in ("/worklist", f"/worklist/{actions['call']}", f"/worklist/{actions['letter']}",
                "/disputes", "/kpis", "/kpis?by=segment"):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "<script>" not in page and "onclick" not in page and "style=" not in page, url


def test_a_real_dunning_run_feeds_the_worklist(db: Database, app: object,
                                               client_for: Clients) -> None:
    """The actions of `run_dunning` itself (items JSON as the service writes it) drive the
    pages: a key-account task is called and closed with a promise."""
    with db.transaction() as s:
        builders.customer(s, "KEY", segment="key_account")
        item_id = builders.item(s, "INV-11", "KEY", "5000.00",
                                due=TODAY - dt.timedelta(days=8)).id
    settings = Settings(dunning=DunningSettings(creditor_iban="DE89370400440532013000"))
    report = run_dunning(db, settings, TODAY)
    assert [a.customer_id for a in report.actions] == ["KEY"]
    with db.session() as s:
        action_id = s.scalars(select(DunningActionRow.id)).one()
    client = client_for("reviewer")
    page = client.get("/worklist?segment=key_account").get_data(as_text=True)
    assert "/customers/KEY" in page and "5,000.00 EUR" in page
    detail = client.get(f"/worklist/{action_id}").get_data(as_text=True)
    assert "INV-11" in detail and "Record promise" in detail
    response = post(client, f"/worklist/{action_id}/outcome",
                    {"outcome": "promise", "amount": "2500",
                     "promised_date": (TODAY + dt.timedelta(days=3)).isoformat()})
    assert response.status_code == 302  # type: ignore[attr-defined]
    with db.session() as s:
        promise = s.scalars(select(PromiseRow)).one()
    assert promise.item_ids == [item_id] and promise.amount == Decimal("2500.00")
    assert action_row(db, action_id).status == "done"
