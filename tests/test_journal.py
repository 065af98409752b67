"""The journal's hash chain: appends verify, any edit or removal is detected."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import delete, select, text, update

from reconciler import journal
from reconciler.db.base import JSONText, serialize_json
from reconciler.db.journal import JournalRow
from reconciler.db.session import Database


def _write(db: Database, n: int) -> None:
    for i in range(n):
        with db.transaction() as s:
            journal.record(s, actor="user:alice", action="item.upserted", subject=f"item:{i}",
                           reason="test", data={"amount": "12.30", "i": i})


def test_chain_verifies(db: Database) -> None:
    _write(db, 5)
    with db.session() as s:
        report = journal.verify(s)
    assert report.ok and report.rows == 5


def test_edited_row_is_detected(db: Database) -> None:
    _write(db, 4)
    with db.transaction() as s:
        s.execute(update(JournalRow).where(JournalRow.seq == 2).values(reason="edited"))
    with db.session() as s:
        report = journal.verify(s)
    assert not report.ok
    assert any("seq 2" in p for p in report.problems)


def test_removed_rows_are_detected(db: Database) -> None:
    _write(db, 4)
    with db.transaction() as s:
        s.execute(delete(JournalRow).where(JournalRow.seq == 4))
    with db.session() as s:
        assert not journal.verify(s).ok
    with db.transaction() as s:
        s.execute(delete(JournalRow).where(JournalRow.seq == 2))
    with db.session() as s:
        assert any("missing" in p for p in journal.verify(s).problems)


def test_rolled_back_change_leaves_no_row(db: Database) -> None:
    try:
        with db.transaction() as s:
            journal.record(s, actor="system:test", action="x", subject="y")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with db.session() as s:
        assert journal.verify(s).rows == 0


def test_a_second_writer_waits_for_the_first_and_continues_its_chain(db: Database) -> None:
    """The head is locked from the read to the commit: a concurrent append cannot take the
    same sequence number (on SQLite too, where a SELECT alone would not lock anything)."""
    import threading

    first = db.session()
    first.begin()
    journal.record(first, actor="user:a", action="x", subject="s:1")
    appended = threading.Event()

    def second() -> None:
        with db.transaction() as s:
            journal.record(s, actor="user:b", action="x", subject="s:2")
        appended.set()

    thread = threading.Thread(target=second)
    thread.start()
    try:
        assert not appended.wait(0.5), "the second writer appended while the head was held"
        first.commit()
    finally:
        first.close()
        thread.join(timeout=30)
    assert appended.is_set()
    with db.session() as s:
        report = journal.verify(s)
        subjects = [r.subject for r in s.query(JournalRow).order_by(JournalRow.seq)]
    assert report.ok and report.rows == 2
    assert subjects == ["s:1", "s:2"]


def test_a_row_stores_the_canonical_text_its_hash_covers(db: Database) -> None:
    """The data is serialized once: the text hashed is the text stored (on SQLite byte for
    byte; PostgreSQL's JSON type keeps it as given too), and it reads back as the data."""
    data = {"amount": Decimal("12.30"), "on": dt.date(2026, 3, 1), "who": "Müller", "n": 3}
    with db.transaction() as s:
        journal.record(s, actor="user:alice", action="item.upserted", subject="item:1",
                       data=data)
    expected = '{"amount":"12.30","n":3,"on":"2026-03-01","who":"Müller"}'
    with db.session() as s:
        cast_text = "data::text" if db.is_postgres else "data"
        assert s.scalar(text(f"SELECT {cast_text} FROM journal")) == expected
        row = s.scalars(select(JournalRow)).one()
        assert row.data == {"amount": "12.30", "n": 3, "on": "2026-03-01", "who": "Müller"}
        assert journal.verify(s).ok


def test_other_json_columns_are_serialized_as_before() -> None:
    assert serialize_json({"b": [1, "x"], "a": None}) == '{"b": [1, "x"], "a": null}'
    assert serialize_json(JSONText('{"a":1}')) == '{"a":1}'
