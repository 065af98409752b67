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
from reconciler.masterdata import fields
from reconciler.masterdata.bulk import BulkInsert, BulkUpdate
from reconciler.masterdata.csvfile import CsvSource, CsvSpec, RowReader, open_intake
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


def import_customers(db: Database, source: CsvSource, *, filename: str | None = None,
                     actor: str = "system:import",
                     progress: Progress | None = None) -> ImportSummary:
    """Upsert the customer master from `source`; all or nothing (`ImportRejectedError`)."""
    intake = open_intake(source, filename, SPEC, progress)
    name, facts, reader = intake.name, intake.facts, intake.reader
    problems, warnings = intake.problems, intake.warnings
    parsed: dict[str, tuple[int, dict[str, Any], tuple[str, ...] | None]] = {}
    for line, values in reader:
        record = _read_customer(reader, line, values, problems)
        if record is None:
            continue
        customer_id, row, ibans = record
        if customer_id in parsed:
            problems.append(f"{name} line {line}, column customer_id: {customer_id!r} appears "
                            f"twice (first at line {parsed[customer_id][0]})")
            continue
        parsed[customer_id] = (line, row, ibans)
        if progress:
            progress.advance()
    if progress:
        progress.close()
    present = [f for f in _FIELDS if f == "normalized_name" or reader.index(f) is not None]
    with db.transaction() as session:
        conn = session.connection()
        existing = _load_existing(conn)
        for customer_id, (line, row, _) in parsed.items():
            parent = row.get("parent_customer_id")
            if parent == customer_id:
                problems.append(f"{name} line {line}, column parent_customer_id: "
                                f"{parent!r} is the customer itself")
            elif parent and parent not in parsed and parent not in existing:
                warnings.append(f"{name} line {line}: parent customer {parent!r} is unknown")
        if problems:
            raise ImportRejectedError(f"{len(problems)} problem(s); nothing was imported",
                                      problems, where=name)
        tally = Tally(rows=len(parsed))
        _write(conn, parsed, existing, present, tally)
        summary = tally.summary("customers", name, facts.sha256, warnings)
        record_import(session, summary, tally, actor=actor)
    return summary


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


def _write(conn: Connection,
           parsed: dict[str, tuple[int, dict[str, Any], tuple[str, ...] | None]],
           existing: dict[str, tuple[int, dict[str, Any], tuple[str, ...]]],
           present: list[str], tally: Tally) -> None:
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    iban_sets: dict[str, tuple[str, ...]] = {}
    for customer_id, (_, row, ibans) in parsed.items():
        known = existing.get(customer_id)
        if known is None:
            inserts.append({"customer_id": customer_id, **row, "updated_at": now})
            iban_sets[customer_id] = ibans or ()
            tally.add("inserted", customer_id)
            continue
        pk, stored, stored_ibans = known
        wanted = {f: row[f] for f in present}
        changed_fields = {f: v for f, v in wanted.items() if stored[f] != v}
        ibans_changed = ibans is not None and ibans != stored_ibans
        if not changed_fields and not ibans_changed:
            tally.unchanged += 1
            continue
        merged = {**stored, **wanted}
        updates.append({"b_id": pk, **merged, "updated_at": now})
        if ibans_changed:
            iban_sets[customer_id] = ibans or ()
        tally.add("updated", customer_id)
    if inserts:
        BulkInsert(conn, _CUSTOMERS, ("customer_id", *_FIELDS, "updated_at")).execute(inserts)
    if updates:
        BulkUpdate(conn, _CUSTOMERS, _FIELDS).execute(updates)
    if iban_sets:
        _replace_ibans(conn, iban_sets, [existing[c][0] for c in iban_sets if c in existing])


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
