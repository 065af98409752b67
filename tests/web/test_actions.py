"""Each decision from the pages changes the database as expected and is journaled; bad posts
give a clear 400 (or 404 for an unknown id in the address) and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy import func, select

from reconciler.db.bank import TransactionRow
from reconciler.db.journal import JournalRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationRow, LearnedEvidenceRow, ProposalRow
from reconciler.db.session import Database
from tests.web.conftest import post
from tests.web.seed import Seeded

Clients = Callable[[str], FlaskClient]


def state(db: Database) -> tuple[object, ...]:
    """Everything a decision may touch, to prove that a refused one touched nothing."""
    with db.session() as s:
        return (
            tuple(s.execute(select(ProposalRow.id, ProposalRow.state).order_by(ProposalRow.id))),
            tuple(s.execute(select(TransactionRow.id, TransactionRow.state)
                            .order_by(TransactionRow.id))),
            tuple(s.execute(select(OpenItemRow.id, OpenItemRow.open_amount, OpenItemRow.status)
                            .order_by(OpenItemRow.id))),
            s.scalar(select(func.count()).select_from(ApplicationRow)),
            s.scalar(select(func.count()).select_from(JournalRow)),
        )


def last_journal(db: Database) -> JournalRow:
    with db.session() as s:
        row = s.scalars(select(JournalRow).order_by(JournalRow.seq.desc()).limit(1)).first()
    assert row is not None
    return row


def open_amount(db: Database, item_id: int) -> Decimal:
    with db.session() as s:
        row = s.get(OpenItemRow, item_id)
        assert row is not None
        return row.open_amount


def tx_state(db: Database, tx_id: int) -> str:
    with db.session() as s:
        row = s.get(TransactionRow, tx_id)
        assert row is not None
        return row.state


def test_accept_applies_and_journals(db: Database, seeded: Seeded, client_for: Clients) -> None:
    client = client_for("reviewer")
    response = post(client, f"/queue/{seeded.proposal_exact}/accept")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert open_amount(db, seeded.item_ids["INV-1"]) == Decimal("0")
    assert tx_state(db, seeded.tx_exact) == "applied"
    with db.session() as s:
        assert s.get(ProposalRow, seeded.proposal_exact).state == "accepted"  # type: ignore[union-attr]
        assert s.get(ProposalRow, seeded.proposal_alt).state == "superseded"  # type: ignore[union-attr]
        application = s.scalars(select(ApplicationRow)).one()
        assert application.actor == "user:rita"
    entries = [r.action for r in _journal(db)]
    assert "application.created" in entries


def _journal(db: Database) -> list[JournalRow]:
    with db.session() as s:
        return list(s.scalars(select(JournalRow).order_by(JournalRow.seq)))


def test_choose_an_alternative(db: Database, seeded: Seeded, client_for: Clients) -> None:
    post(client_for("reviewer"), f"/queue/{seeded.proposal_alt}/accept")
    assert open_amount(db, seeded.item_ids["INV-2"]) == Decimal("0")
    assert open_amount(db, seeded.item_ids["INV-1"]) == Decimal("1190.00")


def test_reject_keeps_the_line_for_review(db: Database, seeded: Seeded,
                                          client_for: Clients) -> None:
    post(client_for("reviewer"), f"/queue/{seeded.proposal_short}/reject",
         {"reason": "wrong customer"})
    assert tx_state(db, seeded.tx_short) == "unmatched"
    entry = last_journal(db)
    assert entry.action == "proposal.rejected" and entry.reason == "wrong customer"
    assert entry.actor == "user:rita"


def test_edit_with_bank_charge(db: Database, seeded: Seeded, client_for: Clients) -> None:
    client = client_for("reviewer")
    response = post(client, f"/queue/{seeded.proposal_short}/apply", {
        "item_id": [str(seeded.item_ids["INV-3"])], "amount": ["500.00"], "discount": [""],
        "adj_kind": ["bank_charge", ""], "adj_amount": ["-5.00", ""],
        "adj_reason": ["correspondent bank fee", ""], "reason": "fee deducted"})
    assert response.status_code == 302, response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert open_amount(db, seeded.item_ids["INV-3"]) == Decimal("0")
    with db.session() as s:
        application = s.scalars(select(ApplicationRow)).one()
        kinds = sorted((line.kind, line.amount) for line in application.lines)
    assert kinds == [("bank_charge", Decimal("-5.0000")), ("item", Decimal("500.0000"))]


def test_split_across_items_by_hand(db: Database, seeded: Seeded, client_for: Clients) -> None:
    client = client_for("reviewer")
    response = post(client, f"/exceptions/{seeded.tx_unmatched}/match", {
        "item_id": [str(seeded.item_ids["INV-3"]), str(seeded.item_ids["INV-4"])],
        "amount": ["100.00", "200.00"], "discount": ["", ""], "reason": "phone call"})
    assert response.status_code == 302, response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert open_amount(db, seeded.item_ids["INV-3"]) == Decimal("400.00")
    assert open_amount(db, seeded.item_ids["INV-4"]) == Decimal("50.00")
    assert tx_state(db, seeded.tx_unmatched) == "applied"
    assert last_journal(db).action in ("application.created", "evidence.learned")


def test_write_off_above_limit_needs_an_approver(db: Database, seeded: Seeded,
                                                 client_for: Clients) -> None:
    form = {"item_id": [str(seeded.item_ids["INV-3"])], "amount": ["495.00"],
            "adj_kind": ["write_off"], "adj_amount": ["-195.00"], "adj_reason": ["goodwill"]}
    # 300.00 received, 495.00 of the item settled: the 195.00 written off is above the
    # 50.00 limit, so a reviewer may not book it and an approver may.
    reviewer, approver = client_for("reviewer"), client_for("approver")
    before = state(db)
    refused = post(reviewer, f"/exceptions/{seeded.tx_unmatched}/match", form)
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert state(db) == before
    allowed = post(approver, f"/exceptions/{seeded.tx_unmatched}/match", form)
    assert allowed.status_code == 302, allowed.get_data(as_text=True)  # type: ignore[attr-defined]
    assert open_amount(db, seeded.item_ids["INV-3"]) == Decimal("5.00")


def test_put_on_account(db: Database, seeded: Seeded, client_for: Clients) -> None:
    post(client_for("reviewer"), f"/exceptions/{seeded.tx_unmatched}/on-account",
         {"customer_id": "C002", "reason": "customer will tell us"})
    assert tx_state(db, seeded.tx_unmatched) == "on_account"
    with db.session() as s:
        application = s.scalars(select(ApplicationRow)).one()
        assert [(line.kind, line.amount) for line in application.lines] == [
            ("unapplied", Decimal("300.0000"))]


def test_not_receivable_needs_a_reason(db: Database, seeded: Seeded,
                                       client_for: Clients) -> None:
    client = client_for("reviewer")
    before = state(db)
    missing = post(client, f"/exceptions/{seeded.tx_unmatched}/not-receivable", {"reason": ""})
    assert missing.status_code == 400  # type: ignore[attr-defined]
    assert "give a reason" in missing.get_data(as_text=True)  # type: ignore[attr-defined]
    assert state(db) == before
    post(client, f"/exceptions/{seeded.tx_unmatched}/not-receivable", {"reason": "tax refund"})
    assert tx_state(db, seeded.tx_unmatched) == "not_receivable"
    assert last_journal(db).action == "transaction.not_receivable"


def test_open_a_dispute(db: Database, seeded: Seeded, client_for: Clients) -> None:
    page = client_for("reviewer").get(f"/exceptions/{seeded.tx_unmatched}?customer=C002")
    assert "Open a dispute" in page.get_data(as_text=True)
    response = post(client_for("reviewer"), f"/exceptions/{seeded.tx_unmatched}/dispute",
                    {"dispute_item": [str(seeded.item_ids["INV-3"])], "reason_code": "pricing",
                     "note": "price list of 2025 applied"})
    assert response.status_code == 302, response.get_data(as_text=True)  # type: ignore[attr-defined]
    with db.session() as s:
        assert s.get(OpenItemRow, seeded.item_ids["INV-3"]).status == "disputed"  # type: ignore[union-attr]
    assert last_journal(db).action == "dispute.opened"


def test_reversal_four_eyes(db: Database, seeded: Seeded, client_for: Clients) -> None:
    approver = client_for("approver")
    post(approver, f"/queue/{seeded.proposal_exact}/accept")
    with db.session() as s:
        application_id = s.scalars(select(ApplicationRow.id)).one()
    before = state(db)
    own = post(approver, f"/applications/{application_id}/reverse", {"reason": "oops"})
    assert own.status_code == 403  # type: ignore[attr-defined]
    assert "four-eyes" in own.get_data(as_text=True)  # type: ignore[attr-defined]
    assert state(db) == before
    other = post(client_for("admin"), f"/applications/{application_id}/reverse",
                 {"reason": "wrong customer"})
    assert other.status_code == 302  # type: ignore[attr-defined]
    assert open_amount(db, seeded.item_ids["INV-1"]) == Decimal("1190.00")
    with db.session() as s:
        original = s.get(ApplicationRow, application_id)
        assert original is not None and original.reversed_by_id is not None
        assert s.scalar(select(func.count()).select_from(ApplicationRow)) == 2  # nothing deleted
    assert last_journal(db).action == "application.reversed"


def test_remove_learned_evidence(db: Database, seeded: Seeded, client_for: Clients) -> None:
    post(client_for("reviewer"), f"/exceptions/{seeded.tx_unmatched}/on-account",
         {"customer_id": "C002"})
    with db.session() as s:
        evidence = s.scalars(select(LearnedEvidenceRow).where(
            LearnedEvidenceRow.active.is_(True))).all()
    assert evidence, "a decision teaches the payer's IBAN"
    page = client_for("viewer").get("/customers/C002").get_data(as_text=True)
    assert evidence[0].value in page
    post(client_for("reviewer"), f"/evidence/{evidence[0].id}/remove", {"reason": "shared IBAN"})
    with db.session() as s:
        assert s.get(LearnedEvidenceRow, evidence[0].id).active is False  # type: ignore[union-attr]


def test_bulk_accept_of_a_filtered_set(db: Database, seeded: Seeded,
                                       client_for: Clients) -> None:
    client = client_for("reviewer")
    response = post(client, "/queue/bulk-accept", {"min_confidence": "0.85", "count": "10"})
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert tx_state(db, seeded.tx_exact) == "applied"
    assert tx_state(db, seeded.tx_short) == "suggested"  # 0.80: outside the filter
    unfiltered = post(client, "/queue/bulk-accept", {"count": "10"})
    assert unfiltered.status_code == 400  # type: ignore[attr-defined]


def test_bad_posts_change_nothing(db: Database, seeded: Seeded, client_for: Clients) -> None:
    client = client_for("reviewer")
    before = state(db)
    cases = [
        (f"/exceptions/{seeded.tx_unmatched}/match",
         {"item_id": [str(seeded.item_ids["INV-3"])], "amount": ["12,34.5"]}, 400,
         "not an amount"),
        (f"/exceptions/{seeded.tx_unmatched}/match",
         {"item_id": ["987654"], "amount": ["300.00"]}, 400, "no open item with id 987654"),
        (f"/exceptions/{seeded.tx_unmatched}/match",
         {"item_id": [str(seeded.item_ids["INV-3"])], "amount": ["299.00"]}, 400, "!= amount"),
        (f"/exceptions/{seeded.tx_unmatched}/match",
         {"item_id": [str(seeded.item_ids["INV-3"])], "amount": ["300.00"],
          "adj_kind": ["gift"], "adj_amount": ["1"]}, 400, "unknown adjustment kind"),
        (f"/exceptions/{seeded.tx_unmatched}/on-account", {"customer_id": ""}, 400,
         "name the customer"),
        ("/queue/987654/accept", {}, 404, "does not exist"),
        ("/exceptions/987654/not-receivable", {"reason": "x"}, 404, "does not exist"),
        ("/queue/bulk-accept", {"min_confidence": "2", "count": "1"}, 400, "between 0 and 1"),
    ]
    for url, form, status, text in cases:
        response = post(client, url, form)
        body = response.get_data(as_text=True)  # type: ignore[attr-defined]
        assert response.status_code == status, (url, form, body)  # type: ignore[attr-defined]
        assert text in body, (url, text)
        assert "Nothing was changed" in body
        assert state(db) == before, url


def test_accepting_twice_is_a_conflict(db: Database, seeded: Seeded,
                                       client_for: Clients) -> None:
    client = client_for("reviewer")
    post(client, f"/queue/{seeded.proposal_exact}/accept")
    again = post(client, f"/queue/{seeded.proposal_exact}/accept")
    assert again.status_code == 409  # type: ignore[attr-defined]


MT940 = b"""\
:20:STARTUMS
:25:37040044/0532013000
:28C:00001/001
:60F:C261120EUR1000,00
:61:2611201120C150,00NTRFNONREF//BANKREF1
:86:166?00GUTSCHRIFT?20INV-9 payment?32ACME TRADING
:62F:C261120EUR1150,00
-
"""


def test_upload_a_bank_file(db: Database, app: object, client_for: Clients) -> None:
    import io

    client = client_for("reviewer")
    first = post(client, "/statements/upload",
                 {"file": (io.BytesIO(MT940), "day.sta")}, content_type="multipart/form-data")
    assert first.status_code == 302  # type: ignore[attr-defined]
    page = client.get("/statements").get_data(as_text=True)
    assert "day.sta: imported (mt940), 1 new lines" in page
    assert "balanced" in page
    again = post(client, "/statements/upload",
                 {"file": (io.BytesIO(MT940), "day-again.sta")},
                 content_type="multipart/form-data")
    assert again.status_code == 302  # type: ignore[attr-defined]
    assert "duplicate" in client.get("/statements").get_data(as_text=True)
    empty = post(client, "/statements/upload", {}, content_type="multipart/form-data")
    assert empty.status_code == 400  # type: ignore[attr-defined]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TransactionRow)) == 1
