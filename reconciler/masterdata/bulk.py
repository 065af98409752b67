"""Bulk writes for the million-row imports: compile once, convert values once, executemany.

SQLAlchemy's Core executemany re-processes every parameter dictionary in Python (about half
of an import's time at a million rows). Here the statement is compiled once for the
connection's dialect, each value is converted by its column type's own bind processor (so
`Money` keeps its exact storage rules), and the rows go to the DB-API `executemany` as tuples
or dictionaries, whichever the driver's parameter style wants (inserts on PostgreSQL: COPY).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam, insert, update
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeEngine

from reconciler.errors import ImportRejectedError
from reconciler.forked import ForkedFeed, ForkedFeedError


class BulkStatement:
    def __init__(self, conn: Connection, statement: UpdateBase, keys: Sequence[str]) -> None:
        self.conn = conn
        dialect = conn.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        names = list(compiled.positiontup or []) if self.positional else list(compiled.binds)
        self.names = [n for n in names if n in compiled.binds]
        types = [compiled.binds[name].type for name in self.names]
        self.conversion = _Conversion(types, dialect)

    def execute(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.execute_prepared(self.prepare(rows))

    def prepare(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The driver's parameters for `rows`, converted; needs no connection, so a process
        reading a file can prepare them for the one writing."""
        # Column-wise: one C-level pass picks the values, each type converts its whole column.
        pick = itemgetter(*self.names)
        picked = [pick(row) for row in rows] if len(self.names) > 1 else [
            (pick(row),) for row in rows]
        columns: list[Sequence[Any]] = list(zip(*picked, strict=True))
        self.conversion.apply(columns)
        if self.positional:
            return list(zip(*columns, strict=True))
        return [dict(zip(self.names, values, strict=True))
                for values in zip(*columns, strict=True)]

    def execute_prepared(self, params: list[Any]) -> None:
        if params:
            self.conn.exec_driver_sql(self.sql, params)


class _Conversion:
    """Each column's values through its type's bind processor, doing no work twice.

    Dates and timestamps repeat a lot, so they are converted once per distinct value. An
    open item's amount, ERP open amount and open amount are usually one and the same Decimal
    object (nothing paid yet), so a column of the same type as an earlier one reuses that
    column's result wherever it holds the very same object.
    """

    def __init__(self, types: Sequence[TypeEngine[Any]], dialect: Dialect) -> None:
        self.processors: list[Callable[[Any], Any] | None] = [
            type_.dialect_impl(dialect).bind_processor(dialect) for type_ in types]
        # Two columns convert alike when their types print alike (`Money()`, `Numeric(12, 6)`).
        self.kinds = [repr(type_) for type_ in types]

    def apply(self, columns: list[Sequence[Any]]) -> None:
        done: dict[str, tuple[Sequence[Any], list[Any]]] = {}
        for index, processor in enumerate(self.processors):
            if processor is None:
                continue
            values = columns[index]
            earlier = done.get(self.kinds[index])
            if earlier is None:
                converted = _convert(processor, values)
            else:
                converted = _convert_after(processor, values, *earlier)
            done[self.kinds[index]] = (values, converted)
            columns[index] = converted


def _is_repetitive(value: Any) -> bool:
    """Dates and codes repeat across a file's rows; amounts are nearly all distinct."""
    return isinstance(value, (dt.date, str)) or value is None


def _convert(processor: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    if _is_repetitive(values[0]):
        memo: dict[Any, Any] = {}
        return [memo[v] if v in memo else memo.setdefault(v, processor(v)) for v in values]
    return list(map(processor, values))


def _convert_after(processor: Callable[[Any], Any], values: Sequence[Any],
                   earlier: Sequence[Any], earlier_out: list[Any]) -> list[Any]:
    """`_convert` for a column of the same type as an earlier one: where a row holds the very
    same object the earlier result is reused. A due date is rarely the issue date's object,
    but it repeats as much, so a date column still converts each distinct value once."""
    if not _is_repetitive(values[0]):
        return [out if value is seen else processor(value)
                for value, seen, out in zip(values, earlier, earlier_out, strict=True)]
    memo: dict[Any, Any] = {}
    return [out if value is seen else memo[value] if value in memo
            else memo.setdefault(value, processor(value))
            for value, seen, out in zip(values, earlier, earlier_out, strict=True)]


class BulkInsert:
    """Insert many rows into `table`: PostgreSQL's COPY where available, else executemany.

    COPY streams the rows in one command instead of one INSERT per row, which is what makes a
    million-row import on PostgreSQL take seconds rather than minutes of server round trips.
    It runs on the same DB-API connection, so inside the import's transaction.
    """

    def __init__(self, conn: Connection, table: Table, keys: Sequence[str]) -> None:
        self.conn, self.table, self.keys = conn, table, list(keys)
        dialect = conn.dialect
        self.use_copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        self.fallback = None if self.use_copy else BulkStatement(conn, insert(table), keys)
        self.conversion = _Conversion([table.c[k].type for k in self.keys], dialect)
        preparer = dialect.identifier_preparer
        columns = ", ".join(preparer.quote(k) for k in self.keys)
        self.copy_sql = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"

    def execute(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.execute_prepared(self.prepare(rows))

    def prepare(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The rows as the driver takes them, converted (see `BulkStatement.prepare`)."""
        if self.fallback is not None:
            return self.fallback.prepare(rows)
        pick = itemgetter(*self.keys)
        columns: list[Sequence[Any]] = list(zip(*(pick(row) for row in rows), strict=True))
        self.conversion.apply(columns)
        return list(zip(*columns, strict=True))

    def execute_prepared(self, prepared: list[Any]) -> None:
        if not prepared:
            return
        if self.fallback is not None:
            self.fallback.execute_prepared(prepared)
            return
        driver_connection = self.conn.connection.driver_connection
        assert driver_connection is not None  # a live connection inside the transaction
        with driver_connection.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
            for values in prepared:
                copy.write_row(values)


class BulkUpdate:
    """Update `fields` (and `updated_at`) of many rows of `table` by id (`b_id` in each row).

    PostgreSQL: the new values are COPYed into a temporary table and applied with one
    `UPDATE ... FROM`, instead of one UPDATE round trip per row. Elsewhere: executemany.
    """

    _serial = 0

    def __init__(self, conn: Connection, table: Table, fields: Sequence[str]) -> None:
        self.conn, self.table = conn, table
        self.fields = [*fields, "updated_at"]
        dialect = conn.dialect
        self.use_copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        self.fallback: BulkStatement | None = None
        if not self.use_copy:
            self.fallback = BulkStatement(
                conn, update(table).where(table.c.id == bindparam("b_id"))
                .values({f: bindparam(f) for f in self.fields}), ())
            return
        BulkUpdate._serial += 1
        preparer = dialect.identifier_preparer
        target = preparer.format_table(table)
        self.temp = f"recon_bulk_update_{BulkUpdate._serial}"
        columns = ", ".join(preparer.quote(f) for f in self.fields)
        self.create_sql = (f"CREATE TEMPORARY TABLE {self.temp} ON COMMIT DROP AS "
                           f"SELECT id, {columns} FROM {target} WITH NO DATA")
        self.inserter = BulkInsert(conn, table, ["id", *self.fields])
        self.inserter.copy_sql = f"COPY {self.temp} (id, {columns}) FROM STDIN"
        assignments = ", ".join(f"{preparer.quote(f)} = s.{preparer.quote(f)}"
                                for f in self.fields)
        self.update_sql = (f"UPDATE {target} AS t SET {assignments} FROM {self.temp} AS s "
                           "WHERE t.id = s.id")
        self.created = False

    def execute(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self.fallback is not None:
            self.fallback.execute(rows)
            return
        if not self.created:
            self.conn.exec_driver_sql(self.create_sql)
            self.created = True
        self.inserter.execute([{**row, "id": row["b_id"]} for row in rows])
        self.conn.exec_driver_sql(self.update_sql)
        self.conn.exec_driver_sql(f"TRUNCATE {self.temp}")


def deliver(sink: Callable[[tuple[Any, ...]], None] | None, kind: str,
            write: Callable[..., None], *values: Any) -> None:
    """A batch of a run: written here (`write(*values)`), or, when the run reads the file in
    a child, sent to the parent as `(kind, *values)` for `write_from_child` to write."""
    if sink is None:
        write(*values)
    else:
        sink((kind, *values))


def write_from_child(feed: ForkedFeed, filename: str,
                     write: Mapping[str, Callable[..., None]],
                     adopt: Callable[..., None]) -> None:
    """Apply what a file-reading child sends, here and in its order: each batch by its
    writer (`write[kind](*values)`), a rejection raised as the child found it, and the
    closing outcome ("done") adopted. A child that fails or ends without an outcome fails
    the import, which the caller's transaction then rolls back."""
    try:
        for kind, *values in feed.messages():
            if kind == "done":
                adopt(*values)
                return
            if kind == "rejected":
                message, problems, where = values
                raise ImportRejectedError(message, problems, where=where)
            write[kind](*values)
    except ForkedFeedError as exc:
        raise RuntimeError(f"{filename}: reading the file failed: {exc}") from None
    finally:
        feed.close()
    raise RuntimeError(f"{filename}: the process reading the file ended without "
                       "finishing; nothing was imported")
