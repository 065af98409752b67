"""Golden files: fixture in, the `recon parse` JSON out, compared whole.

The expected JSON in `golden/` is regenerated only on purpose, after reading the diff:

    RECON_REGENERATE_GOLDEN=1 python -m pytest tests/parsers/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from parsers import parse
from parsers.jsonout import result_to_dict

HERE = Path(__file__).parent
GOLDEN = ["camt053_v08_features.xml", "camt053_v02_two_statements.xml",
          "camt054_v04_notification.xml", "camt053_mismatch.xml"]
CONTRACT_STATEMENT = ["account", "currency", "statement_id", "sequence", "opening_balance",
                      "closing_balance", "opening_date", "closing_date", "transactions"]
CONTRACT_TRANSACTION = ["amount", "currency", "booking_date", "value_date", "bank_reference",
                        "end_to_end_id", "counterparty_name", "counterparty_iban",
                        "counterparty_bic", "creditor_reference", "remittance_text",
                        "bank_transaction_code", "entry_reference", "status", "return_reason",
                        "charges"]


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_json(name: str) -> None:
    actual = result_to_dict(parse((HERE / "fixtures" / name).read_bytes(), filename=name))
    expected_path = HERE / "golden" / f"{name}.json"
    if os.environ.get("RECON_REGENERATE_GOLDEN"):
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected


def test_json_keeps_the_contract_order_and_types() -> None:
    name = "camt053_v08_features.xml"
    data = result_to_dict(parse((HERE / "fixtures" / name).read_bytes(), filename=name))
    assert list(data) == ["format", "statements", "diagnostics"]
    statement = data["statements"][0]
    assert list(statement)[: len(CONTRACT_STATEMENT)] == CONTRACT_STATEMENT
    transaction = statement["transactions"][0]
    assert list(transaction)[: len(CONTRACT_TRANSACTION)] == CONTRACT_TRANSACTION
    assert transaction["amount"] == "119.00" and statement["closing_balance"] == "1504.10"
    debit = next(t for t in statement["transactions"] if t["bank_reference"] == "ENTRY-003")
    assert debit["amount"] == "-50.00"
    assert debit["charges"] == {"amount": "2.50", "currency": "EUR", "included": True,
                                "bearer": "SLEV"}
    assert transaction["return_reason"] is None  # missing fields are null, not absent
    assert list(data["diagnostics"][0])[:3] == ["severity", "message", "where"]
