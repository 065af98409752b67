"""Statements compiled once and run on the database driver's own cursor.

A matcher run takes a hundred thousand decisions, each one database transaction of about ten
statements. SQLAlchemy's per-call work (coercion, cache key, execution context) costs some
30 microseconds a statement, the driver 2: on the hot path that difference is most of the
run. A `Prepared` statement is still written with SQLAlchemy Core, so the SQL, the dialect
differences and the column types' conversions (Money as scaled integers on SQLite, JSON,
UTC timestamps) all come from the same definitions as everywhere else; it is only compiled
once per dialect and executed on the session's own connection, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names in the order the driver expects them
    positional: bool
    defaults: Mapping[str, Any]  # values fixed in the statement (a literal)
    binders: Mapping[str, _Processor]
    types: tuple[Any, ...]
    # (column, reader) of the columns that need converting; set on the first fetch
    readers: list[tuple[tuple[int, Callable[[Any], Any]], ...]] = field(default_factory=list)

    def parameters(self, values: Mapping[str, Any]) -> Any:
        converted = []
        for name in self.names:  # in the order the driver expects (a name may repeat)
            binder = self.binders[name]
            value = values[name] if name in values else self.defaults[name]
            converted.append(binder(value) if binder is not None else value)
        if self.positional:
            return converted
        return dict(zip(self.names, converted, strict=True))

    def rows(self, cursor: Any, dialect: Dialect, size: int = 0) -> list[tuple[Any, ...]]:
        """The next `size` rows (all when 0), converted by the columns' types."""
        if not self.readers:
            self.readers.append(tuple(
                (n, reader) for n, (kind, described)
                in enumerate(zip(self.types, cursor.description, strict=True))
                if (reader := kind.result_processor(dialect, described[1])) is not None))
        read = self.readers[0]
        fetched = cursor.fetchmany(size) if size else cursor.fetchall()
        if not read:
            return [tuple(raw) for raw in fetched]
        converted = []
        for raw in fetched:
            row = list(raw)
            for n, reader in read:
                if row[n] is not None:
                    row[n] = reader(row[n])
            converted.append(tuple(row))
        return converted


class Prepared:
    """A Core statement (bound parameters only) run without SQLAlchemy's per-call cost."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, session: Session, values: Mapping[str, Any] | None = None) \
            -> list[tuple[Any, ...]]:
        """Run once; returns the rows (SELECT or RETURNING), converted to Python values."""
        compiled, cursor, dialect = self._prepare(session)
        cursor.execute(compiled.sql, compiled.parameters(values or {}))
        if cursor.description is None:
            return []
        return compiled.rows(cursor, dialect)

    def stream(self, session: Session, values: Mapping[str, Any] | None = None, *,
               chunk: int = 20_000) -> Iterator[tuple[Any, ...]]:
        """The rows of a large SELECT, fetched `chunk` at a time (on a cursor of its own,
        so that other statements can run while the rows are read)."""
        compiled, _, dialect = self._prepare(session)
        cursor = _connection(session).connection.cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(values or {}))
            while batch := compiled.rows(cursor, dialect, chunk):
                yield from batch
        finally:
            cursor.close()

    def execute_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row of values (no rows returned)."""
        if not rows:
            return
        compiled, cursor, _ = self._prepare(session)
        parameters = compiled.parameters
        cursor.executemany(compiled.sql, [parameters(row) for row in rows])

    def _prepare(self, session: Session) -> tuple[_Compiled, Any, Dialect]:
        """The statement compiled for the session's database, and the cursor of its current
        transaction."""
        cursor, dialect = _cursor(session)
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return compiled, cursor, dialect


def _connection(session: Session) -> Connection:
    """The session's connection in its current transaction (begun if need be)."""
    return _remembered(session)[1]


def _cursor(session: Session) -> tuple[Any, Dialect]:
    """One driver cursor per transaction, for the statements whose rows are fetched at once."""
    remembered = _remembered(session)
    return remembered[2], remembered[3]


def _remembered(session: Session) -> tuple[Any, Connection, Any, Dialect]:
    """(transaction, connection, cursor, dialect), remembered for the session's current
    transaction: asking the session for its connection costs as much as running a statement."""
    transaction = session.get_transaction()
    remembered = session.info.get(_CONNECTION)
    if transaction is None or remembered is None or remembered[0] is not transaction:
        connection = session.connection()  # joins or begins the session's transaction
        remembered = session.info[_CONNECTION] = (
            session.get_transaction(), connection, connection.connection.cursor(),
            connection.dialect)
    return cast(tuple[Any, Connection, Any, Dialect], remembered)


_CONNECTION = "prepared.connection"


def holds_write_lock(session: Session) -> bool:
    """SQLite: whether the session's transaction already holds the database's write lock.

    The driver begins a transaction only for a write (or when the connection began it with
    BEGIN IMMEDIATE, as the matcher run's writer does), so a transaction in progress is one
    that writes: no other writer can commit until it ends, and a plain SELECT reads the
    latest state. False on other databases, which lock rows instead.
    """
    connection = _connection(session)
    return connection.dialect.name == "sqlite" \
        and bool(connection.connection.driver_connection.in_transaction)  # type: ignore[union-attr]


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise TypeError("a prepared statement takes no IN list: write it as an OR of "
                        "comparisons")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
    binds = {name: compiled.binds[name] for name in names}
    binders = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
               for name, bind in binds.items()}
    defaults = {name: bind.effective_value for name, bind in binds.items()
                if not bind.required}
    return _Compiled(compiled.string, names, positional, defaults, binders,
                     _types(statement, dialect))


def _types(statement: ClauseElement, dialect: Dialect) -> tuple[Any, ...]:
    """The column types of what a SELECT lists or an INSERT/UPDATE ... RETURNING gives back,
    in this dialect; their readers need the driver's type codes, known at the first fetch."""
    return tuple(column.type.dialect_impl(dialect)
                 for column in getattr(statement, "exported_columns", ()))
