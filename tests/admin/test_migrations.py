"""The migrations build the schema the models declare, on SQLite and on PostgreSQL.

The baseline is frozen, so a model changed without a migration of its own leaves the two
apart, and these tests say where.
"""

from __future__ import annotations

from pprint import pformat
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Index, MetaData, String, inspect, select, text
from sqlalchemy.schema import CreateIndex

from reconciler.db.journal import JournalHeadRow
from reconciler.db.schema import metadata
from reconciler.db.session import Database, alembic_config, init_database

PARTIAL_INDEXES = [index for table in metadata.sorted_tables for index in table.indexes
                   if index.dialect_options["postgresql"]["where"] is not None]


def _schema_diff(connection: Connection, models: MetaData = metadata) -> list[Any]:
    return compare_metadata(MigrationContext.configure(connection), models)


def _stored_definition(connection: Connection, index_name: str) -> str:
    """The index as the database keeps it, condition included."""
    if connection.dialect.name == "sqlite":
        query = text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name")
    else:
        query = text("SELECT indexdef FROM pg_indexes WHERE indexname = :name")
    definition = connection.scalar(query, {"name": index_name})
    assert definition is not None, f"index {index_name} is missing"
    return " ".join(definition.split())


def _declared_definition(connection: Connection, index: Index) -> str:
    """The index as the models would create it, in the form `_stored_definition` reads.

    SQLite keeps the CREATE statement as it was sent. PostgreSQL keeps its own rendering of the
    condition (`(status)::text <> 'closed'::text`), so the models' index is created in place of
    the migrated one inside a transaction that is rolled back, and read back.
    """
    if connection.dialect.name == "sqlite":
        return " ".join(str(CreateIndex(index).compile(dialect=connection.dialect)).split())
    try:
        connection.execute(text(f'DROP INDEX "{index.name}"'))
        index.create(connection)
        return _stored_definition(connection, str(index.name))
    finally:
        connection.rollback()


def test_migrations_build_the_models_schema(db: Database) -> None:
    with db.engine.connect() as connection:
        diff = _schema_diff(connection)
    assert not diff, ("the migrations and the models differ; a model change needs a migration:\n"
                      + pformat(diff))


def test_partial_indexes_keep_their_conditions(db: Database) -> None:
    # compare_metadata matches indexes by name and columns only: an index that lost its WHERE
    # would hold every row again and pass it.
    assert PARTIAL_INDEXES, "the models declare partial indexes; this test must see them"
    with db.engine.connect() as connection:
        for index in PARTIAL_INDEXES:
            stored = _stored_definition(connection, str(index.name))
            assert " WHERE " in stored
            assert stored == _declared_definition(connection, index)


def test_a_model_change_without_a_migration_is_caught(db: Database) -> None:
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["open_items"].append_column(Column("cost_center", String(20)))
    with db.engine.connect() as connection:
        diff = _schema_diff(connection, changed)
    assert [(change[0], change[2], change[3].name) for change in diff] == [
        ("add_column", "open_items", "cost_center")
    ]


def _downgrade_to_base(database: Database) -> None:
    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")


def test_downgrade_to_base_and_upgrade_again(sqlite_db: Database) -> None:
    _downgrade_to_base(sqlite_db)
    assert inspect(sqlite_db.engine).get_table_names() == ["alembic_version"]

    assert init_database(sqlite_db) == "0001"
    assert set(inspect(sqlite_db.engine).get_table_names()) == {*metadata.tables,
                                                                  "alembic_version"}
    with sqlite_db.engine.connect() as connection:
        assert not _schema_diff(connection)
    with sqlite_db.session() as session:
        head = session.scalars(select(JournalHeadRow)).one()
    assert (head.id, head.seq, head.hash) == (1, 0, "0" * 64)

