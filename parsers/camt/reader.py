"""Streaming CAMT reader: constant memory whatever the file size.

lxml's `iterparse` builds the tree as it reads; we look at each `Ntry` when it is complete,
turn it into transactions, and drop it, so a 500 MB camt.053 with a million entries never
holds more than one entry and the statement header. The header (account, balances,
`TxsSummry`) precedes the entries in every CAMT version, so it is read when the first entry
ends.

Hostile XML is refused, not defused: a bank file has no business carrying a DOCTYPE, so any
DTD or entity declaration (billion laughs, external entities reaching for files or the
network) is a ParseError before a single entity is considered. Entities are never resolved,
the network is never touched, and libxml2's default depth and size limits stay on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from lxml import etree

from parsers.camt.entry import EntryContext, read_entry
from parsers.camt.fields import (
    Element,
    Node,
    date_choice,
    local_name,
    namespace_of,
    parse_amount,
    parse_date,
    parse_datetime,
    signed,
    where,
)
from reconciler.domain.bank import Statement, StatementKind, Transaction
from reconciler.domain.common import Diagnostic, Severity
from reconciler.errors import InputError, ParseError

# Message element -> (message number, statement element). `V01` names are camt.05x.001.01.
MESSAGES = {"BkToCstmrStmt": ("053", "Stmt"), "BkToCstmrAcctRpt": ("052", "Rpt"),
            "BkToCstmrDbtCdtNtfctn": ("054", "Ntfctn")}
STATEMENT_KINDS = {"Stmt": StatementKind.STATEMENT, "Rpt": StatementKind.REPORT,
                   "Ntfctn": StatementKind.NOTIFICATION}
_TAGS = ["{*}Ntry", "{*}GrpHdr", *(f"{{*}}{n}" for n in STATEMENT_KINDS),
         *(f"{{*}}{m}" for m in MESSAGES), *(f"{{*}}{m}V01" for m in MESSAGES)]
_VERSION = re.compile(r"camt\.(05[234])\.001\.(\d{2})")
_PROLOG_SCAN = 1024 * 1024
# North American banks (BMO) put BAI2 balance type codes in `Prtry`: 010 is the opening
# ledger balance, 015 the closing ledger balance; the others (040, 045, 072...) are
# available or float balances that entries do not add up to.
_PROPRIETARY_BALANCES = {"OPBD": "OPBD", "PRCD": "PRCD", "CLBD": "CLBD",
                         "010": "OPBD", "015": "CLBD"}


@dataclass(frozen=True, slots=True)
class StatementStart:
    """A statement begins; `statement` is its header (no transactions yet)."""

    statement: Statement


@dataclass(frozen=True, slots=True)
class StatementEnd:
    statement: Statement


CamtEvent = StatementStart | Transaction | Diagnostic | StatementEnd


class CamtReader:
    """Iterate a CAMT file as events: StatementStart, Transaction / Diagnostic..., StatementEnd.

    `format` ("camt.053.001.08") is known once the first message element has been read.
    Every problem that makes the file unreadable is raised as ParseError naming the place.
    """

    def __init__(self, source: BinaryIO, *, filename: str = "<input>", keep_raw: bool = True,
                 encoding: str | None = None, format_hint: str | None = None) -> None:
        self._source = source
        self.filename = filename
        self.keep_raw = keep_raw
        self.encoding = encoding
        self.format: str | None = format_hint if format_hint and _VERSION.search(
            format_hint) else None
        self._place = "/"

    def __iter__(self) -> Iterator[CamtEvent]:
        try:
            _refuse_doctype(self._source, self.filename)
            yield from self._events()
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (exc.lineno, 0)
            message = (exc.msg or str(exc)).split(", line ")[0]
            raise ParseError(f"malformed XML: {message}",
                             where=f"{self.filename}: line {line}, column {column}") from None
        except (etree.LxmlError, UnicodeError, LookupError) as exc:
            raise ParseError(f"unreadable XML: {exc}", where=f"{self.filename}") from None
        except ParseError:
            raise
        except (InputError, ValueError, InvalidOperation, ArithmeticError) as exc:
            raise ParseError(f"unreadable content: {exc}",
                             where=f"{self.filename}: {self._place}") from None

    def _events(self) -> Iterator[CamtEvent]:
        context = etree.iterparse(
            self._source, events=("end",), tag=_TAGS, resolve_entities=False, no_network=True,
            load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True,
            encoding=self.encoding,
        )
        statement_el: Element | None = None
        header: Statement | None = None
        group_created: dt.datetime | None = None
        statement_index = entry_index = 0
        seen_message: str | None = None
        first = True
        for _, element in context:
            if first:
                _refuse_dtd_in_tree(element, self.filename)
                first = False
            name = local_name(element)
            if name == "Ntry":
                parent = element.getparent()
                if parent is None or not (parent is statement_el or _is_statement(parent)):
                    continue  # an Ntry outside a statement of a camt message: not ours
                if parent is not statement_el:
                    statement_el, statement_index, entry_index = parent, statement_index + 1, 0
                    header, diagnostics = self._header(parent, statement_index, group_created,
                                                       element)
                    yield from diagnostics
                    yield StatementStart(header)
                assert header is not None  # set together with statement_el
                entry_index += 1
                path = f"{header.source_line}/Ntry[{entry_index}]"
                self._place = path
                stmt_ref = header.statement_id or header.account or "statement"
                context_ = EntryContext(self.filename, path, header.currency,
                                        f"{stmt_ref}/{entry_index}", self.keep_raw)
                transactions, diagnostics = read_entry(element, context_)
                yield from diagnostics
                yield from transactions
                _drop(element)
            elif name in STATEMENT_KINDS:
                if not _is_statement(element):
                    continue
                if element is not statement_el:
                    statement_index += 1
                    header, diagnostics = self._header(element, statement_index, group_created,
                                                       None)
                    yield from diagnostics
                    yield StatementStart(header)
                assert header is not None
                yield StatementEnd(header)
                statement_el = header = None
                _drop(element)
            elif name == "GrpHdr":
                group_created = parse_datetime(Node(element).text("CreDtTm"))
            else:
                seen_message = _message_name(element) or seen_message
                self.format = _format_of(element, self.format)
                if statement_index == 0:
                    raise ParseError(
                        f"the {local_name(element)} message holds no statement "
                        f"({MESSAGES[seen_message or 'BkToCstmrStmt'][1]} element)",
                        where=where(self.filename, _path_of(element), element))
                statement_index = 0
        if seen_message is None:
            root = context.root
            root_name = local_name(root) if root is not None else "?"
            raise ParseError(
                "XML, but no camt.052/053/054 message in it (no BkToCstmrStmt, "
                "BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn element)",
                where=f"{self.filename}: /{root_name}")

    def _header(self, element: Element, index: int, group_created: dt.datetime | None,
                first_entry: Element | None) -> tuple[Statement, list[Diagnostic]]:
        message = element.getparent()
        if message is not None:
            self.format = _format_of(message, self.format)
        path = f"{_path_of(message)}/{local_name(element)}[{index}]" if message is not None \
            else f"/{local_name(element)}[{index}]"
        self._place = path
        return read_header(element, path, self.filename, group_created, first_entry)


def read_header(stmt: Element, path: str, filename: str, group_created: dt.datetime | None,
                first_entry: Element | None) -> tuple[Statement, list[Diagnostic]]:
    """The statement's own data: everything in Stmt/Rpt/Ntfctn before the entries."""
    diagnostics: list[Diagnostic] = []
    r = Node(stmt, stop=frozenset({"Ntry"}))
    place = where(filename, path, stmt)
    account = r.first_text("Acct/Id/IBAN", "Acct/Id/Othr/Id")
    if account is None:
        diagnostics.append(Diagnostic(Severity.WARNING, "statement names no account (Acct/Id)",
                                      place, "no-account"))
    (opening, opening_date), (closing, closing_date), balance_currency = \
        _booked_balances(r, place)
    if opening_date is None:
        opening_date = parse_date(r.first_text("FrToDt/FrDtTm", "FrToDt/FrDt"))
    if closing_date is None:
        closing_date = parse_date(r.first_text("FrToDt/ToDtTm", "FrToDt/ToDt"))
    entry_currency = None
    if first_entry is not None:
        entry_amount = Node(first_entry).find("Amt")
        entry_currency = entry_amount.get("Ccy") if entry_amount is not None else None
    currency = r.text("Acct/Ccy") or balance_currency or entry_currency or ""
    count_text = r.text("TxsSummry/TtlNtries/NbOfNtries")
    declared_count = int(count_text) if count_text and count_text.isascii() and \
        count_text.isdigit() else None
    net_el = r.find("TxsSummry/TtlNtries/TtlNetNtry/Amt")
    net_indicator = r.text("TxsSummry/TtlNtries/TtlNetNtry/CdtDbtInd")
    if net_el is None:  # .02 spelling
        net_el = r.find("TxsSummry/TtlNtries/TtlNetNtryAmt")
        net_indicator = r.text("TxsSummry/TtlNtries/CdtDbtInd")
    declared_sum = signed(parse_amount(net_el, place), net_indicator) if net_el is not None \
        else None
    created = parse_datetime(r.text("CreDtTm")) or group_created
    statement = Statement(
        account=account or "", currency=currency,
        statement_id=r.text("Id"),
        sequence=r.first_text("ElctrncSeqNb", "LglSeqNb"),
        opening_balance=opening, closing_balance=closing,
        opening_date=opening_date, closing_date=closing_date,
        kind=STATEMENT_KINDS[local_name(stmt)],
        account_bic=r.first_text("Acct/Svcr/FinInstnId/BIC", "Acct/Svcr/FinInstnId/BICFI"),
        account_owner=r.first_text("Acct/Ownr/Nm", "Acct/Ownr/Pty/Nm", "Acct/Nm"),
        created_at=created,
        declared_count=declared_count, declared_sum=declared_sum, source_line=path,
    )
    return statement, diagnostics


Balance = tuple[Decimal | None, dt.date | None]


def _booked_balances(r: Node, place: str) -> tuple[Balance, Balance, str | None]:
    """(opening, closing, currency of the balances) from the statement's `Bal` elements.

    OPBD is the opening booked balance; PRCD, the previous day's closing booked balance,
    is the same figure under another name and some banks send it instead. CLBD closes.
    A statement split over several pages (`MsgPgntn`) carries ITBD, the interim booked
    balance, where a page ends and where the next one starts; it stands in for the missing
    end of a page. A lone ITBD (an intraday camt.052) is no pair to balance. Available
    balances (CLAV, FWAV, OPAV) are not what booked entries add up to.
    """
    found: dict[str, list[Balance]] = {}
    currency = None
    for balance in r.nodes("Bal"):
        code = balance.text("Tp/CdOrPrtry/Cd")
        if code is None:
            code = _PROPRIETARY_BALANCES.get(balance.text("Tp/CdOrPrtry/Prtry") or "")
        amount_el = balance.find("Amt")
        if amount_el is None or code not in ("OPBD", "PRCD", "CLBD", "ITBD"):
            continue
        currency = currency or amount_el.get("Ccy")
        amount = signed(parse_amount(amount_el, place), balance.text("CdtDbtInd"))
        found.setdefault(code, []).append((amount, date_choice(balance, "Dt")[0]))
    interim = found.get("ITBD", [])
    opening = (found.get("OPBD") or found.get("PRCD") or [(None, None)])[0]
    closing = (found.get("CLBD") or [(None, None)])[0]
    if opening[0] is None and interim and (closing[0] is not None or len(interim) > 1):
        opening, interim = interim[0], interim[1:]
    if closing[0] is None and interim and opening[0] is not None:
        closing = interim[-1]
    return opening, closing, currency


def _message_name(element: Element) -> str | None:
    name = local_name(element)
    if name.endswith("V01"):
        name = name[:-3]
    return name if name in MESSAGES else None


def _is_statement(element: Element) -> bool:
    parent = element.getparent()
    return (local_name(element) in STATEMENT_KINDS and parent is not None
            and _message_name(parent) is not None)


def _format_of(message: Element, known: str | None) -> str:
    """The message's namespace names its version; failing that, what the application
    header said (`known`); failing that, the message type without a version."""
    match = _VERSION.search(namespace_of(message))
    if match:
        return f"camt.{match.group(1)}.001.{match.group(2)}"
    if known:
        return known
    number = MESSAGES[_message_name(message) or "BkToCstmrStmt"][0]
    return f"camt.{number}.001.01" if local_name(message).endswith("V01") else f"camt.{number}"


def _path_of(element: Element | None) -> str:
    names: list[str] = []
    while element is not None:
        names.append(local_name(element))
        element = element.getparent()
    return "/" + "/".join(reversed(names))


def _drop(element: Element) -> None:
    """Free a processed element and the processed siblings before it."""
    element.clear()
    parent = element.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    while previous is not None and previous.tag == element.tag:
        parent.remove(previous)
        previous = element.getprevious()


def _refuse_doctype(source: BinaryIO, filename: str) -> None:
    """Look at the prolog (everything before the root element) for a DOCTYPE."""
    if not source.seekable():
        return  # the tree check below still refuses it
    start = source.tell()
    head = source.read(_PROLOG_SCAN)
    source.seek(start)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("latin-1")
    position = 0
    while True:
        lt = text.find("<", position)
        if lt < 0:
            return
        if text.startswith("<?", lt):
            position = text.find("?>", lt) + 2 or len(text)
        elif text.startswith("<!--", lt):
            end = text.find("-->", lt)
            position = end + 3 if end >= 0 else len(text)
        elif text.startswith("<!", lt):
            line = text.count("\n", 0, lt) + 1
            raise ParseError("refused: the file declares a DOCTYPE (DTD or entities); bank "
                             "files never need one, and entities are how XML bombs and "
                             "external-entity attacks work", where=f"{filename}: line {line}")
        else:
            return  # the root element: the prolog is over
        if position <= lt:
            return


def _refuse_dtd_in_tree(element: Element, filename: str) -> None:
    docinfo = element.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise ParseError("refused: the file declares a DOCTYPE (DTD or entities)",
                         where=f"{filename}: line 1")
