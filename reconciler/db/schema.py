"""Imports every table module so that `Base.metadata` is complete (for Alembic and tests)."""

# Slices added by later features register here too.
from reconciler.db import bank, collections, journal, ledger, matching, outbox, users  # noqa: F401  # noqa: F401, E402
from reconciler.db.base import Base

metadata = Base.metadata
