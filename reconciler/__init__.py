"""The reconciliation server's core.

Rule of this package: `reconciler.money`, `reconciler.domain` and `reconciler.errors` form the
domain model and import nothing heavy (standard library only), so that the pure packages
`parsers`, `matchers` and `rules` may depend on them. Persistence (`reconciler.db`), services,
settings, jobs and the CLI are the edges and live in their own modules.
"""

__version__ = "0.1.0"
