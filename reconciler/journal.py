"""The audit journal service: append in the caller's transaction, verify the hash chain.

Each row's hash covers its own content and the previous row's hash, so changing, deleting or
re-ordering any row breaks every hash after it. Appends lock the single `journal_head` row,
so concurrent writers on PostgreSQL queue up instead of forking the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from reconciler.db.base import JSONText, utcnow
from reconciler.db.journal import JournalHeadRow, JournalRow
from reconciler.db.prepared import Prepared, holds_write_lock
from reconciler.domain import JournalEntry

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"journal data cannot hold {type(value).__name__}")


_CANONICAL = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}


def canonical_data(data: dict[str, Any]) -> dict[str, Any]:
    """The data as it will be stored (JSON round trip), so the hash is reproducible."""
    loaded: dict[str, Any] = json.loads(_canonical_text(data))
    return loaded


def _canonical_text(data: dict[str, Any]) -> str:
    """The data's canonical JSON text (sorted keys, no spaces): what the row stores and what
    its hash covers."""
    return json.dumps(data, default=_default, **_CANONICAL)  # type: ignore[arg-type]


def entry_hash(seq: int, at: dt.datetime, actor: str, action: str, subject: str, reason: str,
               data: dict[str, Any], prev_hash: str) -> str:
    return _hash(seq, at, actor, action, subject, reason, _canonical_text(data), prev_hash)


def _hash(seq: int, at: dt.datetime, actor: str, action: str, subject: str, reason: str,
          data_text: str, prev_hash: str) -> str:
    """SHA-256 of the canonical JSON array [seq, at, actor, action, subject, reason, data,
    prev_hash]; the data's canonical text is spliced in as it is (it is already canonical)."""
    head = json.dumps([seq, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), actor,
                       action, subject, reason], **_CANONICAL)  # type: ignore[arg-type]
    tail = json.dumps(prev_hash, ensure_ascii=False)
    return hashlib.sha256(f"{head[:-1]},{data_text},{tail}]".encode()).hexdigest()


def record(session: Session, *, actor: str, action: str, subject: str, reason: str = "",
           data: dict[str, Any] | None = None) -> int:
    """Append one journal row inside the caller's transaction; returns its sequence number.

    Written with plain column statements: the journal is on the hot path of every decision.
    """
    return record_many(session, [(actor, action, subject, reason, data)])


JournalLine = tuple[str, str, str, str, "dict[str, Any] | None"]  # actor, action, subject, ...


def record_many(session: Session, lines: list[JournalLine]) -> int:
    """Append several rows under one lock of the chain head; returns the last seq."""
    seq, previous = _lock_head(session)
    rows = []
    for actor, action, subject, reason, data in lines:
        text = _canonical_text(data or {})
        at = utcnow()
        seq += 1
        digest = _hash(seq, at, actor, action, subject, reason, text, previous)
        rows.append({"p_seq": seq, "p_at": at, "p_actor": actor, "p_action": action,
                     "p_subject": subject, "p_reason": reason, "p_data": JSONText(text),
                     "p_prev_hash": previous, "p_hash": digest})
        previous = digest
    if len(rows) == 1 and not _is_sqlite(session):
        # PostgreSQL: the row and the head's move in one statement. The head stays locked
        # until the commit and every other appender waits for it: one round trip less
        # inside that wait is one less for each of them.
        _APPEND_AND_MOVE.execute(session, rows[0])
    elif rows:
        _APPEND.execute_many(session, rows)
        _MOVE_HEAD.execute(session, {"p_seq": seq, "p_hash": previous})
    return seq


# Prepared once (`reconciler.db.prepared`): every decision appends through these.
_J = cast(Table, JournalRow.__table__)
_H = cast(Table, JournalHeadRow.__table__)
_APPEND = Prepared(insert(_J).values({column.name: bindparam(f"p_{column.name}")
                                      for column in _J.columns}))
_MOVE_HEAD = Prepared(update(_H).where(_H.c.id == 1).values(seq=bindparam("p_seq"),
                                                             hash=bindparam("p_hash")))
_APPEND_AND_MOVE = Prepared(  # WITH appended AS (INSERT INTO journal ...) UPDATE journal_head
    update(_H).where(_H.c.id == 1).values(seq=bindparam("p_seq"), hash=bindparam("p_hash"))
    .add_cte(insert(_J).values({column.name: bindparam(f"p_{column.name}")
                                for column in _J.columns}).cte("appended")))
# PostgreSQL locks the head row. SQLite has no row locks and does not begin a transaction
# for a SELECT: there the head is read by a no-op UPDATE, which takes the database's write
# lock first, so no other writer can append between our read and our commit.
# A transaction that already writes holds SQLite's lock: a plain read will do.
_READ_HEAD = {
    "postgresql": Prepared(select(_H.c.seq, _H.c.hash).where(_H.c.id == 1).with_for_update()),
    "sqlite": Prepared(update(_H).where(_H.c.id == 1).values(seq=_H.c.seq)
                       .returning(_H.c.seq, _H.c.hash)),
    "sqlite-locked": Prepared(select(_H.c.seq, _H.c.hash).where(_H.c.id == 1)),
}


def _lock_head(session: Session) -> tuple[int, str]:
    """Lock the chain head (SELECT ... FOR UPDATE) and return (seq, hash).

    `recon init` creates the head; should it be missing (a truncated test database), it is
    created with INSERT ... ON CONFLICT DO NOTHING so that two first writers cannot collide.
    """
    session.flush()  # the caller's pending changes come first, as in any ORM query
    if not _is_sqlite(session):
        read_head = _READ_HEAD["postgresql"]
    else:
        read_head = _READ_HEAD["sqlite-locked" if holds_write_lock(session) else "sqlite"]
    found = read_head.execute(session)
    if not found:
        session.execute(_insert_head(session))
        found = read_head.execute(session)
    [(seq, digest)] = found
    return int(seq), str(digest)


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _insert_head(session: Session) -> Any:
    values = {"id": 1, "seq": 0, "hash": GENESIS}
    if _is_sqlite(session):
        return sqlite_insert(JournalHeadRow).values(values).on_conflict_do_nothing()
    return pg_insert(JournalHeadRow).values(values).on_conflict_do_nothing()


@dataclass(frozen=True, slots=True)
class VerifyReport:
    rows: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, *, batch: int = 5000) -> VerifyReport:
    """Walk the chain in order and report the first break of each kind."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    count = 0
    for row in _rows(session, batch):
        count += 1
        if row.seq != expected_seq:
            problems.append(f"seq {expected_seq}: missing (next row is seq {row.seq})")
        if row.prev_hash != prev:
            problems.append(f"seq {row.seq}: prev_hash does not match the row before")
        digest = entry_hash(row.seq, row.at, row.actor, row.action, row.subject, row.reason,
                            row.data, row.prev_hash)
        if digest != row.hash:
            problems.append(f"seq {row.seq}: content altered (hash mismatch)")
        prev, expected_seq = row.hash, row.seq + 1
        if len(problems) >= 20:
            break
    head = session.get(JournalHeadRow, 1)
    if head is not None and not problems and (head.seq != count or head.hash != prev):
        problems.append(f"head names seq {head.seq} but the chain ends at seq {count}: "
                        "rows were removed from the end")
    return VerifyReport(rows=count, problems=tuple(problems))


def _rows(session: Session, batch: int) -> Iterator[JournalRow]:
    last = 0
    while True:
        rows = session.scalars(
            select(JournalRow).where(JournalRow.seq > last).order_by(JournalRow.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def to_entry(row: JournalRow) -> JournalEntry:
    return JournalEntry(seq=row.seq, at=row.at, actor=row.actor, action=row.action,
                        subject=row.subject, reason=row.reason, data=dict(row.data),
                        prev_hash=row.prev_hash, hash=row.hash)
