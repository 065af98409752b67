"""Bulk writes for the million-row imports: compile once, convert values once, executemany.

SQLAlchemy's Core executemany re-processes every parameter dictionary in Python (about half
of an import's time at a million rows). Here the statement is compiled once for the
connection's dialect, each value is converted by its column type's own bind processor (so
`Money` keeps its exact storage rules), and the rows go to the DB-API `executemany` as tuples
or dictionaries, whichever the driver's parameter style wants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
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
