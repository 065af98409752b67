"""Every page renders the data a reviewer needs: amounts with currency, ISO dates,
differences highlighted, explanations, history."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from reconciler.db.session import Database
from tests.web.conftest import post
from tests.web.seed import Seeded

Clients = Callable[[str], FlaskClient]


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_queue_shows_ranked_suggestions(seeded: Seeded, client_for: Clients) -> None:
    html = page(client_for("reviewer"), "/queue")
    assert html.index("1,190.00 EUR") < html.index("495.00 EUR")  # 0.91 before 0.80
    assert "reference INV-1 found in the remittance text" in html
    assert "1 alternative" in html and "INV-2" in html
    assert "2026-11-20" in html  # ISO value date
    assert 'class="num diff"' in html  # 495.00 against 500.00 open: highlighted
    assert "3 pending suggestions" in html


def test_queue_filters_and_pages(seeded: Seeded, client_for: Clients) -> None:
    client = client_for("viewer")
    filtered = page(client, "/queue?customer=C002")
    assert "495.00 EUR" in filtered and "1,190.00 EUR" not in filtered
    first = page(client, "/queue?min_confidence=0.5")
    assert "Bulk accept" not in first  # a viewer cannot decide
    bad = client.get("/queue?min_confidence=abc")
    assert bad.status_code == 400 and "not a number" in bad.get_data(as_text=True)


def test_queue_keyset_pages(db: Database, seeded: Seeded, client_for: Clients) -> None:
    from web.queries.queue import QueueFilter, load_queue

    with db.session() as s:
        first = load_queue(s, QueueFilter(), size=1)
        assert first.next_cursor is not None
        second = load_queue(s, QueueFilter(), first.next_cursor, size=1)
        assert second.next_cursor is None
    assert first.entries[0].proposal.id == seeded.proposal_exact
    assert second.entries[0].proposal.id == seeded.proposal_short
    html = page(client_for("viewer"), f"/queue?after={first.next_cursor}")
    assert "495.00 EUR" in html and "1,190.00 EUR" not in html


def test_queue_promotes_the_alternative_after_a_rejection(seeded: Seeded,
                                                          client_for: Clients) -> None:
    client = client_for("reviewer")
    post(client, f"/queue/{seeded.proposal_exact}/reject", {"reason": "no"})
    html = page(client, "/queue")
    assert "INV-2" in html and "1,190.00 EUR" in html


def test_proposal_edit_page(seeded: Seeded, client_for: Clients) -> None:
    html = page(client_for("reviewer"), f"/queue/{seeded.proposal_short}")
    assert 'name="amount" value="495.00' in html
    assert "bank charge" in html and "write off" in html
    assert client_for("viewer").get("/queue/987654").status_code == 404


def test_exceptions_and_match_page(seeded: Seeded, client_for: Clients) -> None:
    client = client_for("reviewer")
    html = page(client, "/exceptions")
    assert "UNKNOWN PAYER" in html and "300.00 EUR" in html
    assert "UNKNOWN PAYER" in page(client, "/exceptions?q=unknown")
    assert "UNKNOWN PAYER" not in page(client, "/exceptions?amount=301")
    match = page(client, f"/exceptions/{seeded.tx_unmatched}?customer=Beta")
    assert "INV-3" in match and "INV-4" in match and "INV-1" not in match
    assert "Put on account" in match and "Not receivables" in match
    by_amount = page(client, f"/exceptions/{seeded.tx_unmatched}?amount=250.00")
    assert "INV-4" in by_amount and "INV-3" not in by_amount
    bad = client.get(f"/exceptions/{seeded.tx_unmatched}?due_from=20-11-2026")
    assert bad.status_code == 400 and "ISO date" in bad.get_data(as_text=True)


def test_transaction_page(seeded: Seeded, client_for: Clients) -> None:
    client = client_for("reviewer")
    post(client, f"/queue/{seeded.proposal_exact}/accept")
    html = page(client, f"/transactions/{seeded.tx_exact}")
    for text in ("counterparty_iban", "DE02100100100006820101", "details.gvc", ":61:1 raw line",
                 "stmt-2026-11-20.xml", "application.created", "user:rita", "superseded"):
        assert text in html, text


def test_customer_page_ages_open_items(seeded: Seeded, client_for: Clients) -> None:
    html = page(client_for("viewer"), "/customers/C002")
    assert "Beta Logistics SARL" in html
    assert "40 days" in html or "days" in html
    assert "31-60" in html and "500.00 EUR" in html
    assert "FR7630006000011234567890189" in html
    assert client_for("viewer").get("/customers/NOPE").status_code == 404
    assert "ACME" in page(client_for("viewer"), "/customers?q=acme")


def test_item_and_application_pages(seeded: Seeded, client_for: Clients) -> None:
    client = client_for("approver")
    post(client, f"/exceptions/{seeded.tx_unmatched}/match",
         {"item_id": [str(seeded.item_ids["INV-4"])], "amount": ["250.00"],
          "adj_kind": ["unapplied"], "adj_amount": ["50.00"], "adj_reason": ["overpaid"]})
    item = page(client, f"/items/{seeded.item_ids['INV-4']}")
    assert "250.00 EUR" in item and "user:arno" in item
    app_html = page(client, "/applications/1")
    assert "unapplied" in app_html and "Reverse application" in app_html
    viewer_html = page(client_for("reviewer"), "/applications/1")
    assert "Reverse application" not in viewer_html


def test_statements_audit_and_dashboard(seeded: Seeded, client_for: Clients) -> None:
    client = client_for("reviewer")
    post(client, f"/queue/{seeded.proposal_exact}/accept")
    statements = page(client, "/statements")
    assert "DE89370400440532013000" in statements and "balanced" in statements
    audit = page(client, "/audit?actor=user:rita&action=application")
    assert "application.created" in audit and "user.login" not in audit
    assert "application.created" not in page(client, "/audit?date_to=2000-01-01")
    dashboard = page(client, "/")
    assert "Where cash stands" in dashboard and "<svg" in dashboard
    assert "0.0 %" in dashboard  # one application, made by a person: nothing automatic
    assert "1,940.00 EUR" in dashboard  # still open: INV-2, INV-3, INV-4


def test_users_page_issues_tokens(seeded: Seeded, client_for: Clients) -> None:
    client = client_for("admin")
    assert "rita" in page(client, "/users")
    response = post(client, "/users/rita/token", {"label": "erp"})
    assert "recon_" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    added = post(client, "/users", {"name": "nina", "role": "viewer", "password": "x" * 12})
    assert added.status_code == 302  # type: ignore[attr-defined]
    short = post(client, "/users", {"name": "nino", "role": "viewer", "password": "short"})
    assert short.status_code == 400  # type: ignore[attr-defined]
    post(client, "/users/nina/disable")
    assert "disabled" in page(client, "/users")


def test_queue_count_is_capped(db: Database, seeded: Seeded) -> None:
    from web.queries.queue import count_pending

    with db.session() as s:
        assert count_pending(s) == 3
        assert count_pending(s, cap=1) == 2  # stops counting after cap + 1 rows
        assert count_pending(s, cap=5) == 3


def test_customer_page_shows_the_dunning_stage(db: Database, seeded: Seeded,
                                               client_for: Clients) -> None:
    from reconciler.db.collections import ItemDunningRow

    assert "not dunned" in page(client_for("viewer"), "/customers/C002")
    with db.transaction() as s:
        s.add(ItemDunningRow(item_id=seeded.item_ids["INV-3"], level=2, stage="second_reminder"))
    html = page(client_for("viewer"), "/customers/C002")
    assert "second_reminder (level 2)" in html and "500.00 EUR" in html


def test_keyset_walk_sees_every_head_once(db: Database, seeded: Seeded) -> None:
    """Many lines with equal confidences and alternatives: paging by (confidence, id) yields
    each transaction's best pending proposal exactly once, best first."""
    from sqlalchemy import insert, select

    from reconciler.db.bank import TransactionRow
    from reconciler.db.matching import ProposalRow
    from reconciler.money import money
    from web.queries.queue import QueueFilter, load_queue

    with db.transaction() as s:
        for n in range(120):
            tx = TransactionRow(statement_id=seeded.statement_id, position=100 + n,
                                account="DE89370400440532013000", amount=money("10.00"),
                                currency="EUR", bank_reference=f"K{n}", state="suggested",
                                details={})
            s.add(tx)
            s.flush()
            confidence = [0.5, 0.7, 0.9][n % 3]  # many ties
            ranks = 3 if n % 4 == 0 else 1
            s.execute(insert(ProposalRow), [
                {"transaction_id": tx.id, "run_id": 1, "rank": r, "matcher": "fuzzy_name",
                 "customer_id": "C001", "confidence": confidence / r, "decision": "suggest",
                 "allocations": [{"entity": "MAIN", "document_number": "INV-2",
                                  "amount": "10.00"}], "adjustments": [], "evidence": [],
                 "explanation": "", "state": "rejected" if (r == 1 and n % 8 == 0)
                 else "pending"} for r in range(1, ranks + 1)])
    with db.session() as s:
        seen: list[int] = []
        after = None
        while True:
            page = load_queue(s, QueueFilter(matcher="fuzzy_name"), after, size=7)
            seen += [e.proposal.id for e in page.entries]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        pending = s.execute(select(ProposalRow.id, ProposalRow.transaction_id,
                                   ProposalRow.rank, ProposalRow.confidence)
                            .where(ProposalRow.state == "pending",
                                   ProposalRow.matcher == "fuzzy_name")).all()
    best: dict[int, tuple[int, float, int]] = {}
    for ident, tx_id, rank, confidence in pending:
        if tx_id not in best or rank < best[tx_id][0]:
            best[tx_id] = (rank, confidence, ident)
    expected = [ident for _, confidence, ident in
                sorted(best.values(), key=lambda v: (-v[1], -v[2]))]
    assert seen == expected
    assert len(seen) == 120
