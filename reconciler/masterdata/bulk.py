"""Bulk writes for the million-row imports: compile once, convert values once, executemany.

SQLAlchemy's Core executemany re-processes every parameter dictionary in Python (about half
of an import's time at a million rows). Here the statement is compiled once for the
connection's dialect, each value is converted by its column type's own bind processor (so
`Money` keeps its exact storage rules), and the rows go to the DB-API `executemany` as tuples
or dictionaries, whichever the driver's parameter style wants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
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
        pairs = list(zip(self.names, self.processors, strict=True))
        if self.positional:
            params: list[Any] = [
                tuple(p(row[n]) if p else row[n] for n, p in pairs) for row in rows]
        else:
            params = [{n: p(row[n]) if p else row[n] for n, p in pairs} for row in rows]
        self.conn.exec_driver_sql(self.sql, params)
