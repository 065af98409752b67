"""Streaming reader for the ERP's CSV exports: UTF-8 (with or without BOM), a header row.

The file is read twice, both times streamed: once for its sha256 (the journal names exactly
which bytes were imported) and its line count (for the progress bar), once for the rows.
Problems are collected, never raised one by one, so that a rejected file lists every bad row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from reconciler.errors import ImportRejectedError
from reconciler.progress import Progress

CsvSource = str | os.PathLike[str] | BinaryIO
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class CsvSpec:
    """The columns a file kind has: required ones must be in the header, optional ones may."""

    kind: str  # "customers", "open items": used in messages
    required: tuple[str, ...]
    optional: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FileFacts:
    sha256: str
    size: int
    lines: int


def source_name(source: CsvSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


@contextmanager
def open_binary(source: CsvSource) -> Iterator[BinaryIO]:
    if isinstance(source, (str, os.PathLike)):
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise ImportRejectedError(f"cannot read the file: {exc.strerror}", [],
                                      where=os.fspath(source)) from None
        with handle:
            yield handle
    else:
        source.seek(0)
        yield source


def file_facts(source: CsvSource) -> FileFacts:
    digest = hashlib.sha256()
    size = lines = 0
    with open_binary(source) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    return FileFacts(sha256=digest.hexdigest(), size=size, lines=lines)


def encoding_problem(source: CsvSource, filename: str) -> str | None:
    """Where the file stops being UTF-8: byte offset, line and the offending bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    line = 1
    with open_binary(source) as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return (f"{filename}: the file is UTF-16 (byte-order mark at byte 0); "
                    "export it as UTF-8")
        handle.seek(0)
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start
                line += chunk.count(b"\n", 0, exc.start)
                snippet = chunk[exc.start:exc.start + 4]
                return (f"{filename} line {line}: not UTF-8 at byte offset {bad} "
                        f"(bytes {snippet!r}); export the file as UTF-8")
            offset += len(chunk)
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return (f"{filename} line {line}: not UTF-8 at byte offset {offset}: the file ends "
                    "inside a multi-byte character")
    return None


class RowReader:
    """Iterates `(line_number, values)` over the data rows, after checking the header.

    Missing required columns reject the file at once (no row can be read without them);
    unknown columns are ignored with a warning. Rows with the wrong number of fields and
    CSV syntax errors are added to `problems` and skipped.
    """

    def __init__(self, source: CsvSource, filename: str, spec: CsvSpec,
                 problems: list[str], warnings: list[str]) -> None:
        self.source, self.filename, self.spec = source, filename, spec
        self.problems, self.warnings = problems, warnings
        self.columns: dict[str, int] = {}
        self.width = 0

    def index(self, name: str) -> int | None:
        return self.columns.get(name)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        with open_binary(self.source) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
            try:
                yield from self._rows(csv.reader(text, strict=True))
            except UnicodeDecodeError:
                problem = encoding_problem(self.source, self.filename)
                raise ImportRejectedError("the file is not UTF-8",
                                          [problem or f"{self.filename}: not UTF-8"],
                                          where=self.filename) from None
            finally:
                text.detach()

    def _rows(self, reader: Any) -> Iterator[tuple[int, list[str]]]:
        # `reader.line_num` counts physical lines, so a quoted line break inside a field
        # still gives the right line number for the rows after it.
        header = self._read_header(reader)
        self.width = len(header)
        previous_end: int = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line: int = reader.line_num
                self.problems.append(f"{self.filename} line {line}: CSV syntax error: {exc}")
                if "NUL" in str(exc) or "unexpected end of data" in str(exc):
                    return  # the reader cannot resynchronise after these
                previous_end = line
                continue
            start = previous_end + 1
            previous_end = reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) != self.width:
                self.problems.append(
                    f"{self.filename} line {start}: {len(values)} fields, the header has "
                    f"{self.width}")
                continue
            yield start, values

    def _read_header(self, reader: Iterator[list[str]]) -> list[str]:
        try:
            header = next(reader)
        except StopIteration:
            raise ImportRejectedError("the file is empty: no header row",
                                      [f"{self.filename}: empty file, expected a header row"],
                                      where=self.filename) from None
        except csv.Error as exc:
            raise ImportRejectedError("the header row cannot be read",
                                      [f"{self.filename} line 1: {exc}"],
                                      where=self.filename) from None
        names = [name.strip().lower() for name in header]
        if len(names) == 1 and ";" in names[0]:
            raise ImportRejectedError(
                "the file is not comma-separated",
                [f"{self.filename} line 1: the header is one column {header[0]!r}; "
                 "the file must be comma-separated"], where=self.filename)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ImportRejectedError(
                f"duplicate column(s) {', '.join(duplicates)}",
                [f"{self.filename} line 1: column {n!r} appears more than once"
                 for n in duplicates], where=self.filename)
        missing = [n for n in self.spec.required if n not in names]
        if missing:
            raise ImportRejectedError(
                f"required column(s) missing: {', '.join(missing)}",
                [f"{self.filename} line 1: required column {n!r} is missing" for n in missing],
                where=self.filename)
        known = set(self.spec.required) | set(self.spec.optional)
        for name in names:
            if name not in known:
                self.warnings.append(f"{self.filename}: column {name!r} is not part of the "
                                     f"{self.spec.kind} format and is ignored")
        self.columns = {name: i for i, name in enumerate(names) if name in known}
        return names


@dataclass(slots=True)
class Intake:
    """The start of every CSV import: the file's name and facts, and a reader that collects
    problems (reject the file) and warnings (report them) as the rows stream past."""

    name: str
    facts: FileFacts
    reader: RowReader
    problems: list[str]
    warnings: list[str]


def open_intake(source: CsvSource, filename: str | None, spec: CsvSpec,
                progress: Progress | None) -> Intake:
    name = filename or source_name(source)
    facts = file_facts(source)
    if progress is not None and progress.total is None:
        progress.total = max(facts.lines - 1, 0)  # the header is not a row
    problems: list[str] = []
    warnings: list[str] = []
    return Intake(name, facts, RowReader(source, name, spec, problems, warnings), problems,
                  warnings)
