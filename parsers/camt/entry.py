"""One CAMT `Ntry` (entry) -> its transactions.

An entry is one booking on the account. A batch entry (a collective booking of, say, 40 SEPA
direct debits) carries one `TxDtls` per underlying payment; each becomes its own Transaction,
because each settles its own invoice. The balance check still adds up entries, so every part
of a batch remembers the entry amount (`extra["entry_amount"]`) and where the entry is.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, NamedTuple

from lxml import etree

from parsers.camt.fields import (
    Element,
    Node,
    PathSet,
    date_choice,
    parse_amount,
    parse_decimal,
    signed,
    where,
)
from parsers.camt.reference import check_reference
from reconciler.domain.bank import Charges, EntryStatus, FxDetails, Transaction
from reconciler.domain.common import Diagnostic, Severity
from reconciler.errors import ParseError
from reconciler.money import ZERO

_STATUS = {"BOOK": EntryStatus.BOOKED, "PDNG": EntryStatus.PENDING, "INFO": EntryStatus.INFO,
           # .08+: FUTR is a booking announced for a later date: not on the ledger yet.
           "FUTR": EntryStatus.PENDING}
_NOT_PROVIDED = "NOTPROVIDED"  # SEPA's placeholder when the payer gave no end-to-end id


class EntryContext(NamedTuple):  # one per entry: a tuple is cheaper than a frozen dataclass
    filename: str
    path: str  # XPath-like place of the entry, "/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]"
    account_currency: str
    derived_reference: str  # stable id for entries the bank gave no reference for
    keep_raw: bool = True


_DETAILS = "NtryDtls/TxDtls"
# Every path looked up below, so an entry's walk visits only what leads to them (a test
# checks that each literal path in this module is listed).
_BANK_CODE = {"BkTxCd/Domn/Cd", "BkTxCd/Domn/Fmly/Cd", "BkTxCd/Domn/Fmly/SubFmlyCd",
              "BkTxCd/Prtry/Cd"}
_PARTIES = {side: ((f"RltdPties/{side}/Nm", f"RltdPties/{side}/Pty/Nm"),
                   (f"RltdPties/{side}Acct/Id/IBAN", f"RltdPties/{side}Acct/Id/Othr/Id"),
                   (f"RltdAgts/{side}Agt/FinInstnId/BIC", f"RltdAgts/{side}Agt/FinInstnId/BICFI"),
                   (f"RltdPties/Ultmt{side}/Nm", f"RltdPties/Ultmt{side}/Pty/Nm"))
            for side in ("Dbtr", "Cdtr")}
_STRUCTURED = ("CdtrRefInf/Ref", "CdtrRefInf/Tp/CdOrPrtry/Cd", "CdtrRefInf/Tp/CdOrPrtry/Prtry")
ENTRY_PATHS = PathSet({
    "Amt", "CdtDbtInd", "Sts", "Sts/Cd", "Sts/Prtry", "BookgDt/Dt", "BookgDt/DtTm",
    "ValDt/Dt", "ValDt/DtTm", "AcctSvcrRef", "NtryRef", "RvslInd", "AddtlNtryInf", "Chrgs",
    "NtryDtls", _DETAILS, *_BANK_CODE})
DETAIL_PATHS = PathSet({
    "Amt", "AmtDtls/TxAmt/Amt", "CdtDbtInd", "Refs/AcctSvcrRef", "Refs/EndToEndId", "Refs/TxId",
    "Refs/InstrId", "Refs/PmtInfId", "Refs/UETR", "Refs/MndtId", "AddtlTxInf",
    "RtrInf/AddtlInf", "RtrInf/Rsn/Cd", "RtrInf/Rsn/Prtry", "RltdPties/Cdtr/Id/PrvtId/Othr/Id",
    "RltdPties/Cdtr/Pty/Id/PrvtId/Othr/Id", "RmtInf/Ustrd", "RmtInf/Strd",
    *(f"RmtInf/Strd/{p}" for p in _STRUCTURED), "Chrgs", "AmtDtls/InstdAmt/Amt",
    "AmtDtls/InstdAmt/CcyXchg/XchgRate", "AmtDtls/TxAmt/CcyXchg/XchgRate",
    "AmtDtls/CntrValAmt/CcyXchg/XchgRate", "Purp/Cd", "Purp/Prtry", *_BANK_CODE,
    *(path for paths in _PARTIES.values() for pair in paths for path in pair)})


def read_entry(ntry: Element, ctx: EntryContext) -> tuple[list[Transaction], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    r = Node(ntry, wanted=ENTRY_PATHS)
    place = where(ctx.filename, ctx.path, ntry)
    details = _details_with_paths(r, ctx.path)
    amount_el = r.find("Amt")
    if amount_el is None:
        # Seen at PostFinance: an entry that only states its amount in its TxDtls.
        currency, amount = _amount_from_details(details, ctx.account_currency, place)
        diagnostics.append(Diagnostic(Severity.WARNING,
                                      "entry has no Amt: amount taken from its TxDtls", place,
                                      "entry-without-amount"))
    else:
        indicator = r.text("CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise ParseError(f"entry CdtDbtInd must be CRDT or DBIT, not {indicator!r}",
                             where=place)
        currency = amount_el.get("Ccy") or ctx.account_currency
        amount = signed(parse_amount(amount_el, place), indicator)
    status = _status(r, place, diagnostics)
    booking_date, bad_booking = date_choice(r, "BookgDt")
    value_date, bad_value = date_choice(r, "ValDt")
    if bad_booking or bad_value:
        diagnostics.append(Diagnostic(Severity.WARNING, "unreadable booking or value date",
                                      place, "bad-date"))
    account_servicer_ref = r.text("AcctSvcrRef")
    entry_reference = account_servicer_ref or r.text("NtryRef")
    # The entry's own fields; each TxDtls overrides what it says itself. A dict, not a
    # Transaction: building a 27-field frozen dataclass twice per entry is measurable.
    base: dict[str, Any] = {
        "amount": amount, "currency": currency, "booking_date": booking_date,
        "value_date": value_date,
        "bank_reference": account_servicer_ref or entry_reference or ctx.derived_reference,
        "bank_transaction_code": bank_transaction_code(r),
        "entry_reference": entry_reference, "status": status,
        "charges": charges(r, currency, place) if r.find("Chrgs") is not None else None,
        "is_reversal": (r.text("RvslInd") or "").lower() in ("true", "1"),
        "source_line": ctx.path,
        "raw": etree.tostring(ntry, encoding="unicode", with_tail=False) if ctx.keep_raw
        else None,
        "extra": tuple(_pairs(("additional_entry_info", r.text("AddtlNtryInf")),
                              ("bank_reference_derived", None if entry_reference else "true"))),
    }
    if not details:
        return [Transaction(**base)], diagnostics
    if len(details) == 1:
        element, path = details[0]
        return [_detail(element, base, path, ctx, diagnostics, own_amount=False,
                        fallback_ref=base["bank_reference"],
                        fallback_is_bank_given=entry_reference is not None)], diagnostics
    if any(_detail_amount_element(element, currency) is None for element, _ in details):
        diagnostics.append(Diagnostic(
            Severity.WARNING,
            f"batch entry with {len(details)} TxDtls that do not all give an amount: "
            "kept as one transaction", place, "batch-without-amounts"))
        element, path = details[0]
        return [_detail(element, base, path, ctx, diagnostics, own_amount=False,
                        fallback_ref=base["bank_reference"],
                        fallback_is_bank_given=entry_reference is not None)], diagnostics
    batch_ref = entry_reference or ctx.derived_reference
    raws = part_raws(base["raw"], len(details))
    parts = [
        _detail(element, base, path, ctx, diagnostics, own_amount=True,
                fallback_ref=f"{batch_ref}/{n}", raw=raws[n - 1])
        for n, (element, path) in enumerate(details, start=1)
    ]
    foreign = sorted({p.currency for p in parts} - {currency})
    parts_sum = sum((p.amount for p in parts), ZERO)
    if foreign:
        diagnostics.append(Diagnostic(
            Severity.WARNING, f"batch entry in {currency} has TxDtls amounts in "
            f"{', '.join(foreign)}", place, "batch-mismatch"))
    elif parts_sum != amount:
        diagnostics.append(Diagnostic(
            Severity.WARNING,
            f"batch entry amount {amount} {currency} differs from the sum of its "
            f"{len(parts)} TxDtls ({parts_sum})", place, "batch-mismatch"))
    return parts, diagnostics


_TX_DETAILS = re.compile(r"<(?:[\w.-]+:)?TxDtls[\s>].*?</(?:[\w.-]+:)?TxDtls>", re.DOTALL)


def part_raws(entry_raw: str | None, count: int) -> list[str | None]:
    """The source text of each part of a batch entry: the entry with only that part's TxDtls.

    A batch of 800 payments repeated whole in each part's `raw` is 800 times the entry (a
    few hundred megabytes for one day's file); the entry's own lines and the part's details
    are what a person checking that payment needs. The text is cut, never rebuilt, so what is
    kept is still exactly what the bank sent. TxDtls do not nest and markup inside text is
    escaped, so each match is one whole TxDtls; if the count does not add up, every part
    keeps the whole entry."""
    if entry_raw is None:
        return [None] * count
    spans = [m.span() for m in _TX_DETAILS.finditer(entry_raw)]
    if len(spans) != count:
        return [entry_raw] * count
    head, tail = entry_raw[:spans[0][0]], entry_raw[spans[-1][1]:]
    return [head + entry_raw[start:end] + tail for start, end in spans]


def _details_with_paths(r: Node, entry_path: str) -> list[tuple[Node, str]]:
    details = r.findall(_DETAILS)
    if not details:
        return []
    groups = r.findall("NtryDtls")
    if len(groups) == 1:
        return [(Node(d, wanted=DETAIL_PATHS), f"{entry_path}/NtryDtls/TxDtls[{n}]")
                for n, d in enumerate(details, start=1)]
    result: list[tuple[Node, str]] = []
    for k, group in enumerate(groups, start=1):
        inside = [d for d in details if d.getparent() is group]
        for n, detail in enumerate(inside, start=1):
            result.append((Node(detail, wanted=DETAIL_PATHS),
                           f"{entry_path}/NtryDtls[{k}]/TxDtls[{n}]"))
    return result


def _amount_from_details(details: list[tuple[Node, str]], account_currency: str,
                         place: str) -> tuple[str, Decimal]:
    total = ZERO
    currency = None
    for element, _ in details:
        amount_el = _detail_amount_element(element, account_currency)
        indicator = element.text("CdtDbtInd")
        if amount_el is None or indicator not in ("CRDT", "DBIT"):
            raise ParseError("entry has no Amt/CdtDbtInd, nor do all its TxDtls", where=place)
        currency = currency or amount_el.get("Ccy")
        total += signed(parse_amount(amount_el, place), indicator)
    if currency is None and not details:
        raise ParseError("entry has no Amt", where=place)
    return currency or account_currency, total


def _detail_amount_element(tx: Node, currency: str) -> Element | None:
    """The TxDtls amount in the account currency: `Amt` (.04+) or `AmtDtls/TxAmt/Amt`."""
    candidates = [e for e in (tx.find("Amt"), tx.find("AmtDtls/TxAmt/Amt")) if e is not None]
    for element in candidates:
        if element.get("Ccy") in (None, currency):
            return element
    return candidates[0] if candidates else None


def _detail(tx: Node, base: dict[str, Any], path: str, ctx: EntryContext,
            diagnostics: list[Diagnostic], *, own_amount: bool, fallback_ref: str | None,
            fallback_is_bank_given: bool = False, raw: str | None = None) -> Transaction:
    """One TxDtls. `fallback_ref` serves when it has no `Refs/AcctSvcrRef` of its own;
    `raw` replaces the entry's text for a part of a batch."""
    place = where(ctx.filename, path, tx.element)
    entry_amount: Decimal = base["amount"]
    amount, currency = entry_amount, base["currency"]
    extra = list(base["extra"])
    if own_amount:
        amount_el = _detail_amount_element(tx, currency)
        if amount_el is None:  # guarded by the caller
            raise ParseError("TxDtls has no amount", where=place)
        indicator = tx.text("CdtDbtInd") or ("DBIT" if entry_amount < ZERO else "CRDT")
        amount = signed(parse_amount(amount_el, place), indicator)
        currency = amount_el.get("Ccy") or currency
        extra += [("entry_amount", f"{entry_amount:f}"), ("entry_path", base["source_line"])]
    refs_ref = tx.text("Refs/AcctSvcrRef")
    end_to_end = tx.text("Refs/EndToEndId")
    if end_to_end == _NOT_PROVIDED:
        end_to_end = None
    is_credit = amount > ZERO or (amount == ZERO and entry_amount >= ZERO)
    name, iban, bic, ultimate = _counterparty(tx, is_credit)
    creditor_ref, remittance = _remittance(tx, place, diagnostics)
    detail_charges = charges(tx, currency, place) if tx.find("Chrgs") is not None else None
    extra += _pairs(
        ("transaction_id", tx.text("Refs/TxId")),
        ("instruction_id", tx.text("Refs/InstrId")),
        ("payment_information_id", tx.text("Refs/PmtInfId")),
        ("uetr", tx.text("Refs/UETR")),
        ("additional_transaction_info", tx.text("AddtlTxInf")),
        ("return_additional_info", tx.text("RtrInf/AddtlInf")),
        ("creditor_id", tx.first_text("RltdPties/Cdtr/Id/PrvtId/Othr/Id",
                                     "RltdPties/Cdtr/Pty/Id/PrvtId/Othr/Id")),
    )
    extra = [(k, v) for k, v in extra if k != "bank_reference_derived"]
    if refs_ref is None and not fallback_is_bank_given:
        extra.append(("bank_reference_derived", "true"))
    return Transaction(**{
        **base,
        "amount": amount, "currency": currency,
        "bank_reference": refs_ref or fallback_ref,
        "end_to_end_id": end_to_end,
        "counterparty_name": name, "counterparty_iban": iban, "counterparty_bic": bic,
        "ultimate_debtor": ultimate,
        "creditor_reference": creditor_ref, "remittance_text": remittance,
        "bank_transaction_code": bank_transaction_code(tx) or base["bank_transaction_code"],
        "return_reason": tx.first_text("RtrInf/Rsn/Cd", "RtrInf/Rsn/Prtry"),
        "charges": detail_charges if detail_charges is not None else (
            None if own_amount else base["charges"]),
        "fx": _fx(tx, currency, place),
        "mandate_reference": tx.text("Refs/MndtId"),
        "purpose_code": tx.first_text("Purp/Cd", "Purp/Prtry"),
        "source_line": path, "extra": tuple(extra), "raw": raw or base["raw"],
    })


def _counterparty(tx: Node, is_credit: bool
                  ) -> tuple[str | None, str | None, str | None, str | None]:
    """Name, account, BIC and ultimate party of the other side: the payer (debtor) of a
    credit, the payee (creditor) of a debit. When the bank only filled the other side (some
    returns do), that side is used."""
    sides = ("Dbtr", "Cdtr") if is_credit else ("Cdtr", "Dbtr")
    for side in sides:
        name_paths, account_paths, bic_paths, ultimate_paths = _PARTIES[side]
        name = tx.first_text(*name_paths)
        account = tx.first_text(*account_paths)
        bic = tx.first_text(*bic_paths)
        ultimate = tx.first_text(*ultimate_paths)
        if name or account or bic or ultimate:
            return name, account, bic, ultimate
    return None, None, None, None


def _remittance(tx: Node, place: str, diagnostics: list[Diagnostic]
                ) -> tuple[str | None, str | None]:
    texts = tx.texts("RmtInf/Ustrd")
    creditor_ref: str | None = None
    structured = tx.findall("RmtInf/Strd")
    if not structured:  # most payments: free text only
        return None, " ".join(texts) or None
    for strd in [tx] if len(structured) == 1 else [Node(e) for e in structured]:
        prefix = "RmtInf/Strd/" if strd is tx else ""
        ref_path, code_path, proprietary_path = (prefix + p for p in _STRUCTURED)
        ref = strd.text(ref_path)
        if ref is None:
            continue
        declared = strd.first_text(code_path, proprietary_path)
        checked, problem = check_reference(ref, declared)
        if problem:
            diagnostics.append(Diagnostic(Severity.WARNING, problem, place,
                                          "creditor-reference-invalid"))
            texts.append(ref)  # still readable for a person or the fuzzy matcher
        elif creditor_ref is None:
            creditor_ref = checked
    return creditor_ref, " ".join(texts) or None


def _fx(tx: Node, currency: str, place: str) -> FxDetails | None:
    """The payer's instructed amount before conversion, with the rate the bank applied."""
    instructed = tx.find("AmtDtls/InstdAmt/Amt")
    if instructed is None:
        return None
    rate_text = tx.first_text("AmtDtls/InstdAmt/CcyXchg/XchgRate",
                             "AmtDtls/TxAmt/CcyXchg/XchgRate",
                             "AmtDtls/CntrValAmt/CcyXchg/XchgRate")
    original_currency = instructed.get("Ccy") or currency
    if original_currency == currency and rate_text is None:
        return None  # same currency, no conversion: nothing foreign about it
    rate = parse_decimal(rate_text, place) if rate_text else None
    return FxDetails(parse_amount(instructed, place), original_currency, rate)


def charges(r: Node, currency: str, place: str) -> Charges | None:
    """Bank charges on an entry or transaction. .02 repeats `Chrgs` with an `Amt` each; .04+
    has one `Chrgs` with a total and `Rcrd` records. `ChrgInclInd` (default true) says the
    charge was already deducted from the booked amount, as for most incoming SEPA payments."""
    blocks = r.nodes("Chrgs")
    if not blocks:
        return None
    total_el = blocks[0].find("TtlChrgsAndTaxAmt")
    records = blocks[0].nodes("Rcrd") or blocks
    amount_elements = [e for e in (rec.find("Amt") for rec in records) if e is not None]
    if total_el is not None:
        amount, ccy = parse_amount(total_el, place), total_el.get("Ccy")
    elif amount_elements:
        amount = sum((parse_amount(e, place) for e in amount_elements), ZERO)
        ccy = amount_elements[0].get("Ccy")
    else:
        return None
    included = (records[0].text("ChrgInclInd") or "true").lower() not in ("false", "0")
    return Charges(amount=amount, currency=ccy or currency, included=included,
                   bearer=records[0].text("Br"))


def bank_transaction_code(r: Node) -> str | None:
    """ISO domain/family/sub-family ('PMNT/RCDT/ESCT'), else the bank's proprietary code."""
    domain = r.text("BkTxCd/Domn/Cd")
    if domain:
        family = r.text("BkTxCd/Domn/Fmly/Cd")
        sub = r.text("BkTxCd/Domn/Fmly/SubFmlyCd")
        return "/".join(p for p in (domain, family, sub) if p)
    return r.text("BkTxCd/Prtry/Cd")


def _status(r: Node, place: str, diagnostics: list[Diagnostic]) -> EntryStatus:
    # Up to .07 `Sts` holds the code as text; from .08 it is `Sts/Cd` (or `Sts/Prtry`).
    code = r.first_text("Sts/Cd", "Sts/Prtry", "Sts")
    if code is None:
        return EntryStatus.BOOKED
    status = _STATUS.get(code.upper())
    if status is None:
        diagnostics.append(Diagnostic(Severity.WARNING,
                                      f"unknown entry status {code!r}, read as booked", place,
                                      "unknown-status"))
        return EntryStatus.BOOKED
    return status


def _pairs(*items: tuple[str, str | None]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in items if v is not None]


def entry_amount_of(transaction: Transaction) -> Decimal | None:
    """The whole entry's amount for a part of a batch entry, else None."""
    for key, value in transaction.extra:
        if key == "entry_amount":
            return Decimal(value)
    return None
