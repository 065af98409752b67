"""Bank statement import: raw file in, statements and transactions stored, once.

Rules, in the order a file meets them:

- **Same bytes twice.** The raw file is stored content-addressed (sha256) in `bank_files`.
  The same bytes again return status `duplicate` and change nothing at all: no row, no
  journal entry. A file that was quarantined is parsed again when it arrives again (the
  parser may have been fixed since); if it still fails it stays quarantined, unchanged.
- **Unreadable file.** A `ParseError` (or any failure inside the parser, or a value the
  database cannot hold) quarantines the file: its row keeps the raw bytes, status
  `quarantined` and the error; a copy goes to `quarantine_dir` when one is given. It never
  stops the next file.
- **Same statement in another file.** A statement whose key (account, statement id,
  sequence, kind, closing date) is already stored adds nothing and is counted as duplicate;
  if its entries differ from the stored ones (count or sum) a warning says so, because a
  bank that re-uses a statement id for other entries needs a person to look. A statement
  without an id or an account has no key that identifies it and is never taken for a
  duplicate (its entries still link by bank reference). Some banks repeat the same key for
  several statements of one file (old Rabobank MT940: `:28C:00000/00`); the second and later
  get `#2`, `#3` ... appended to their sequence, so nothing of the file is dropped and the
  same file delivered again still finds them.
- **Same entry in two messages.** A camt.054 advice and the camt.053 statement that books it
  (or an MT940 and a camt.053 of the same account) carry the same bank reference
  (`AcctSvcrRef`). The transaction that arrives later gets state `linked` and `linked_to_id`
  naming the first, so the payment is matched once. A link needs the same account, currency,
  amount and bank-given reference and the same value or booking date; derived references never
  link. A booked entry never links to a pending or information-only one (the booked one is
  the real payment).
- **Initial state.** Booked credits start `unreconciled` (they go to the matchers). Debits
  and zero amounts are `not_receivable`; reversals and returned payments too, whatever their
  sign (they are not a customer paying). Pending and information-only credits are `pending`:
  they are not on the ledger yet and are not matched; the booked entry that follows is.
- **References.** `bank_reference` is never empty: where the bank gave none, a stable id is
  derived from account, date, amount, position and statement id, prefixed `X-`, and
  `details["bank_reference_derived"]` says so.

One file is one database transaction with one journal row (`bank_file.imported` or
`bank_file.quarantined`). `balance_ok` is the parser's own balance check for the statement
(None when the statement has no opening/closing pair, as most camt.054 and camt.052).
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import os
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

import parsers
from parsers.checks import check_balance
from reconciler import journal
from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.session import Database
from reconciler.domain import (
    Diagnostic,
    EntryStatus,
    ParseResult,
    Severity,
    Statement,
    Transaction,
)
from reconciler.errors import ParseError
from reconciler.forked import ForkedCall, can_fork
from reconciler.heap import collector_paused
from reconciler.mapping import DERIVED_REFERENCE, charges_amount, transaction_details
from reconciler.masterdata.bulk import BulkStatement

IMPORTED, DUPLICATE, QUARANTINED = "imported", "duplicate", "quarantined"
_REF_CHUNK = 500
# Files parsed by forked children while this process stores one: two keep both cores busy
# when the files differ in size, and bound the parsed files held at once.
_PARSED_AHEAD = 2


@dataclass(frozen=True, slots=True)
class FileImportResult:
    file_id: int | None
    sha256: str
    status: str  # imported | duplicate | quarantined
    format: str | None
    statements_new: int = 0
    statements_duplicate: int = 0
    transactions_new: int = 0
    transactions_linked: int = 0
    diagnostics: tuple[Diagnostic, ...] = ()
    message: str = ""
    filename: str = ""


def initial_state(tx: Transaction) -> str:
    """Where a freshly imported transaction starts (see the module docstring)."""
    if tx.amount <= 0:
        return "not_receivable"
    if tx.status is not EntryStatus.BOOKED:
        return "pending"
    if tx.is_reversal or tx.return_reason:
        return "not_receivable"
    return "unreconciled"


MB = 1024 * 1024


def derive_reference(account: str, tx: Transaction, position: int,
                     statement_id: str | None) -> str:
    """A stable id for a transaction the bank gave no reference: same input, same id."""
    day = tx.booking_date or tx.value_date
    seed = f"{account}|{day}|{tx.amount:f}|{position}|{statement_id or ''}"
    return "X-" + hashlib.sha1(seed.encode()).hexdigest()[:16]


def import_file(db: Database, data: bytes, filename: str, *, source: str | None = None,
                actor: str = "system:import", quarantine_dir: Path | None = None,
                max_bytes: int | None = None) -> FileImportResult:
    """Import one bank file (any format `parsers.parse` reads); idempotent.

    A file over `max_bytes` is quarantined unread, its bytes not kept (only its hash)."""
    return _import(db, data, filename, hashlib.sha256(data).hexdigest(), None, source=source,
                   actor=actor, quarantine_dir=quarantine_dir, max_bytes=max_bytes)


def import_files(db: Database, files: Iterable[tuple[str, bytes]], *,
                 source: str | None = None, actor: str = "system:import",
                 quarantine_dir: Path | None = None, max_bytes: int | None = None,
                 ) -> Generator[FileImportResult, None, None]:
    """Import several bank files (name, bytes) in order, each exactly as `import_file` would;
    yields each file's result as soon as the file is stored.

    Parsing is most of a camt file's import and needs no database: forked children parse the
    next two files while this process stores the current one, so the second core works all
    the time (with one child, storing a small file left this process waiting for the parse
    of the next, larger one). Each file stays its own transaction, decided here in its turn,
    so a duplicate, a broken file or one over `max_bytes` comes out as on its own. `files` is
    read two files ahead. A single file, or a platform without `fork`, is imported in this
    process, and so is any file whose child fails to deliver."""
    items = iter(files)
    first = list(itertools.islice(items, 2))
    if len(first) < 2 or not can_fork():
        for filename, data in itertools.chain(first, items):
            yield import_file(db, data, filename, source=source, actor=actor,
                              quarantine_dir=quarantine_dir, max_bytes=max_bytes)
        return
    # The first file is parsed here while the children parse the next ones.
    filename, data = first[0]
    waiting = collections.deque([_Ahead(filename, data, hashlib.sha256(data).hexdigest(),
                                        None)])
    shas = {waiting[0].sha}
    try:
        for filename, data in itertools.chain(first[1:], items):
            waiting.append(_parse_ahead(db, filename, data, max_bytes, shas))
            if len(waiting) > _PARSED_AHEAD:
                done = waiting.popleft()
                yield _import(db, done.data, done.filename, done.sha, done.outcome(),
                              source=source, actor=actor, quarantine_dir=quarantine_dir,
                              max_bytes=max_bytes)
        while waiting:
            done = waiting.popleft()
            yield _import(db, done.data, done.filename, done.sha, done.outcome(),
                          source=source, actor=actor, quarantine_dir=quarantine_dir,
                          max_bytes=max_bytes)
    finally:
        for ahead in waiting:  # the batch was abandoned: these parses are no longer wanted
            ahead.stop()


@dataclass(slots=True)
class _Ahead:
    """A file waiting for its import, and the child parsing it, if any."""

    filename: str
    data: bytes
    sha: str
    child: ForkedCall[ParseOutcome] | None

    def outcome(self) -> ParseOutcome | None:
        """The child's parse outcome; None (the import parses itself) if the child gave none."""
        child, self.child = self.child, None
        if child is None:
            return None
        with collector_paused():  # a tree of fresh objects without cycles: nothing to collect
            return child.result()

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
            self.child = None


def _parse_ahead(db: Database, filename: str, data: bytes, max_bytes: int | None,
                 shas: set[str]) -> _Ahead:
    """Fork a child to parse the file (`reconciler.forked`) unless its import will not need
    it: over the size limit, already stored (a duplicate is not parsed), or the same bytes as
    a file earlier in the batch. The import decides those again, in its transaction; the
    check only saves work. Pickling the outcome costs a tenth of the parse."""
    sha = hashlib.sha256(data).hexdigest()
    ahead = _Ahead(filename, data, sha, None)
    if (max_bytes is not None and len(data) > max_bytes) or sha in shas:
        return ahead
    shas.add(sha)
    with db.session() as session:
        status = session.scalar(select(BankFileRow.status).where(BankFileRow.sha256 == sha))
    if status is not None and status != QUARANTINED:
        return ahead
    ahead.child = ForkedCall(parse_outcome, data, filename,
                             name=f"parse {os.path.basename(filename)}")
    return ahead


def _import(db: Database, data: bytes, filename: str, sha: str, parsed: ParseOutcome | None,
            *, source: str | None, actor: str, quarantine_dir: Path | None,
            max_bytes: int | None) -> FileImportResult:
    """`import_file`, with the file's parse outcome when a worker has made it already."""
    with collector_paused():  # the file's rows: many objects, no cycles
        return _import_paused(db, data, filename, sha, parsed, source=source, actor=actor,
                              quarantine_dir=quarantine_dir, max_bytes=max_bytes)


def _import_paused(db: Database, data: bytes, filename: str, sha: str,
                   parsed: ParseOutcome | None, *, source: str | None, actor: str,
                   quarantine_dir: Path | None, max_bytes: int | None) -> FileImportResult:
    if max_bytes is not None and len(data) > max_bytes:
        error = (f"{filename}: {len(data) / MB:,.1f} MB is over the limit of "
                 f"{max_bytes / MB:,.0f} MB (setting max_file_mb): not read")
        with db.transaction() as session:
            existing = session.scalars(
                select(BankFileRow).where(BankFileRow.sha256 == sha)).one_or_none()
            return _quarantine(session, existing, b"", filename, sha, source, actor, error,
                               None, size=len(data))
    for attempt in range(2):
        try:
            return _import_once(db, data, filename, sha, source, actor, quarantine_dir,
                                parsed)
        except sa_exc.IntegrityError:
            # A concurrent worker stored the same file or statement first. On the second
            # pass its rows are visible and the file reads as (partly) duplicate.
            if attempt:
                raise
        except (sa_exc.StatementError, OverflowError) as exc:
            # Parsed, but the database refuses a value (an amount beyond NUMERIC(19, 4)):
            # the file is as unusable as an unparseable one and must not stop the others.
            cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
            error = f"cannot be stored: {type(cause).__name__}: {str(cause)[:300]}"
            with db.transaction() as session:
                existing = session.scalars(
                    select(BankFileRow).where(BankFileRow.sha256 == sha)).one_or_none()
                return _quarantine(session, existing, data, filename, sha, source, actor,
                                   error, quarantine_dir)
    raise AssertionError("unreachable")


def _import_once(db: Database, data: bytes, filename: str, sha: str, source: str | None,
                 actor: str, quarantine_dir: Path | None,
                 parsed: ParseOutcome | None) -> FileImportResult:
    with db.transaction() as session:
        existing = session.scalars(select(BankFileRow).where(BankFileRow.sha256 == sha)
                                   ).one_or_none()
        if existing is not None and existing.status != QUARANTINED:
            return FileImportResult(
                existing.id, sha, DUPLICATE, existing.format, filename=filename,
                message=f"same bytes as file {existing.id} ({existing.filename}, "
                        f"{existing.status} {existing.received_at:%Y-%m-%d %H:%M}); nothing new")
        outcome = parse_outcome(data, filename) if parsed is None else parsed
        if isinstance(outcome, str):
            return _quarantine(session, existing, data, filename, sha, source, actor, outcome,
                               quarantine_dir)
        return _store(session, existing, data, filename, sha, source, actor, outcome)


ParseOutcome = ParseResult | str  # the statements, or why the file is quarantined


def parse_outcome(data: bytes, filename: str) -> ParseOutcome:
    """What the import makes of a file's bytes: its statements, or the quarantine reason.

    Pure (no database), so a forked worker can run it for the next file of a batch and send
    the outcome back pickled; an error is sent as its message, which always pickles."""
    name = os.path.basename(filename) or filename
    try:
        result = parsers.parse(data, filename=name)
        if not result.statements:
            raise ParseError("no statement found in the file", where=name)
    except Exception as exc:  # a parser bug must not stop the other files either
        return str(exc) if isinstance(exc, ParseError) else (
            f"parser failure: {type(exc).__name__}: {exc}")
    return result


def _quarantine(session: Session, existing: BankFileRow | None, data: bytes, filename: str,
                sha: str, source: str | None, actor: str, error: str,
                quarantine_dir: Path | None, *, size: int | None = None) -> FileImportResult:
    if existing is not None:
        return FileImportResult(existing.id, sha, QUARANTINED, None, filename=filename,
                                message=f"still unreadable (file {existing.id}): {error}")
    row = BankFileRow(sha256=sha, filename=filename[-255:], source=source, format=None,
                      size=len(data) if size is None else size, content=data,
                      status=QUARANTINED, error=error,
                      diagnostics=[])
    session.add(row)
    session.flush()
    journal.record(session, actor=actor, action="bank_file.quarantined",
                   subject=f"bank_file:{row.id}", reason=error[:2000],
                   data={"filename": filename, "sha256": sha, "source": source})
    if quarantine_dir is not None:
        quarantine_dir.mkdir(parents=True, exist_ok=True)
        target = quarantine_dir / f"{sha[:12]}-{os.path.basename(filename) or 'file'}"
        target.write_bytes(data)
    return FileImportResult(row.id, sha, QUARANTINED, None, filename=filename,
                            message=error)


@dataclass(slots=True)
class _Counts:
    statements_new: int = 0
    statements_duplicate: int = 0
    transactions_new: int = 0
    transactions_linked: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _store(session: Session, existing: BankFileRow | None, data: bytes, filename: str,
           sha: str, source: str | None, actor: str, result: ParseResult) -> FileImportResult:
    if existing is not None:  # a quarantined file that now parses
        row = existing
        row.status, row.error, row.format = IMPORTED, None, result.format[:40]
    else:
        row = BankFileRow(sha256=sha, filename=filename[-255:], source=source,
                          format=result.format[:40], size=len(data), content=data,
                          status=IMPORTED, error=None, diagnostics=[])
        session.add(row)
    session.flush()
    counts = _Counts(diagnostics=list(result.diagnostics))
    keys_in_file: dict[tuple[object, ...], int] = {}
    for statement in result.statements:
        _store_statement(session, row.id, statement, counts, keys_in_file)
    row.diagnostics = [d.as_dict() for d in counts.diagnostics]
    message = (f"{counts.statements_new} statement(s) new"
               + (f", {counts.statements_duplicate} already imported"
                  if counts.statements_duplicate else "")
               + f"; {counts.transactions_new} transaction(s) new"
               + (f", {counts.transactions_linked} linked to entries imported before"
                  if counts.transactions_linked else ""))
    errors = sum(1 for d in counts.diagnostics if d.severity is Severity.ERROR)
    journal.record(session, actor=actor, action="bank_file.imported",
                   subject=f"bank_file:{row.id}", reason=message,
                   data={"filename": filename, "sha256": sha, "source": source,
                         "format": result.format, "statements_new": counts.statements_new,
                         "statements_duplicate": counts.statements_duplicate,
                         "transactions_new": counts.transactions_new,
                         "transactions_linked": counts.transactions_linked,
                         "diagnostics": len(counts.diagnostics), "errors": errors,
                         "retried_after_quarantine": existing is not None})
    session.flush()
    return FileImportResult(row.id, sha, IMPORTED, result.format,
                            statements_new=counts.statements_new,
                            statements_duplicate=counts.statements_duplicate,
                            transactions_new=counts.transactions_new,
                            transactions_linked=counts.transactions_linked,
                            diagnostics=tuple(counts.diagnostics), message=message,
                            filename=filename)


def _store_statement(session: Session, file_id: int, statement: Statement, counts: _Counts,
                     keys_in_file: dict[tuple[object, ...], int]) -> None:
    where = statement.source_line
    account = _fit(statement.account or "", 64, "account", where, counts)
    statement_id = _fit(statement.statement_id or "", 64, "statement id", where, counts)
    sequence = _fit(statement.sequence or "", 32, "sequence", where, counts)
    kind = statement.kind.value
    key = (account, statement_id, sequence, kind, statement.closing_date)
    repeat = keys_in_file.get(key, 0) + 1
    keys_in_file[key] = repeat
    if repeat > 1:
        suffix = f"#{repeat}"
        sequence = sequence[:32 - len(suffix)] + suffix
        counts.diagnostics.append(Diagnostic(
            Severity.INFO, f"statement {statement_id or '?'} of account {account or '?'}: the "
            f"file has {repeat} statements with this key; stored with sequence {sequence!r}",
            where, "statement-key-repeated"))
    if account and statement_id and _is_duplicate(session, statement, account, statement_id,
                                                  sequence, kind, counts):
        return
    has_balances = (statement.opening_balance is not None
                    and statement.closing_balance is not None)
    stored = StatementRow(
        file_id=file_id, kind=kind, account=account, currency=statement.currency[:3],
        statement_id=statement_id, sequence=sequence,
        opening_balance=statement.opening_balance, closing_balance=statement.closing_balance,
        opening_date=statement.opening_date, closing_date=statement.closing_date,
        balance_ok=(check_balance(statement) is None) if has_balances else None)
    session.add(stored)
    session.flush()
    counts.statements_new += 1
    rows = [_transaction_row(stored.id, account, tx, position, statement, counts)
            for position, tx in enumerate(statement.transactions, start=1)]
    # Links are decided before the insert: the entries they point to are all stored already
    # (earlier files, earlier statements of this file), never in this statement.
    counts.transactions_linked += _link_to_earlier(session, account, rows)
    _insert_transactions(session, rows)
    counts.transactions_new += len(rows)


_TRANSACTIONS = cast(Table, TransactionRow.__table__)
_TRANSACTION_COLUMNS = (
    "statement_id", "position", "account", "amount", "currency", "booking_date", "value_date",
    "bank_reference", "end_to_end_id", "entry_reference", "counterparty_name",
    "counterparty_iban", "counterparty_bic", "ultimate_debtor", "creditor_reference",
    "remittance_text", "bank_transaction_code", "entry_status", "return_reason",
    "charges_amount", "is_reversal", "details", "raw", "state", "linked_to_id")


def _insert_transactions(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """One executemany for the statement's entries: a bank file holds tens of thousands, and
    the ORM's per-object bookkeeping was most of the import's time."""
    if rows:
        BulkStatement(session.connection(), insert(_TRANSACTIONS), _TRANSACTION_COLUMNS
                      ).execute(rows)


def _is_duplicate(session: Session, statement: Statement, account: str, statement_id: str,
                  sequence: str, kind: str, counts: _Counts) -> bool:
    closing = (StatementRow.closing_date.is_(None) if statement.closing_date is None
               else StatementRow.closing_date == statement.closing_date)
    stored = session.scalars(select(StatementRow).where(
        StatementRow.account == account, StatementRow.statement_id == statement_id,
        StatementRow.sequence == sequence, StatementRow.kind == kind, closing)).first()
    if stored is None:
        return False
    counts.statements_duplicate += 1
    label = (f"statement {statement_id} of account {account} ({kind}, closing "
             f"{statement.closing_date or '-'})")
    counts.diagnostics.append(Diagnostic(
        Severity.INFO, f"{label} was imported before (file {stored.file_id}); its entries are "
        "not added again", statement.source_line, "statement-duplicate"))
    old_count, old_sum = session.execute(
        select(func.count(TransactionRow.id), func.sum(TransactionRow.amount))
        .where(TransactionRow.statement_id == stored.id)).one()
    new_sum = sum((t.amount for t in statement.transactions), Decimal(0))
    if old_count != len(statement.transactions) or (old_sum or Decimal(0)) != new_sum:
        counts.diagnostics.append(Diagnostic(
            Severity.WARNING, f"{label} differs from the one imported before: "
            f"{len(statement.transactions)} entries summing to {new_sum} now, {old_count} "
            f"summing to {old_sum or 0} then; the new entries were NOT added - ask the bank",
            statement.source_line, "statement-conflict"))
    return True


def _transaction_row(statement_pk: int, account: str, tx: Transaction, position: int,
                     statement: Statement, counts: _Counts) -> dict[str, Any]:
    derived = tx.bank_reference is None or ("bank_reference_derived", "true") in tx.extra
    reference = tx.bank_reference or derive_reference(account, tx, position,
                                                      statement.statement_id)
    row: dict[str, Any] = {
        "statement_id": statement_pk, "position": position, "account": account,
        "amount": tx.amount, "currency": tx.currency[:3], "booking_date": tx.booking_date,
        "value_date": tx.value_date, "bank_reference": reference,
        "end_to_end_id": tx.end_to_end_id, "entry_reference": tx.entry_reference,
        "counterparty_name": tx.counterparty_name, "counterparty_iban": tx.counterparty_iban,
        "counterparty_bic": tx.counterparty_bic, "ultimate_debtor": tx.ultimate_debtor,
        "creditor_reference": tx.creditor_reference, "remittance_text": tx.remittance_text,
        "bank_transaction_code": tx.bank_transaction_code, "entry_status": tx.status.value,
        "return_reason": tx.return_reason, "charges_amount": charges_amount(tx),
        "is_reversal": tx.is_reversal,
        "details": transaction_details(tx, derived_reference=derived), "raw": tx.raw,
        "state": initial_state(tx), "linked_to_id": None,
    }
    for column, limit, label in _COLUMN_LIMITS:
        value = row[column]
        if value is not None and len(value) > limit:
            row[column] = _fit(value, limit, label, tx.source_line, counts)
    return row


# Text columns with a length limit, in the order their warnings are listed.
_COLUMN_LIMITS = (
    ("bank_reference", 128, "bank reference"), ("end_to_end_id", 128, "end-to-end id"),
    ("entry_reference", 128, "entry reference"), ("counterparty_name", 200, "counterparty name"),
    ("counterparty_iban", 64, "counterparty account"),
    ("counterparty_bic", 11, "counterparty BIC"), ("ultimate_debtor", 200, "ultimate debtor"),
    ("creditor_reference", 64, "creditor reference"),
    ("bank_transaction_code", 64, "transaction code"), ("return_reason", 64, "return reason"))


def _fit(value: str, limit: int, label: str, where: str | None, counts: _Counts) -> str:
    """Cut a value longer than its column, saying so: the full text stays in `raw`."""
    if len(value) <= limit:
        return value
    counts.diagnostics.append(Diagnostic(
        Severity.WARNING, f"{label} longer than {limit} characters, stored cut: {value!r}",
        where, "field-truncated"))
    return value[:limit]


_EARLIER_COLUMNS = (TransactionRow.id, TransactionRow.bank_reference, TransactionRow.amount,
                    TransactionRow.currency, TransactionRow.value_date,
                    TransactionRow.booking_date, TransactionRow.entry_status,
                    TransactionRow.details)


def _link_to_earlier(session: Session, account: str, rows: Sequence[dict[str, Any]]) -> int:
    """Mark the entries already stored from another message as `linked` (see the docstring).

    The earlier entries are fetched by reference in chunks (one query per few hundred
    entries, not one per entry)."""
    candidates = [r for r in rows if not r["details"].get(DERIVED_REFERENCE)]
    if not candidates:
        return 0
    earlier: dict[tuple[str, Decimal, str], list[Any]] = {}  # rows of _EARLIER_COLUMNS
    references = sorted({r["bank_reference"] for r in candidates})
    for start in range(0, len(references), _REF_CHUNK):
        chunk = references[start:start + _REF_CHUNK]
        found = session.execute(select(*_EARLIER_COLUMNS).where(
            TransactionRow.account == account, TransactionRow.bank_reference.in_(chunk),
            TransactionRow.linked_to_id.is_(None),
        ).order_by(TransactionRow.id))
        for old in found:
            if (old.details or {}).get(DERIVED_REFERENCE):
                continue
            earlier.setdefault((old.bank_reference, old.amount, old.currency), []).append(old)
    if not earlier:
        return 0
    linked = 0
    booked = EntryStatus.BOOKED.value
    for row in candidates:
        for old in earlier.get((row["bank_reference"], row["amount"], row["currency"]), []):
            if not _same_day(row, old):
                continue
            if row["entry_status"] == booked and old.entry_status != booked:
                continue  # the booked entry is the real payment; it is matched, not the advice
            row["state"], row["linked_to_id"] = "linked", old.id
            linked += 1
            break
    return linked


def _same_day(new: dict[str, Any], old: Any) -> bool:
    if new["value_date"] is not None and old.value_date is not None:
        return bool(new["value_date"] == old.value_date)
    if new["booking_date"] is not None and old.booking_date is not None:
        return bool(new["booking_date"] == old.booking_date)
    return True  # no date pair to compare: the reference, amount and account decide
