"""Diagnostics: data problems reported as values, not raised."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from reconciler.domain.pickling import pickled_by_fields


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A data problem, reported rather than raised. `where` is a line number or an XPath."""

    severity: Severity
    message: str
    where: str | None = None
    code: str | None = None  # stable machine-readable kind, e.g. "balance-mismatch"

    def as_dict(self) -> dict[str, str | None]:
        return {"severity": self.severity.value, "message": self.message, "where": self.where,
                "code": self.code}
