"""The money invariants, checked with plain SQL over what is stored (both dialects).

Each check returns a `Check`: a name, whether it holds, and a short detail (a figure, or the
first offending rows). They read the tables directly, not through the services, so a bug in
a service cannot hide its own traces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from reconciler import journal
from reconciler.db.session import Database

ZERO = Decimal(0)
SHOWN = 5  # offending rows named in a failed check's detail


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"  {'ok  ' if self.ok else 'FAIL'} {self.name}" + (
            f": {self.detail}" if self.detail else "")


def _rows(db: Database, sql: str, **params: object) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def scalar(db: Database, sql: str, **params: object) -> object:
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _none_found(name: str, rows: list[tuple[object, ...]], what: str) -> Check:
    if not rows:
        return Check(name, True)
    return Check(name, False, f"{len(rows)} {what}, e.g. {rows[:SHOWN]}")


# --- applications -----------------------------------------------------------------------


def no_double_application(db: Database) -> Check:
    """A payment has at most one live application (a live one is neither a reversal nor
    reversed), and every reversed application has exactly one reversal."""
    doubles = _rows(db, """
        SELECT transaction_id, COUNT(*) FROM applications
        WHERE reverses_id IS NULL AND reversed_by_id IS NULL
        GROUP BY transaction_id HAVING COUNT(*) > 1""")
    if doubles:
        return _none_found("no payment applied twice", doubles, "payments with 2+ live "
                           "applications (transaction_id, count)")
    orphans = _rows(db, """
        SELECT a.id FROM applications a
        LEFT JOIN applications r ON r.reverses_id = a.id
        WHERE (a.reversed_by_id IS NOT NULL AND r.id IS NULL)
           OR (a.reversed_by_id IS NULL AND r.id IS NOT NULL)""")
    live = scalar(db, """SELECT COUNT(*) FROM applications
                          WHERE reverses_id IS NULL AND reversed_by_id IS NULL""")
    if orphans:
        return _none_found("no payment applied twice", orphans,
                           "applications whose reversal link is one-sided")
    return Check("no payment applied twice", True, f"{live} live applications")


def applications_balance(db: Database) -> Check:
    """Per application: cash on items + bank charges + write-offs + unapplied = the payment
    (a reversal: minus the payment). A discount settles an item without cash, so it is left
    out; an application with no lines at all fails here too (half written)."""
    rows = _rows(db, """
        SELECT a.id, t.amount, COALESCE(SUM(l.amount), 0) FROM applications a
        JOIN transactions t ON t.id = a.transaction_id
        LEFT JOIN application_lines l ON l.application_id = a.id AND l.kind <> 'discount'
        GROUP BY a.id, a.reverses_id, t.amount
        HAVING COALESCE(SUM(l.amount), 0) <>
               CASE WHEN a.reverses_id IS NULL THEN t.amount ELSE -t.amount END""")
    count = scalar(db, "SELECT COUNT(*) FROM applications")
    if rows:
        return _none_found("applied + adjustments + unapplied = amount", rows,
                           "applications off balance (id, amount, lines)")
    return Check("applied + adjustments + unapplied = amount", True,
                 f"{count} applications balance")


def transaction_states(db: Database) -> Check:
    """`applied` / `on_account` exactly when the payment has a live application."""
    rows = _rows(db, """
        SELECT t.id, t.state, COUNT(a.id) FROM transactions t
        LEFT JOIN applications a ON a.transaction_id = t.id
             AND a.reverses_id IS NULL AND a.reversed_by_id IS NULL
        GROUP BY t.id, t.state
        HAVING (t.state IN ('applied', 'on_account')) <> (COUNT(a.id) = 1)""")
    return _none_found("transaction state agrees with its applications", rows,
                       "transactions (id, state, live applications)")


def items_consistent(db: Database) -> Check:
    """open amount = ERP open amount - every item/discount line on it (a reversal's lines
    carry the opposite sign, so only live applications count); never across zero; closed
    exactly at zero."""
    rows = _rows(db, """
        SELECT i.id, i.erp_open_amount, i.open_amount, COALESCE(SUM(l.amount), 0)
        FROM open_items i
        LEFT JOIN application_lines l ON l.item_id = i.id AND l.kind IN ('item', 'discount')
        GROUP BY i.id, i.erp_open_amount, i.open_amount
        HAVING i.open_amount <> i.erp_open_amount - COALESCE(SUM(l.amount), 0)""")
    if rows:
        return _none_found("item open = ERP open - live applications", rows,
                           "items (id, erp open, open, applied)")
    crossed = _rows(db, """
        SELECT id, erp_open_amount, open_amount FROM open_items
        WHERE (erp_open_amount >= 0 AND (open_amount < 0 OR open_amount > erp_open_amount))
           OR (erp_open_amount < 0 AND (open_amount > 0 OR open_amount < erp_open_amount))""")
    if crossed:
        return _none_found("item open = ERP open - live applications", crossed,
                           "items settled beyond their amount (id, erp open, open)")
    status = _rows(db, """
        SELECT id, open_amount, status FROM open_items
        WHERE (open_amount = 0) <> (status = 'closed')""")
    if status:
        return _none_found("item open = ERP open - live applications", status,
                           "items whose status disagrees with the open amount")
    settled = scalar(db, "SELECT COUNT(DISTINCT item_id) FROM application_lines "
                          "WHERE item_id IS NOT NULL")
    return Check("item open = ERP open - live applications", True,
                 f"{settled} items touched, none beyond its amount")


@dataclass(frozen=True, slots=True)
class Totals:
    payments: Decimal  # every credit that reached the matcher (booked, receivable)
    applied: Decimal  # cash settled on items by live applications
    adjustments: Decimal  # bank charges, write-offs
    unapplied_lines: Decimal  # overpayments kept on account by live applications
    not_applied: Decimal  # credits without a live application: still unapplied as a whole


def totals(db: Database) -> Totals:
    # SQLite keeps money as an integer count of 1/10,000ths (`reconciler.db.base.Money`).
    unit = Decimal("0.0001") if db.engine.dialect.name == "sqlite" else Decimal(1)

    def amount(sql: str) -> Decimal:
        return Decimal(str(scalar(db, sql) or 0)) * unit

    live = "a.reverses_id IS NULL AND a.reversed_by_id IS NULL"
    lines = ("SELECT COALESCE(SUM(l.amount), 0) FROM application_lines l "
             f"JOIN applications a ON a.id = l.application_id WHERE {live} AND ")
    return Totals(
        payments=amount("SELECT COALESCE(SUM(amount), 0) FROM transactions WHERE amount > 0 "
                        "AND state IN ('unreconciled', 'suggested', 'unmatched', 'applied', "
                        "'on_account')"),
        applied=amount(lines + "l.kind = 'item'"),
        adjustments=amount(lines + "l.kind IN ('bank_charge', 'write_off')"),
        unapplied_lines=amount(lines + "l.kind = 'unapplied'"),
        not_applied=amount(f"""SELECT COALESCE(SUM(t.amount), 0) FROM transactions t
            WHERE t.amount > 0 AND t.state IN ('unreconciled', 'suggested', 'unmatched')
            AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.transaction_id = t.id
                            AND {live})"""))


def totals_add_up(db: Database) -> Check:
    """Sum of payments = applied + adjustments + unapplied (on account, or not applied)."""
    t = totals(db)
    right = t.applied + t.adjustments + t.unapplied_lines + t.not_applied
    detail = (f"payments {t.payments:,.2f} = applied {t.applied:,.2f} + adjustments "
              f"{t.adjustments:,.2f} + on account {t.unapplied_lines:,.2f} + not applied "
              f"{t.not_applied:,.2f}")
    if right != t.payments:
        return Check("totals add up", False, f"{detail}: off by {t.payments - right}")
    return Check("totals add up", True, detail)


def journal_intact(db: Database) -> Check:
    """The hash chain verifies, and each application and reversal has its journal row."""
    with db.session() as session:
        report = journal.verify(session)
    if not report.ok:
        return Check("journal verifies", False, "; ".join(report.problems[:SHOWN]))
    created = scalar(db, "SELECT COUNT(*) FROM journal WHERE action = 'application.created'")
    applied = scalar(db, "SELECT COUNT(*) FROM applications WHERE reverses_id IS NULL")
    reversed_rows = scalar(db, "SELECT COUNT(*) FROM journal "
                                "WHERE action = 'application.reversed'")
    reversals = scalar(db, "SELECT COUNT(*) FROM applications WHERE reverses_id IS NOT NULL")
    if created != applied or reversed_rows != reversals:
        return Check("journal verifies", False,
                     f"{applied} applications but {created} application.created rows; "
                     f"{reversals} reversals but {reversed_rows} application.reversed rows")
    return Check("journal verifies", True, f"{report.rows} rows chained")


def money_checks(db: Database) -> list[Check]:
    return [no_double_application(db), applications_balance(db), transaction_states(db),
            items_consistent(db), totals_add_up(db), journal_intact(db)]


# --- imports ----------------------------------------------------------------------------


StatementKey = tuple[str, str, str, str]  # account, statement id, sequence, kind


def files_imported_once(db: Database, shas: Mapping[str, str]) -> Check:
    """Each bank file (sha256 -> name) is stored once or not at all, and a stored file has
    exactly one `bank_file.imported` journal row."""
    stored = _rows(db, "SELECT id, sha256, status FROM bank_files")
    by_sha: dict[str, int] = {}
    for _, sha, _ in stored:
        by_sha[str(sha)] = by_sha.get(str(sha), 0) + 1
    twice = [shas.get(sha, sha) for sha, n in by_sha.items() if n > 1]
    if twice:
        return Check("every file imported once or not at all", False, f"twice: {twice[:SHOWN]}")
    entries = _rows(db, "SELECT subject, COUNT(*) FROM journal "
                        "WHERE action = 'bank_file.imported' GROUP BY subject")
    journaled = {str(subject): int(str(n)) for subject, n in entries}
    wrong = [(file_id, journaled.get(f"bank_file:{file_id}", 0)) for file_id, _, status
             in stored if status == "imported" and journaled.get(f"bank_file:{file_id}") != 1]
    ghosts = sorted(set(journaled) - {f"bank_file:{file_id}" for file_id, _, _ in stored})
    if wrong or ghosts:
        return Check("every file imported once or not at all", False,
                     f"files without exactly one journal row {wrong[:SHOWN]}; "
                     f"journal rows without a file {ghosts[:SHOWN]}")
    unknown = [sha for sha in by_sha if sha not in shas]
    if unknown:
        return Check("every file imported once or not at all", False,
                     f"{len(unknown)} stored files that were never given")
    return Check("every file imported once or not at all", True,
                 f"{len(by_sha)} of {len(shas)} files stored")


def statements_complete(db: Database, expected: Mapping[StatementKey, int]) -> Check:
    """Every stored statement has all its transactions, and none is stored twice."""
    rows = _rows(db, """
        SELECT s.account, s.statement_id, s.sequence, s.kind, COUNT(t.id)
        FROM statements s LEFT JOIN transactions t ON t.statement_id = s.id
        GROUP BY s.id, s.account, s.statement_id, s.sequence, s.kind""")
    seen: dict[StatementKey, int] = {}
    wrong: list[tuple[object, ...]] = []
    for account, statement_id, sequence, kind, count in rows:
        key = (str(account), str(statement_id), str(sequence), str(kind))
        seen[key] = seen.get(key, 0) + 1
        if expected.get(key) != count:
            wrong.append((*key, count, expected.get(key)))
    twice = [key for key, n in seen.items() if n > 1]
    if wrong or twice:
        return Check("every statement has all its transactions", False,
                     f"incomplete (key, stored, expected) {wrong[:SHOWN]}; twice {twice[:SHOWN]}")
    transactions = sum(expected[key] for key in seen)
    return Check("every statement has all its transactions", True,
                 f"{len(seen)} of {len(expected)} statements, {transactions} transactions")


def csv_import_atomic(db: Database, table: str, key_column: str, keys: frozenset[str],
                      action: str) -> Check:
    """The rows of a master-data file are all there or none are, and they are there exactly
    when an import was journaled (a run killed after its commit may be run again: a second,
    unchanged import adds a second journal row, which is right)."""
    present = {str(r[0]) for r in _rows(db, f"SELECT {key_column} FROM {table}")}
    mine = present & keys
    journaled = int(str(scalar(db, "SELECT COUNT(*) FROM journal WHERE action = :a",
                                a=action)))
    name = f"{table} import all or nothing"
    if mine and mine != keys:
        return Check(name, False, f"{len(mine)} of {len(keys)} rows of the file stored")
    if bool(mine) != (journaled > 0):
        return Check(name, False, f"{len(mine)} rows stored, {journaled} {action} journal rows")
    return Check(name, True, f"{len(mine)} of {len(keys)} rows, {journaled} journal rows")


# --- postings and the outbox ------------------------------------------------------------


def postings_consistent(db: Database) -> Check:
    """Sequence numbers 1..n without a gap, one posting per application, each balanced."""
    rows = _rows(db, "SELECT sequence FROM postings ORDER BY sequence")
    sequences = [int(str(r[0])) for r in rows]
    if sequences != list(range(1, len(sequences) + 1)):
        return Check("postings gap-free", False, f"sequences {sequences[:10]}...")
    doubled = _rows(db, "SELECT application_id, COUNT(*) FROM postings "
                        "GROUP BY application_id HAVING COUNT(*) > 1")
    if doubled:
        return _none_found("postings gap-free", doubled, "applications posted twice")
    # Derived postings are journaled in the transaction that stores them (one row per
    # posting or per batch, as the outbox chooses): postings exist exactly when the journal
    # says some were created.
    created = int(str(scalar(db, "SELECT COUNT(*) FROM journal "
                                 "WHERE action = 'posting.created'")))
    if bool(created) != bool(sequences) or created > len(sequences):
        return Check("postings gap-free", False,
                     f"{len(sequences)} postings, {created} posting.created journal rows")
    return Check("postings gap-free", True, f"{len(sequences)} postings 1..{len(sequences)}")


def delivered_once(db: Database, sink: str, folder: Path, *, complete: bool) -> Check:
    """File sink: one file per posting, named by its sequence, holding exactly the stored
    payload (same posting_id: the idempotency key); every row marked delivered has its file;
    no file for a posting that does not exist. `complete`: every posting is delivered."""
    payloads = {int(str(seq)): _as_dict(payload) for seq, payload in _rows(
        db, "SELECT sequence, payload FROM postings")}
    states = {int(str(seq)): str(state) for seq, state in _rows(
        db, "SELECT sequence, state FROM outbox_deliveries WHERE sink = :s", s=sink)}
    files = sorted(folder.glob("posting-*.json")) if folder.is_dir() else []
    seen: dict[int, str] = {}
    problems: list[str] = []
    for path in files:
        body = json.loads(path.read_text(encoding="utf-8"))
        sequence = int(body["sequence"])
        if path.name != f"posting-{sequence:010d}.json":
            problems.append(f"{path.name} holds sequence {sequence}")
        if sequence in seen:
            problems.append(f"sequence {sequence} in {seen[sequence]} and {path.name}")
        seen[sequence] = path.name
        if payloads.get(sequence) != body:
            problems.append(f"{path.name} differs from stored posting {sequence}")
    delivered = {seq for seq, state in states.items() if state == "delivered"}
    missing = sorted(delivered - set(seen))
    if missing:
        problems.append(f"marked delivered without a file: {missing[:SHOWN]}")
    journaled = int(str(scalar(db, "SELECT COUNT(*) FROM journal WHERE action = "
                                    "'posting.delivered'")))
    if bool(journaled) != bool(delivered) or journaled > len(delivered):
        problems.append(f"{len(delivered)} delivered, {journaled} posting.delivered rows")
    if complete and (set(seen) != set(payloads) or delivered != set(payloads)):
        problems.append(f"{len(payloads)} postings, {len(seen)} files, "
                        f"{len(delivered)} marked delivered")
    parts = len(list(folder.glob(".*.part"))) if folder.is_dir() else 0
    name = "every posting delivered once" if complete else "deliveries match the files"
    if problems:
        return Check(name, False, "; ".join(problems[:SHOWN]))
    return Check(name, True, f"{len(seen)} files for {len(payloads)} postings, "
                             f"{len(delivered)} marked delivered"
                             + (f", {parts} unfinished .part file(s) ignored" if parts else ""))


def _as_dict(payload: object) -> dict[str, object]:
    if isinstance(payload, str):  # a JSON column read through text() on SQLite
        loaded: dict[str, object] = json.loads(payload)
        return loaded
    assert isinstance(payload, dict)
    return payload
