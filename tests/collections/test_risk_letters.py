"""Customer risk ordering, letters in four languages, SMTP delivery to a real server."""

from __future__ import annotations

import datetime as dt
import socket
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from reconciler import letters, mailer, risk
from reconciler.db.collections import EmailOutboxRow
from reconciler.db.session import Database
from reconciler.dunning import run_dunning
from reconciler.risk import RiskInput, Settlement
from reconciler.settings import DunningSettings, Settings
from tests.collections import builders as b

D = Decimal
DAY = dt.date(2026, 11, 20)


def _history(days_late: list[int]) -> tuple[Settlement, ...]:
    start = dt.date(2026, 1, 1)
    return tuple(Settlement(start + dt.timedelta(days=30 * n),
                            start + dt.timedelta(days=30 * n + late), D("100"))
                 for n, late in enumerate(days_late))


def test_risk_orders_a_crafted_portfolio() -> None:
    punctual = risk.score(RiskInput(_history([0, -2, 1, 0, 0, 0]), 0, 0, D("1000"), D("50000"),
                                    D("0")))
    slipping = risk.score(RiskInput(_history([0, 0, 0, 20, 25, 30]), 0, 0, D("1000"),
                                    D("50000"), D("200")))
    troubled = risk.score(RiskInput(_history([30, 35, 40]), 2, 1, D("60000"), D("50000"),
                                    D("40000")))
    assert punctual.score < slipping.score < troubled.score
    assert punctual.risk_class == "A" and troubled.risk_class == "D"
    assert any("later than before" in r for r in slipping.reasons)
    assert any("broken promise" in r for r in troubled.reasons)
    assert any("credit limit" in r for r in troubled.reasons)
    # A habitual 20-day payer is predicted to pay 20 days after the due date.
    late = risk.score(RiskInput(_history([20, 20, 20]), 0, 0, D("0"), None, D("0")))
    assert risk.predicted_payment_date(DAY, late) == DAY + dt.timedelta(days=20)


@pytest.mark.parametrize(("language", "words"), [
    ("en", ("overdue", "Total due", "quoting the reference")),
    ("de", ("überfällig", "Gesamtbetrag", "1.234,50 EUR")),
    ("fr", ("échu", "Total dû", "1\u202f234,50 EUR")),
    ("nl", ("vervallen", "Totaal verschuldigd", "1.234,50 EUR")),
])
def test_letters_in_four_languages(language: str, words: tuple[str, ...]) -> None:
    letter = letters.render(
        stage="reminder1", language=language, customer_name="Acme", customer_id="C1",
        lines=[letters.LetterLine("INV-7", dt.date(2026, 10, 1), 50, D("1234.50"))],
        currency="EUR", our_iban="DE89370400440532013000", payment_reference="RF18539007547034")
    for word in (*words, "INV-7", "RF18539007547034", "DE89370400440532013000", "2026-10-01"):
        assert word in letter.subject + letter.body


def test_language_follows_customer_then_country() -> None:
    assert letters.language_for("nl-BE", "BE") == "nl"
    assert letters.language_for(None, "AT") == "de"
    assert letters.language_for(None, "JP") == "en"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_reminder_emails_reach_a_real_smtp_server(db: Database) -> None:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = Settings(dunning=DunningSettings(smtp_host="127.0.0.1", smtp_port=port,
                                                    email_from="ar@us.example",
                                                    creditor_iban="DE89370400440532013000"))
        with db.transaction() as s:
            b.customer(s, "C1", email="ap@c1.example", country="NL")
            b.item(s, "INV-1", "C1", "250.00", due=DAY - dt.timedelta(days=6))
        run_dunning(db, settings, DAY)
        result = mailer.deliver_emails(db, settings.dunning)
        assert (result.sent, result.failed) == (1, 0)
        again = mailer.deliver_emails(db, settings.dunning)
        assert (again.sent, again.failed) == (0, 0)  # sent once, never twice
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    sender, recipients, content = inbox.messages[0]
    assert sender == "ar@us.example" and recipients == ["ap@c1.example"]
    assert b"INV-1" in content and b"Betalingsherinnering" in content
    with db.session() as s:
        row = s.scalars(select(EmailOutboxRow)).one()
        assert row.status == "sent" and row.sent_at is not None


def test_unreachable_smtp_keeps_the_email_pending(db: Database) -> None:
    settings = Settings(dunning=DunningSettings(smtp_host="127.0.0.1", smtp_port=_free_port()))
    with db.transaction() as s:
        b.customer(s, "C1", email="ap@c1.example")
        b.item(s, "INV-1", "C1", "250.00", due=DAY - dt.timedelta(days=6))
    run_dunning(db, settings, DAY)
    assert mailer.deliver_emails(db, settings.dunning).failed == 1
    with db.session() as s:
        row = s.scalars(select(EmailOutboxRow)).one()
        assert row.status == "pending" and row.attempts == 1 and row.last_error
