"""The bank files are what real banks send: MT940 that the common `mt940` library reads with
balances that add up, camt.053/.054 valid against the official ISO 20022 schemas, and every
transaction findable by its bank reference in every format."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import mt940
import pytest
from lxml import etree

from reconciler.demo import DemoConfig, DemoData, DemoFiles, generate, write_demo_files
from reconciler.demo.camt_writer import NS_053, NS_054

XSD = Path(__file__).resolve().parents[2].parent / "shared" / "bankfiles" / "xsd"
NS = {"c": NS_053, "n": NS_054}


def _mt940_statements(paths: tuple[Path, ...]) -> list[mt940.models.Transactions]:
    statements = []
    for path in paths:
        transactions = mt940.models.Transactions()
        transactions.parse(path.read_text(encoding="ascii"))
        statements.append(transactions)
    return statements


def _amount(value: object) -> Decimal:
    return Decimal(str(value.amount.amount))  # type: ignore[attr-defined]


def test_mt940_parses_and_balances_add_up(demo_files: DemoFiles, demo_data: DemoData) -> None:
    previous_closing: Decimal | None = None
    count = 0
    for transactions in _mt940_statements(demo_files.mt940):
        opening = _amount(transactions.data["final_opening_balance"])
        closing = _amount(transactions.data["final_closing_balance"])
        moved = sum((Decimal(str(t.data["amount"].amount)) for t in transactions), Decimal(0))
        assert opening + moved == closing
        if previous_closing is not None:
            assert opening == previous_closing  # statements chain day to day
        previous_closing = closing
        assert transactions.data["account_identification"] == (
            demo_data.config.our_iban + demo_data.config.currency)
        count += len(transactions)
    assert count == len(demo_data.payments)


def test_mt940_lines_keep_the_swift_limits(demo_files: DemoFiles) -> None:
    for path in demo_files.mt940:
        lines = path.read_bytes().decode("ascii").split("\r\n")
        assert all(len(line) <= 65 for line in lines), path
        details: list[str] = []
        for line in [*lines, ":end:"]:
            if line.startswith(":") and details:
                assert len(details) <= 6
                details = []
            if line.startswith(":86:") or (details and not line.startswith(":")):
                details.append(line)


def test_mt940_ing_style_parses(demo_data: DemoData, tmp_path: Path) -> None:
    files = write_demo_files(demo_data, tmp_path, formats=("mt940",), mt940_style="ing")
    assert not files.camt053 and not files.camt054
    statements = _mt940_statements(files.mt940)
    assert sum(len(s) for s in statements) == len(demo_data.payments)
    text = files.mt940[0].read_text(encoding="ascii")
    assert "/REMI/" in text and "/CNTP/" in text and "?20" not in text


def test_german_86_carries_the_remittance_and_payer(demo_files: DemoFiles,
                                                    demo_data: DemoData) -> None:
    by_reference = {p.bank_reference: p for p in demo_data.payments}
    checked = 0
    for transactions in _mt940_statements(demo_files.mt940):
        for transaction in transactions:
            payment = by_reference[transaction.data["bank_reference"]]
            if payment.creditor_reference:
                assert payment.creditor_reference in transaction.data["purpose"]
                checked += 1
            if payment.counterparty_bic:
                assert transaction.data["applicant_bin"] == payment.counterparty_bic
    assert checked > 20


def _validate(schema_name: str, paths: tuple[Path, ...]) -> None:
    schema_path = XSD / schema_name
    if not schema_path.is_file():
        pytest.skip(f"official schema not here: {schema_path}")
    schema = etree.XMLSchema(etree.parse(str(schema_path)))
    for path in paths:
        document = etree.parse(str(path))
        assert schema.validate(document), f"{path.name}: {schema.error_log.last_error}"


def test_camt053_is_schema_valid(demo_files: DemoFiles) -> None:
    _validate("camt.053.001.08.xsd", demo_files.camt053)


def test_camt054_is_schema_valid(demo_files: DemoFiles) -> None:
    assert demo_files.camt054
    _validate("camt.054.001.08.xsd", demo_files.camt054)


def _signed(node: etree._Element, prefix: str) -> Decimal:
    amount = Decimal(node.findtext(f"{prefix}:Amt", namespaces=NS) or "0")
    side = node.findtext(f"{prefix}:CdtDbtInd", namespaces=NS)
    return amount if side == "CRDT" else -amount


def test_camt053_balances_and_summary_add_up(demo_files: DemoFiles) -> None:
    previous: Decimal | None = None
    for path in demo_files.camt053:
        statement = etree.parse(str(path)).find(".//c:Stmt", NS)
        assert statement is not None
        balances = {b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS): _signed(b, "c")
                    for b in statement.findall("c:Bal", NS)}
        entries = statement.findall("c:Ntry", NS)
        moved = sum((_signed(e, "c") for e in entries), Decimal(0))
        assert balances["OPBD"] + moved == balances["CLBD"]
        if previous is not None:
            assert balances["OPBD"] == previous
        previous = balances["CLBD"]
        summary = statement.find("c:TxsSummry/c:TtlNtries", NS)
        assert summary is not None
        assert int(summary.findtext("c:NbOfNtries", namespaces=NS) or -1) == len(entries)
        assert Decimal(summary.findtext("c:Sum", namespaces=NS) or "-1") == sum(
            (abs(_signed(e, "c")) for e in entries), Decimal(0))
        for entry in entries:  # an entry's amount is the sum of its transactions
            details = entry.findall("c:NtryDtls/c:TxDtls", NS)
            assert sum((_signed(d, "c") for d in details), Decimal(0)) == _signed(entry, "c")


def _references(paths: tuple[Path, ...], prefix: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in paths:
        for node in etree.parse(str(path)).iterfind(
                f".//{prefix}:TxDtls/{prefix}:Refs/{prefix}:AcctSvcrRef", NS):
            found[node.text or ""] += 1
    return found


def test_every_truth_reference_is_once_in_each_format(demo_files: DemoFiles,
                                                      demo_data: DemoData) -> None:
    truth = [row.bank_reference for row in demo_data.truth]
    assert len(set(truth)) == len(truth) == len(demo_data.payments)
    in_mt940 = Counter(t.data["bank_reference"] for s in _mt940_statements(demo_files.mt940)
                       for t in s)
    in_053 = _references(demo_files.camt053, "c")
    in_054 = _references(demo_files.camt054, "n")
    for reference in truth:
        assert in_mt940[reference] == 1
        assert in_053[reference] == 1
        assert in_054[reference] <= 1
    assert set(in_mt940) == set(in_053) == set(truth)
    assert set(in_054) <= set(truth) and len(in_054) > len(truth) // 10


def test_batches_and_structured_references_are_present(demo_files: DemoFiles) -> None:
    batches = 0
    structured = 0
    for path in demo_files.camt053:
        root = etree.parse(str(path))
        for entry in root.iterfind(".//c:Ntry", NS):
            if len(entry.findall("c:NtryDtls/c:TxDtls", NS)) > 1:
                batches += 1
                assert entry.find("c:NtryDtls/c:Btch/c:NbOfTxs", NS) is not None
        structured += len(root.findall(".//c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", NS))
        for tx in root.iterfind(".//c:TxDtls", NS):
            assert tx.findtext("c:Refs/c:EndToEndId", namespaces=NS) or tx.find(
                "c:RltdPties", NS) is None
    assert batches >= 3 and structured > 20


def test_empty_payment_set_still_writes_nil_statements(tmp_path: Path) -> None:
    data = generate(DemoConfig(customers=5, open_items=10, payments=0))
    files = write_demo_files(data, tmp_path)
    assert len(files.mt940) == len(files.camt053) == len(data.business_days)
    assert not files.camt054
    _validate("camt.053.001.08.xsd", files.camt053)
