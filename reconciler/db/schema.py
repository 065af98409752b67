"""Imports every table module so that `Base.metadata` is complete (for Alembic and tests)."""

from reconciler.db import (  # noqa: F401  (imported for their tables)
    bank,
    collections,
    jobs,
    journal,
    ledger,
    matching,
    outbox,
    users,
)
from reconciler.db.base import Base

metadata = Base.metadata
