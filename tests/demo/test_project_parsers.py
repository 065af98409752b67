"""The project's own parsers read the demo files back as the truth says: same bank reference,
amount, payer IBAN and text, balances that check, and no diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.demo import DemoData, DemoFiles
from reconciler.demo.mt940_writer import swift_text

parsers = pytest.importorskip("parsers", reason="the parsers package is not in this build")


@pytest.mark.parametrize("kind", ["mt940", "camt053", "camt054"])
def test_parsers_read_back_every_transaction(kind: str, demo_files: DemoFiles,
                                             demo_data: DemoData) -> None:
    payments = {p.bank_reference: p for p in demo_data.payments}
    paths: tuple[Path, ...] = getattr(demo_files, kind)
    seen: list[str] = []
    for path in paths:
        result = parsers.parse(path.read_bytes(), filename=path.name, validate=kind != "mt940")
        problems = [d for d in result.diagnostics if d.severity.value != "info"]
        assert not problems, problems
        for statement in result.statements:
            assert statement.account == demo_data.config.our_iban
            for transaction in statement.transactions:
                payment = payments[transaction.bank_reference]
                seen.append(transaction.bank_reference)
                assert transaction.amount == payment.amount
                assert transaction.booking_date == payment.booking_date
                assert (transaction.counterparty_iban or None) == payment.counterparty_iban
                text = payment.creditor_reference or payment.remittance_text
                if kind == "mt940" and text:
                    assert swift_text(text) in (transaction.remittance_text or "")
                elif text:
                    assert text in {transaction.creditor_reference,
                                    transaction.remittance_text}
    assert len(seen) == len(set(seen))
    if kind == "camt054":
        assert 0 < len(seen) < len(payments)
    else:
        assert set(seen) == set(payments)


def test_parsers_read_the_ing_dialect(demo_data: DemoData, tmp_path: Path) -> None:
    from reconciler.demo import write_demo_files

    files = write_demo_files(demo_data, tmp_path, formats=("mt940",), mt940_style="ing")
    payments = {p.bank_reference: p for p in demo_data.payments}
    count = 0
    for path in files.mt940:
        result = parsers.parse(path.read_bytes(), filename=path.name)
        assert not result.diagnostics
        for statement in result.statements:
            for transaction in statement.transactions:
                payment = payments[transaction.bank_reference]
                text = payment.creditor_reference or payment.remittance_text
                if text:  # lines cut mid-word at 65 columns are joined back exactly
                    assert swift_text(text) in {transaction.creditor_reference,
                                                transaction.remittance_text}
                assert (transaction.counterparty_iban or None) == payment.counterparty_iban
                count += 1
    assert count == len(payments)
