"""Persistence: SQLAlchemy 2.0 typed models, the engine and Alembic migrations.

Rule: ORM objects stay inside services; what leaves a service is a domain record
(`reconciler.domain`) or a plain value. Matchers and rules never see a session.
"""
