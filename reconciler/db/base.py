"""Declarative base, naming convention and the column types shared by every table."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Index,
    MetaData,
    Numeric,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase

# Named constraints: migrations can drop and alter them by name on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_SCALE = 4  # four decimals hold every ISO 4217 minor unit and a discount's fraction of a cent
_FACTOR = Decimal(10) ** _SCALE


class Money(TypeDecorator[Decimal]):
    """Exact money in every backend.

    PostgreSQL stores NUMERIC(19, 4). SQLite has no exact decimal type (its NUMERIC is a
    float), so there the amount is an integer count of 1/10,000ths: comparisons and SUM()
    stay exact in SQL and the value comes back as a Decimal.
    """

    impl = Numeric(19, _SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(19, _SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("Money column refuses float")
        value = Decimal(value)
        if dialect.name == "sqlite":
            return int((value * _FACTOR).to_integral_value())
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return _from_scaled(int(value))
        return _trimmed(Decimal(value))


_CENT, _MILL, _TEN_THOUSANDTH = Decimal("0.01"), Decimal("0.001"), Decimal("0.0001")


def _from_scaled(scaled: int) -> Decimal:
    """`_trimmed` for SQLite's integer of 1/10,000ths, in integer arithmetic (a matcher run
    reads a million amounts): 11900000 is 1190.00, 123456 is 12.3456."""
    if scaled % 100 == 0:
        return Decimal(scaled // 100).scaleb(-2)
    if scaled % 10 == 0:
        return Decimal(scaled // 10).scaleb(-3)
    return Decimal(scaled).scaleb(-4)


def _trimmed(value: Decimal) -> Decimal:
    """The stored amount with as few of the four stored decimals as keep it exact, but at
    least two: 1190.0000 reads back as 1190.00, a discount of 12.3456 stays as it is."""
    for exponent in (_CENT, _MILL):
        shorter = value.quantize(exponent)
        if shorter == value:
            return shorter
    return value.quantize(_TEN_THOUSANDTH)


class JSONText(str):
    """A JSON value serialized already, such as a journal row's canonical data: a JSON column
    stores the text as it is instead of serializing the string once more."""


def serialize_json(value: Any) -> str:
    """Every engine's JSON serializer (`make_engine`): `JSONText` as it is, anything else
    by `json.dumps`, as SQLAlchemy would."""
    if isinstance(value, JSONText):
        return str.__str__(value)
    return json.dumps(value)


class Rate(TypeDecorator[Decimal]):
    """A fraction such as a discount rate (0.02), stored exactly like Money with 6 decimals."""

    impl = Numeric(12, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 6, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("Rate column refuses float")
        if dialect.name == "sqlite":
            return int((Decimal(value) * 1_000_000).to_integral_value())
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 1_000_000).normalize()
        return Decimal(value).normalize()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use reconciler.db.base.utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def partial_index(name: str, *columns: str, where: str) -> Index:
    """An index of only the rows `where` holds, on SQLite and PostgreSQL alike.

    A matcher run changes a hundred thousand rows from "to do" to "done" (lines applied, items
    closed), one database transaction each. A full index moves each such row's entry from one
    page to another; an index of the rows still to do only deletes it, and stays small. Both
    databases use it for a query whose conditions imply `where`: PostgreSQL proves it, SQLite
    needs `where` itself among the query's terms (a bound parameter in place of the literal
    is fine)."""
    condition = text(where)
    return Index(name, *columns, sqlite_where=condition, postgresql_where=condition)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
