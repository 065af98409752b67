"""Shared fixtures. `db` runs each database test on SQLite and on PostgreSQL.

PostgreSQL: `RECON_TEST_POSTGRES_URL` (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres
as the admin connection). The fixture starts the local cluster if it is down and creates a
throw-away database per test process. In CI (CI=true) an unreachable PostgreSQL fails the run
instead of skipping it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from reconciler.db.schema import metadata
from reconciler.db.session import Database, init_database
from tests.pgtools import throwaway_database

ADMIN_URL = os.environ.get(
    "RECON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BANKFILES = SHARED / "bankfiles"


def _postgres_reachable() -> bool:
    try:
        engine = create_engine(ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _start_postgres() -> None:
    try:
        versions = os.listdir("/etc/postgresql")
    except OSError:
        return
    for version in versions:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                       capture_output=True, check=False, timeout=60)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not _postgres_reachable():
        _start_postgres()
    if not _postgres_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {ADMIN_URL}")
        pytest.skip(f"PostgreSQL unreachable at {ADMIN_URL}")
    with throwaway_database(ADMIN_URL, prefix="recon_test") as url:
        yield url


@pytest.fixture(scope="session")
def _postgres_db(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    init_database(database)
    yield database
    database.dispose()


def _truncate_postgres(database: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'recon.db'}")
        init_database(database)
        yield database
        database.dispose()
    else:
        database = request.getfixturevalue("_postgres_db")
        _truncate_postgres(database)
        yield database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'recon.db'}")
    init_database(database)
    yield database
    database.dispose()


@pytest.fixture
def bankfiles() -> Path:
    if not BANKFILES.is_dir():
        pytest.skip(f"the shared real bank files are not here ({BANKFILES})")
    return BANKFILES
