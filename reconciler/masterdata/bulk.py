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

from sqlalchemy import Connection, Table, bindparam, insert, update
from sqlalchemy.sql.dml import UpdateBase


class BulkStatement:
    def __init__(self, conn: Connection, statement: UpdateBase, keys: Sequence[str]) -> None:
        self.conn = conn
        dialect = conn.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        names = list(compiled.positiontup or []) if self.positional else list(compiled.binds)
        self.names = [n for n in names if n in compiled.binds]
        processors: list[Callable[[Any], Any] | None] = []
        for name in self.names:
            type_ = compiled.binds[name].type
            processors.append(type_.dialect_impl(dialect).bind_processor(dialect))
        self.processors = processors

    def execute(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        # Column-wise: one C-level pass picks the values, each type converts its whole column
        # (dates and timestamps repeat a lot, so they are converted once per distinct value).
        pick = itemgetter(*self.names)
        picked = [pick(row) for row in rows] if len(self.names) > 1 else [
            (pick(row),) for row in rows]
        columns: list[Sequence[Any]] = list(zip(*picked, strict=True))
        for index, processor in enumerate(self.processors):
            if processor is not None:
                columns[index] = _convert(processor, columns[index])
        if self.positional:
            params: list[Any] = list(zip(*columns, strict=True))
        else:
            params = [dict(zip(self.names, values, strict=True))
                      for values in zip(*columns, strict=True)]
        self.conn.exec_driver_sql(self.sql, params)


def _convert(processor: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    first = values[0]
    if isinstance(first, (dt.date, str)) or first is None:
        memo: dict[Any, Any] = {}
        return [memo[v] if v in memo else memo.setdefault(v, processor(v)) for v in values]
    return list(map(processor, values))


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
        self.processors = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect)
                           for k in self.keys]
        preparer = dialect.identifier_preparer
        columns = ", ".join(preparer.quote(k) for k in self.keys)
        self.copy_sql = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"

    def execute(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self.fallback is not None:
            self.fallback.execute(rows)
            return
        pick = itemgetter(*self.keys)
        columns: list[Sequence[Any]] = list(zip(*(pick(row) for row in rows), strict=True))
        for index, processor in enumerate(self.processors):
            if processor is not None:
                columns[index] = _convert(processor, columns[index])
        driver_connection = self.conn.connection.driver_connection
        assert driver_connection is not None  # a live connection inside the transaction
        with driver_connection.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
            for values in zip(*columns, strict=True):
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
