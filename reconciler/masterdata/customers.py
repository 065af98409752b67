"""`customers.csv` -> the customer master (upsert by `customer_id`).

Columns (DESIGN.md): customer_id (required, unique), name (required), ibans (';'-separated),
parent_customer_id, segment, country (ISO 3166 alpha-2), payment_terms (NET30, 2/10NET30),
email, credit_limit, currency; `language` (for dunning letters) is read when present.
A column absent from the header leaves that field of existing customers untouched; a column
present but empty clears it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, select

from reconciler.db.base import utcnow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow
from reconciler.db.session import Database
from reconciler.errors import ImportRejectedError
from reconciler.forked import ForkedFeed, can_fork
from reconciler.heap import collector_paused
from reconciler.masterdata import fields
from reconciler.masterdata.bulk import (
    BulkInsert,
    BulkUpdate,
    deliver,
    write_from_child,
)
from reconciler.masterdata.csvfile import (
    CsvSource,
    CsvSpec,
    Intake,
    RowReader,
    open_intake,
)
from reconciler.masterdata.summary import ImportSummary, Tally, record_import
from reconciler.names import normalize_name
from reconciler.progress import Progress

SPEC = CsvSpec(
    kind="customers",
    required=("customer_id", "name"),
    optional=("ibans", "parent_customer_id", "segment", "country", "payment_terms", "email",
              "credit_limit", "currency", "language"),
)
# Stored fields compared to decide "updated" vs "unchanged", in this order.
_FIELDS = ("name", "normalized_name", "parent_customer_id", "segment", "country",
           "payment_terms", "email", "credit_limit", "currency", "language")
_CUSTOMERS = cast(Table, CustomerRow.__table__)
_IBANS = cast(Table, CustomerIbanRow.__table__)
_BATCH = 5000
# Lines from which a forked child reads the file while this process writes: below, the fork
# costs more than it saves.
_READ_IN_CHILD_FROM = 20_000


def import_customers(db: Database, source: CsvSource, *, filename: str | None = None,
                     actor: str = "system:import",
                     progress: Progress | None = None) -> ImportSummary:
    """Upsert the customer master from `source`; all or nothing (`ImportRejectedError`)."""
    intake = open_intake(source, filename, SPEC, progress)
    name, facts = intake.name, intake.facts
    with collector_paused(), db.transaction() as session:
        conn = session.connection()
        run = _Run(conn, intake)
        if facts.lines >= _READ_IN_CHILD_FROM and can_fork():
            _read_in_child(run, progress)
        else:
            run.read(progress)
        if run.problems:
            raise ImportRejectedError(f"{len(run.problems)} problem(s); nothing was imported",
                                      run.problems, where=name)
        if run.iban_sets:
            _replace_ibans(conn, run.iban_sets,
                           [run.existing[c][0] for c in run.iban_sets if c in run.existing])
        summary = run.tally.summary("customers", name, facts.sha256, run.warnings)
        record_import(session, summary, run.tally, actor=actor)
    return summary


def _read_in_child(run: _Run, progress: Progress | None) -> None:
    """`_Run.read` in a forked child while this process writes the batches it sends, in
    their order and in this process's transaction.

    Reading and checking a customer (its name normalised, its IBANs verified) costs more than
    writing it, so the two cores share the work; the child gets the stored customers by
    inheritance and never touches the database. Its outcome (counts, problems, warnings, the
    IBANs to store) comes last; a child that ends without one fails the import, rolled back."""
    feed = ForkedFeed(_read_for_parent, run, progress, name="read customers")
    write_from_child(feed, run.filename,
                     {"inserts": run.insert_prepared, "updates": run.execute_updates},
                     run.adopt)


def _read_for_parent(send: Callable[[tuple[Any, ...]], None], run: _Run,
                     progress: Progress | None) -> None:
    run.sink = send
    try:
        run.read(progress)
    except ImportRejectedError as exc:  # sent by its parts: its constructor takes keywords
        send(("rejected", exc.message, exc.problems, exc.where))
        return
    send(("done", run.tally, run.problems, run.warnings, run.iban_sets))


class _Run:
    """One import: the stored customers, the rows read so far, the batches waiting to be
    written (here, or sent to the process that writes when a child reads)."""

    def __init__(self, conn: Connection, intake: Intake) -> None:
        self.reader, self.filename = intake.reader, intake.name
        self.problems, self.warnings = intake.problems, intake.warnings
        self.existing = _load_existing(conn)
        self.tally = Tally()
        self.now = utcnow()
        # customer id -> (line, parent customer id): for the duplicate and parent checks.
        self.parsed: dict[str, tuple[int, str | None]] = {}
        self.present: list[str] = []  # the stored fields this file has a column for
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        # The IBANs to store, in file order: every new customer's, changed ones of the others.
        self.iban_sets: dict[str, tuple[str, ...]] = {}
        self._insert = BulkInsert(conn, _CUSTOMERS, ("customer_id", *_FIELDS, "updated_at"))
        self._update: BulkUpdate | None = None  # made at the first update, in this process
        self.conn = conn
        self.sink: Callable[[tuple[Any, ...]], None] | None = None

    def read(self, progress: Progress | None) -> None:
        """Read and check every row, writing the batches until the first problem (after it
        only the checks go on: the import will be rejected)."""
        reader, parsed, problems = self.reader, self.parsed, self.problems
        for line, values in reader:
            record = _read_customer(reader, line, values, problems)
            if record is None:
                continue
            customer_id, row, ibans = record
            first = parsed.get(customer_id)
            if first is not None:
                problems.append(f"{self.filename} line {line}, column customer_id: "
                                f"{customer_id!r} appears twice (first at line {first[0]})")
                continue
            parsed[customer_id] = (line, row["parent_customer_id"])
            if not self.present:
                self.present = [f for f in _FIELDS
                                if f == "normalized_name" or reader.index(f) is not None]
            if not problems:
                self._classify(customer_id, row, ibans)
            if progress:
                progress.advance()
        if progress:
            progress.close()
        self._check_parents()
        self.tally.rows = len(parsed)
        if not problems:
            self._write_inserts()
            self._write_updates()

    def _check_parents(self) -> None:
        for customer_id, (line, parent) in self.parsed.items():
            if parent == customer_id:
                self.problems.append(f"{self.filename} line {line}, column parent_customer_id: "
                                     f"{parent!r} is the customer itself")
            elif parent and parent not in self.parsed and parent not in self.existing:
                self.warnings.append(f"{self.filename} line {line}: parent customer "
                                     f"{parent!r} is unknown")

    def _classify(self, customer_id: str, row: dict[str, Any],
                  ibans: tuple[str, ...] | None) -> None:
        known = self.existing.get(customer_id)
        if known is None:
            row["customer_id"] = customer_id
            row["updated_at"] = self.now
            self.inserts.append(row)
            self.iban_sets[customer_id] = ibans or ()
            self.tally.add("inserted", customer_id)
            if len(self.inserts) >= _BATCH:
                self._write_inserts()
            return
        pk, stored, stored_ibans = known
        changed = any(stored[f] != row[f] for f in self.present)
        ibans_changed = ibans is not None and ibans != stored_ibans
        if not changed and not ibans_changed:
            self.tally.unchanged += 1
            return
        # A column the file does not have keeps the stored value.
        merged = {**stored, **{f: row[f] for f in self.present}}
        self.updates.append({"b_id": pk, **merged, "updated_at": self.now})
        if ibans_changed:
            self.iban_sets[customer_id] = ibans or ()
        self.tally.add("updated", customer_id)
        if len(self.updates) >= _BATCH:
            self._write_updates()

    def _write_inserts(self) -> None:
        if not self.inserts:
            return
        prepared = self._insert.prepare(self.inserts)
        self.inserts = []
        deliver(self.sink, "inserts", self.insert_prepared, prepared)

    def _write_updates(self) -> None:
        rows, self.updates = self.updates, []
        if rows:
            deliver(self.sink, "updates", self.execute_updates, rows)

    def insert_prepared(self, prepared: list[Any]) -> None:
        self._insert.execute_prepared(prepared)

    def execute_updates(self, rows: list[dict[str, Any]]) -> None:
        if self._update is None:
            self._update = BulkUpdate(self.conn, _CUSTOMERS, _FIELDS)
        self._update.execute(rows)

    def adopt(self, tally: Tally, problems: list[str], warnings: list[str],
              iban_sets: dict[str, tuple[str, ...]]) -> None:
        """Take over what the child that read the file found (the lists stay the ones the
        caller holds)."""
        self.tally, self.iban_sets = tally, iban_sets
        self.problems[:] = problems
        self.warnings[:] = warnings


def _read_customer(reader: RowReader, line: int, values: list[str], problems: list[str]
                   ) -> tuple[str, dict[str, Any], tuple[str, ...] | None] | None:
    """One row -> (customer id, stored fields, IBANs or None when the file has no column).

    Written straight through rather than with helper closures: it runs once per customer."""
    columns = reader.columns
    text = {name: values[index].strip() for name, index in columns.items()}
    get = text.get
    errors: list[tuple[str, str, str]] = []
    customer_id = text["customer_id"]
    if not customer_id:
        errors.append(("customer_id", customer_id, "required"))
    elif len(customer_id) > 64:
        errors.append(("customer_id", customer_id, "longer than 64 characters"))
    name = text["name"]
    if not name:
        errors.append(("name", name, "required"))
    row: dict[str, Any] = {"name": name, "normalized_name": normalize_name(name)[:200]}
    for column, limit in _TEXT_LIMITS:
        value = get(column, "")
        if len(value) > limit:
            errors.append((column, value, f"longer than {limit} characters"))
        if column in _PLAIN_TEXT:
            row[column] = value or None
    for column, read in _CHECKED:
        value = get(column, "")
        row[column] = None
        if value:
            try:
                row[column] = read(value)
            except fields.FieldError as exc:
                errors.append((column, value, str(exc)))
    limit_text = get("credit_limit", "")
    row["credit_limit"] = None
    if limit_text:
        try:
            row["credit_limit"] = _read_credit_limit(limit_text, row["currency"])
        except fields.FieldError as exc:
            errors.append(("credit_limit", limit_text, str(exc)))
    ibans: tuple[str, ...] | None = None
    if "ibans" in columns:
        try:
            ibans = fields.read_ibans(text["ibans"])
        except fields.FieldError as exc:
            errors.append(("ibans", text["ibans"], str(exc)))
    if errors:
        problems.extend(f"{reader.filename} line {line}, column {column}: {message} "
                        f"(value {value!r})" for column, value, message in errors)
        return None
    return customer_id, row, ibans


# A customer master uses a handful of payment terms and credit limits: each distinct text is
# read once (a bad one raises and is not remembered).
@lru_cache(maxsize=1024)
def _payment_terms_code(text: str) -> str:
    return fields.parse_payment_terms(text).code


@lru_cache(maxsize=1024)
def _read_credit_limit(text: str, currency: str | None) -> Decimal:
    value = fields.read_amount(text, currency)
    if value < 0:
        raise fields.FieldError("a credit limit cannot be negative")
    return value


# Checked in this order, so a row's problems are listed column by column as before.
_TEXT_LIMITS = (("name", 200), ("email", 200), ("parent_customer_id", 64), ("segment", 40),
                ("language", 5))
_PLAIN_TEXT = frozenset({"parent_customer_id", "segment", "language"})
_CHECKED: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("country", fields.read_country), ("currency", fields.read_currency),
    ("email", fields.read_email), ("payment_terms", _payment_terms_code))


def _load_existing(conn: Connection) -> dict[str, tuple[int, dict[str, Any], tuple[str, ...]]]:
    ibans: dict[int, list[str]] = {}
    for pk, iban in conn.execute(select(_IBANS.c.customer_pk, _IBANS.c.iban)):
        ibans.setdefault(pk, []).append(iban)
    existing: dict[str, tuple[int, dict[str, Any], tuple[str, ...]]] = {}
    columns = [_CUSTOMERS.c[f] for f in _FIELDS]
    for row in conn.execute(select(_CUSTOMERS.c.id, _CUSTOMERS.c.customer_id, *columns)):
        mapping = row._mapping
        stored = {f: mapping[f] for f in _FIELDS}
        existing[row.customer_id] = (row.id, stored, tuple(sorted(ibans.get(row.id, ()))))
    return existing


def _replace_ibans(conn: Connection, iban_sets: dict[str, tuple[str, ...]],
                   known_pks: list[int]) -> None:
    """Store the IBANs of `iban_sets`; those of the customers already known (`known_pks`)
    are deleted first (a new customer has none to delete)."""
    # Customer masters are thousands of rows, not millions: reading every id is cheap and
    # avoids the bound-parameter limit of a long IN list.
    ids: dict[str, int] = {c: pk for c, pk in conn.execute(
        select(_CUSTOMERS.c.customer_id, _CUSTOMERS.c.id))}
    for start in range(0, len(known_pks), 5000):
        conn.execute(delete(_IBANS).where(
            _IBANS.c.customer_pk.in_(known_pks[start:start + 5000])))
    rows = [{"customer_pk": ids[c], "iban": iban} for c, ibans in iban_sets.items()
            for iban in ibans]
    BulkInsert(conn, _IBANS, ("customer_pk", "iban")).execute(rows)
