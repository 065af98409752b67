"""One exception hierarchy for the whole server.

Data problems found while reading input (a bad CSV row, an unbalanced statement) are values
(`Diagnostic`), collected and reported together. An exception means the operation as a whole
cannot go on: the caller rolls back and reports it.
"""

from __future__ import annotations


class ReconError(Exception):
    """Base of every error the server raises on purpose."""


class ConfigError(ReconError):
    """The settings file or an environment variable is wrong."""


class InputError(ReconError):
    """An input file or request is unusable; `where` names the place (file, line, XPath)."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.where = where


class ParseError(InputError):
    """A bank file cannot be parsed at all."""


class ImportRejectedError(InputError):
    """A CSV import was rejected whole; `problems` lists every bad row."""

    def __init__(self, message: str, problems: list[str], *, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.problems = problems


class NotFoundError(ReconError):
    """A record named by the caller does not exist."""


class ConflictError(ReconError):
    """The operation contradicts the current state (item already settled, stale decision)."""


class PermissionDeniedError(ReconError):
    """The acting user's role does not allow the operation."""


class IntegrityError(ReconError):
    """Stored data breaks an invariant (a journal hash chain that does not verify)."""
