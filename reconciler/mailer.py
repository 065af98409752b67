"""Email outbox delivery over SMTP: each message sent once, failures retried on the next run.

A message is marked sent only after the SMTP server accepted it; a crash between the two can
at worst send one reminder twice, never lose one (the safer side for a reminder).
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from reconciler.db.base import utcnow
from reconciler.db.collections import EmailOutboxRow
from reconciler.db.session import Database
from reconciler.settings import DunningSettings

MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int
    failed: int


def deliver_emails(db: Database, settings: DunningSettings, *, limit: int = 500) -> DeliveryReport:
    with db.session() as session:
        pending = session.scalars(select(EmailOutboxRow.id).where(
            EmailOutboxRow.status == "pending", EmailOutboxRow.attempts < MAX_ATTEMPTS)
            .order_by(EmailOutboxRow.id).limit(limit)).all()
    if not pending:
        return DeliveryReport(0, 0)
    sent = failed = 0
    try:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    except OSError as exc:
        _fail_all(db, pending, f"cannot connect to {settings.smtp_host}:{settings.smtp_port}: "
                  f"{exc}")
        return DeliveryReport(0, len(pending))
    with smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password is not None:
            smtp.login(settings.smtp_username, settings.smtp_password.reveal())
        for message_id in pending:
            with db.transaction() as session:
                row = session.get(EmailOutboxRow, message_id, with_for_update=True)
                if row is None or row.status != "pending":
                    continue  # another worker took it
                message = EmailMessage()
                message["From"] = settings.email_from
                message["To"] = row.recipient
                message["Subject"] = row.subject
                message["Message-ID"] = row.message_id or make_msgid(domain="recon.local")
                message.set_content(row.body)
                row.attempts += 1
                try:
                    smtp.send_message(message)
                except smtplib.SMTPException as exc:
                    row.last_error = str(exc)[:500]
                    if row.attempts >= MAX_ATTEMPTS:
                        row.status = "failed"
                    failed += 1
                    continue
                row.status, row.sent_at = "sent", utcnow()
                row.message_id = message["Message-ID"]
                sent += 1
    return DeliveryReport(sent, failed)


def _fail_all(db: Database, ids: Sequence[int], error: str) -> None:
    with db.transaction() as session:
        for row in session.scalars(select(EmailOutboxRow).where(EmailOutboxRow.id.in_(ids))):
            row.attempts += 1
            row.last_error = error[:500]
