"""`open_items.csv` -> open items (upsert by entity + document_number).

Columns (DESIGN.md): entity (empty: the configured default entity), document_number,
document_type (invoice | credit_note), customer_id, currency (ISO 4217), amount (credit notes
negative), open_amount, issue_date, due_date, payment_reference, discount_rate (a fraction),
discount_due_date.

How the open amount is kept (the ERP and this server both settle items):
  `erp_open_amount` is what the ERP last said is open. `open_amount` = `erp_open_amount`
  minus the live application lines of kind item/discount made here on that item. For now every
  live application line counts as not yet known to the ERP; once the outbox records which
  cash entries the ERP acknowledged, acknowledged lines must stop being subtracted. A result
  that would cross zero (the ERP evidently knew some of them already) is held at zero and
  reported as a warning. An item whose open amount is zero is closed; one that reappears with
  an open amount is open again; a disputed item stays disputed while it is open.
  `--full` (`full=True`): the file is the complete list of open items of the entities it
  names, so items of those entities that are missing from it are closed (settled in the ERP).

Speed: a million rows stream through in one pass; existing keys are loaded into a dict first,
and inserts and updates go to the database as Core executemany batches. Rows are written as
they are read until the first bad row; after that only validation continues, and the
transaction is rolled back, so a rejected file writes nothing. A large file is read and
classified in a forked child while this process writes the batches it sends, inside the same
transaction (`_read_in_child`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, Index, Table, func, literal_column, select, table
from sqlalchemy.orm import Session

from reconciler.db.base import utcnow
from reconciler.db.ledger import CustomerRow, OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow
from reconciler.db.session import Database
from reconciler.errors import ImportRejectedError
from reconciler.forked import ForkedFeed, can_fork
from reconciler.heap import collector_paused
from reconciler.masterdata.bulk import (
    BulkInsert,
    BulkUpdate,
    deliver,
    write_from_child,
)
from reconciler.masterdata.csvfile import (
    CsvSource,
    CsvSpec,
    FileFacts,
    RowReader,
    open_intake,
)
from reconciler.masterdata.item_rows import PlainItemReader, read_item
from reconciler.masterdata.summary import ImportSummary, Tally, record_import
from reconciler.money import ZERO
from reconciler.progress import Progress

SPEC = CsvSpec(
    kind="open items",
    required=("document_number", "document_type", "customer_id", "currency", "amount",
              "open_amount", "issue_date", "due_date"),
    optional=("entity", "payment_reference", "discount_rate", "discount_due_date"),
)
# Stored fields compared to decide "updated" vs "unchanged", in this order.
_FIELDS = ("document_type", "customer_id", "currency", "amount", "erp_open_amount",
           "open_amount", "issue_date", "due_date", "payment_reference", "discount_rate",
           "discount_due_date", "status")
_OPTIONAL_AT = {"payment_reference": 8, "discount_rate": 9, "discount_due_date": 10}
_STATUS = 11
_PICK_FIELDS = itemgetter(*_FIELDS)
_ITEMS = cast(Table, OpenItemRow.__table__)
_BATCH = 5000
# Expected new rows from which the secondary indexes are rebuilt rather than kept up to date.
_REBUILD_FROM = 50_000
_UNKNOWN_SHOWN = 10
# Lines from which a forked child reads the file while this process writes: below, the fork
# costs more than it saves.
_READ_IN_CHILD_FROM = 20_000

Key = tuple[str, str]


def import_open_items(db: Database, source: CsvSource, *, full: bool = False,
                      default_entity: str = "MAIN", filename: str | None = None,
                      actor: str = "system:import",
                      progress: Progress | None = None) -> ImportSummary:
    """Upsert open items from `source`; all or nothing (`ImportRejectedError`)."""
    intake = open_intake(source, filename, SPEC, progress)
    name, facts, reader = intake.name, intake.facts, intake.reader
    problems, warnings = intake.problems, intake.warnings
    with collector_paused(), db.transaction() as session:
        conn = session.connection()
        with _big_page_cache(conn):
            summary = _import(conn, session, reader, name, facts, full, default_entity,
                              actor, progress, problems, warnings)
    return summary


def _import(conn: Connection, session: Session, reader: RowReader, name: str, facts: FileFacts,
            full: bool, default_entity: str, actor: str, progress: Progress | None,
            problems: list[str], warnings: list[str]) -> ImportSummary:
    run = _Run(conn, name, default_entity, problems, warnings)
    new_rows = facts.lines - len(run.existing)
    rebuild = (_drop_secondary_indexes(conn)
               if new_rows >= _REBUILD_FROM and new_rows >= len(run.existing) else [])
    if facts.lines >= _READ_IN_CHILD_FROM and can_fork():
        _read_in_child(run, reader, full, progress)
    else:
        _read(run, reader, full, progress)
    if problems:
        raise ImportRejectedError(f"{len(problems)} problem(s); nothing was imported",
                                  problems, where=name)
    for index in rebuild:
        index.create(conn)
    run.report_unknown_customers()
    summary = run.tally.summary("open_items", name, facts.sha256, warnings)
    record_import(session, summary, run.tally, actor=actor,
                  extra={"full": full, "entities": sorted(run.entities)})
    return summary


def _read(run: _Run, reader: RowReader, full: bool, progress: Progress | None) -> None:
    """Read, check and classify every row, writing (or handing over) the batches; a file with
    a problem is read to its end for the list of problems, and nothing more is written."""
    for line, values in reader:
        run.take(reader, line, values)
        if progress and run.tally.rows % 1000 == 0:
            progress.advance(1000)
    if progress:
        progress.advance(run.tally.rows % 1000)
        progress.close()
    if run.problems:
        return
    run.flush()
    if full:
        run.close_missing()


def _read_in_child(run: _Run, reader: RowReader, full: bool,
                   progress: Progress | None) -> None:
    """`_read` in a forked child while this process writes what it sends, in its order.

    Reading and classifying a row costs about as much as writing it, so the two cores share
    the work. The child gets the stored keys by inheritance, converts each batch to the
    driver's parameters (plain strings and numbers, cheap to pickle) and never touches the
    database: the writes, and so the transaction, stay here. Its outcome (counts, problems,
    warnings) comes last; a child that ends without one fails the import, rolled back."""
    feed = ForkedFeed(_read_for_parent, run, reader, full, progress, name="read open items")
    write_from_child(feed, run.filename,
                     {"inserts": run.insert_prepared, "updates": run.execute_updates},
                     run.adopt)


def _read_for_parent(send: Callable[[tuple[Any, ...]], None], run: _Run, reader: RowReader,
                     full: bool, progress: Progress | None) -> None:
    run.sink = send
    try:
        _read(run, reader, full, progress)
    except ImportRejectedError as exc:  # sent by its parts: its constructor takes keywords
        send(("rejected", exc.message, exc.problems, exc.where))
        return
    send(("done", run.tally, run.problems, run.warnings, run.unknown_customers,
          run.entities))


@contextmanager
def _big_page_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a 256 MB page cache keeps the indexes of open_items in memory during a
    million-row import (the default 2 MB re-reads index pages constantly); the pooled
    connection gets its old size back afterwards."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size=-262144")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")


def _drop_secondary_indexes(conn: Connection) -> list[Index]:
    """SQLite, a large import into a table that has fewer rows than the file: drop the
    non-unique indexes of open_items and return them, to be built again at the end.

    Six indexes updated row by row cost more than the rows themselves (each insert touches
    seven B-trees in random order); building an index afterwards sorts once. The drop and
    the rebuild are in the import's transaction, so a rejected or interrupted import rolls
    both back. Not on PostgreSQL: DROP INDEX locks out every reader until the commit, and COPY
    keeps the indexes cheap there anyway. The unique key stays: it is what refuses duplicates.
    """
    if conn.dialect.name != "sqlite":
        return []
    in_database: set[str] = set(conn.execute(
        select(literal_column("name")).select_from(table("sqlite_master"))
        .where(literal_column("type") == "index",
               literal_column("tbl_name") == _ITEMS.name)).scalars())
    secondary = [index for index in sorted(_ITEMS.indexes, key=lambda i: str(i.name))
                 if not index.unique and index.name in in_database]
    if not secondary:
        return []
    driver_connection = conn.connection.driver_connection
    if driver_connection is not None and not driver_connection.in_transaction:
        # The DB-API module opens its transaction only before a data change; without this
        # the DROP would commit on its own and outlive a rejected file.
        conn.exec_driver_sql("BEGIN")
    for index in secondary:
        index.drop(conn)
    return secondary


class _Run:
    """The state of one import: existing rows, keys seen, batches waiting to be written."""

    def __init__(self, conn: Connection, filename: str, default_entity: str,
                 problems: list[str], warnings: list[str]) -> None:
        self.conn, self.filename, self.default_entity = conn, filename, default_entity
        self.problems, self.warnings = problems, warnings
        self.tally = Tally()
        self.now = utcnow()
        self.existing = _load_existing(conn)
        self.applied = _applied_here(conn)
        self.customers = set(conn.execute(select(CustomerRow.__table__.c.customer_id))
                             .scalars())
        self.unknown_customers: dict[str, int] = {}
        self.seen: dict[Key, int] = {}
        self.entities: set[str] = set()
        self.inserts: list[dict[str, Any]] = []
        # Updates grouped by the fields they change: an UPDATE that sets only those fields
        # leaves the other indexes of open_items alone (SQLite rewrites the index entries of
        # every column named in SET, changed or not).
        self.updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._update_statements: dict[tuple[str, ...], BulkUpdate] = {}
        self.columns: dict[str, int | None] = {}
        self.present: tuple[tuple[str, int], ...] = ()  # (column, position) in this file
        self.plain = PlainItemReader({}, 0, default_entity)  # replaced at the first row
        stored = ("entity", "document_number", *_FIELDS, "updated_at")
        self._insert = BulkInsert(conn, _ITEMS, stored)
        # Where the batches go when a child reads the file (see `_read_in_child`).
        self.sink: Callable[[tuple[Any, ...]], None] | None = None

    # --- one row ---------------------------------------------------------------------

    def take(self, reader: RowReader, line: int, values: list[str]) -> None:
        if not self.columns:
            self.columns = {c: reader.index(c) for c in (*SPEC.required, *SPEC.optional)}
            self.present = tuple((c, i) for c, i in self.columns.items() if i is not None)
            self.plain = PlainItemReader(self.columns, reader.width, self.default_entity)
        self.tally.rows += 1
        errors: list[tuple[str, str, str]] = []
        item = self.plain.read(values)
        if item is None:
            item = read_item(self.present, values, self.default_entity, errors)
        if item is not None:
            key: Key = (item["entity"], item["document_number"])
            first = self.seen.setdefault(key, line)
            if first != line:
                errors.append(("document_number", item["document_number"],
                               f"entity {key[0]} document appears twice (first at line {first})"))
        if errors:
            self.problems.extend(f"{self.filename} line {line}, column {column}: {message} "
                                 f"(value {value!r})" for column, value, message in errors)
            return
        assert item is not None  # no errors means the row was read
        if item["customer_id"] not in self.customers:
            self.unknown_customers.setdefault(item["customer_id"], line)
        self.entities.add(item["entity"])
        if not self.problems:  # after the first bad row nothing more is written
            self._classify(key, item, line)

    def _classify(self, key: Key, item: dict[str, Any], line: int) -> None:
        known = self.existing.get(key)
        applied = ZERO
        stored: tuple[Any, ...] = ()
        if known is not None:
            item_id, stored = known[0], known[1:]
            applied = self.applied.get(item_id, ZERO)
            for column, position in _OPTIONAL_AT.items():
                if self.columns[column] is None:  # column not in this file: keep the value
                    item[column] = stored[position]
        erp_open: Decimal = item["erp_open_amount"]
        open_amount = erp_open
        if applied:  # nothing applied here (every new item): the ERP's figure stands
            open_amount = erp_open - applied
            if (erp_open >= ZERO > open_amount) or (erp_open <= ZERO < open_amount):
                self.warnings.append(
                    f"{self.filename} line {line}: {key[0]}/{key[1]}: ERP open amount "
                    f"{erp_open} minus {applied} applied here would cross zero; held at 0 "
                    "(the ERP probably knows these applications already)")
                open_amount = ZERO
        item["open_amount"] = open_amount
        if open_amount == ZERO:
            item["status"] = "closed"
        elif known is not None and stored[_STATUS] == "disputed":
            item["status"] = "disputed"  # a dispute is resolved by people, not by an import
        else:
            item["status"] = "open"
        if known is None:
            item["updated_at"] = self.now
            self.inserts.append(item)
            self.tally.add("inserted", key)
            if len(self.inserts) >= _BATCH:
                self._write_inserts()
            return
        wanted = _PICK_FIELDS(item)
        if wanted == stored:
            self.tally.unchanged += 1
            return
        if item["status"] == "closed" and stored[_STATUS] != "closed":
            self.tally.add("closed", key)
        else:
            self.tally.add("updated", key)
        changed = tuple(f for f, new, old in zip(_FIELDS, wanted, stored, strict=True)
                        if new != old)
        self._queue_update(changed, {f: item[f] for f in changed}, known[0])

    def _queue_update(self, changed: tuple[str, ...], values: dict[str, Any],
                      item_id: int) -> None:
        batch = self.updates.setdefault(changed, [])
        batch.append({**values, "b_id": item_id, "updated_at": self.now})
        if len(batch) >= _BATCH:
            self._write_updates(changed)

    # --- writing -----------------------------------------------------------------------

    def _write_inserts(self) -> None:
        prepared = self._insert.prepare(self.inserts)
        self.inserts = []
        deliver(self.sink, "inserts", self.insert_prepared, prepared)

    def _write_updates(self, changed: tuple[str, ...]) -> None:
        deliver(self.sink, "updates", self.execute_updates, changed, self.updates.pop(changed))

    def insert_prepared(self, prepared: list[Any]) -> None:
        self._insert.execute_prepared(prepared)

    def execute_updates(self, changed: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
        statement = self._update_statements.get(changed)
        if statement is None:
            statement = self._update_statements[changed] = BulkUpdate(self.conn, _ITEMS,
                                                                      changed)
        statement.execute(rows)

    def adopt(self, tally: Tally, problems: list[str], warnings: list[str],
              unknown_customers: dict[str, int], entities: set[str]) -> None:
        """Take over what the child that read the file found (the lists stay the ones the
        caller holds)."""
        self.tally, self.unknown_customers, self.entities = tally, unknown_customers, entities
        self.problems[:] = problems
        self.warnings[:] = warnings

    def flush(self) -> None:
        if self.inserts:
            self._write_inserts()
        for changed in list(self.updates):
            self._write_updates(changed)

    def close_missing(self) -> None:
        """Full export: an open item of a named entity that the ERP no longer lists is settled."""
        changed = ("erp_open_amount", "open_amount", "status")
        for key, known in self.existing.items():
            if key in self.seen or key[0] not in self.entities or known[1 + _STATUS] == "closed":
                continue
            self._queue_update(changed, {"erp_open_amount": ZERO, "open_amount": ZERO,
                                         "status": "closed"}, known[0])
            self.tally.add("closed", key)
        self.flush()

    def report_unknown_customers(self) -> None:
        if not self.unknown_customers:
            return
        shown = ", ".join(f"{c} (line {n})" for c, n in
                          list(self.unknown_customers.items())[:_UNKNOWN_SHOWN])
        more = len(self.unknown_customers) - _UNKNOWN_SHOWN
        self.warnings.append(
            f"{self.filename}: {len(self.unknown_customers)} customer id(s) not in the customer "
            f"master: {shown}{f' and {more} more' if more > 0 else ''}")


def _load_existing(conn: Connection) -> dict[Key, tuple[Any, ...]]:
    columns = [_ITEMS.c[f] for f in _FIELDS]
    query = (select(_ITEMS.c.entity, _ITEMS.c.document_number, _ITEMS.c.id, *columns)
             .execution_options(yield_per=20000))
    result = conn.execute(query)
    return {(row[0], row[1]): tuple(row[2:]) for row in result}


def _applied_here(conn: Connection) -> dict[int, Decimal]:
    """Item id -> sum of live item/discount lines applied here (reversed ones excluded)."""
    lines = ApplicationLineRow.__table__
    apps = ApplicationRow.__table__
    query = (select(lines.c.item_id, func.sum(lines.c.amount))
             .join(apps, apps.c.id == lines.c.application_id)
             .where(lines.c.kind.in_(("item", "discount")), lines.c.item_id.is_not(None),
                    apps.c.reversed_by_id.is_(None), apps.c.reverses_id.is_(None))
             .group_by(lines.c.item_id))
    return {item_id: total or ZERO for item_id, total in conn.execute(query)}
