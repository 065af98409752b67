"""What an import did, and the one journal row that records it.

An import is one decision: "take this ERP export as the truth". It is therefore one database
transaction and one journal row (actor, file name, sha256, counts and, for imports that
changed fewer than `KEYS_IN_JOURNAL` records, the changed keys), not one journal row per
record: a million journal rows would make the nightly open-item import take longer than the
night, and the sha256 names exactly which bytes were applied, so the file itself is the detail.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from reconciler import journal

KEYS_IN_JOURNAL = 1000
_CHANGES: tuple[str, ...] = ("inserted", "updated", "closed")


@dataclass(frozen=True, slots=True)
class ImportSummary:
    kind: str  # "customers" | "open_items"
    filename: str
    sha256: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    closed: int
    warnings: tuple[str, ...] = ()

    def line(self) -> str:
        return (f"{self.filename}: {self.rows} rows: {self.inserted} inserted, "
                f"{self.updated} updated, {self.unchanged} unchanged, {self.closed} closed, "
                f"{len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}")


def _empty_keys() -> dict[str, list[str]]:
    return {change: [] for change in _CHANGES}


@dataclass(slots=True)
class Tally:
    """Counts and changed keys, filled while the rows stream past. Keys are kept only while
    fewer than `KEYS_IN_JOURNAL` records changed: a million keys would only be dropped."""

    rows: int = 0
    unchanged: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_CHANGES, 0))
    keys: dict[str, list[str]] | None = field(default_factory=_empty_keys)

    def add(self, change: str, key: str | tuple[str, ...]) -> None:
        """`change` is "inserted", "updated" or "closed"; a key of several parts (entity,
        document number) is written "MAIN/INV-1", only while keys are still kept."""
        self.counts[change] += 1
        if self.keys is not None:
            if self.changed >= KEYS_IN_JOURNAL:
                self.keys = None
            else:
                self.keys[change].append(key if isinstance(key, str) else "/".join(key))

    @property
    def changed(self) -> int:
        return sum(self.counts.values())

    def summary(self, kind: str, filename: str, sha256: str,
                warnings: list[str]) -> ImportSummary:
        return ImportSummary(kind=kind, filename=filename, sha256=sha256, rows=self.rows,
                             inserted=self.counts["inserted"], updated=self.counts["updated"],
                             unchanged=self.unchanged, closed=self.counts["closed"],
                             warnings=tuple(warnings))


def record_import(session: Session, summary: ImportSummary, tally: Tally, *, actor: str,
                  extra: dict[str, object] | None = None) -> None:
    data: dict[str, object] = {
        "file": summary.filename, "sha256": summary.sha256, "rows": summary.rows,
        "inserted": summary.inserted, "updated": summary.updated,
        "unchanged": summary.unchanged, "closed": summary.closed,
        "warnings": len(summary.warnings),
    }
    # None when too many changed to list: the file's sha256 names them all.
    data["changed_keys"] = tally.keys
    data.update(extra or {})
    journal.record(session, actor=actor, action=f"import.{summary.kind}",
                   subject=f"file:{os.path.basename(summary.filename)[:190]}",
                   reason=f"ERP master-data import ({summary.kind})", data=data)
