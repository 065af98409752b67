"""`recon parse FILE [--validate] [--pretty]` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_parse_prints_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "camt053_v08_features.xml"
    assert main(["parse", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.strip().splitlines()) == 1  # compact unless --pretty
    data = json.loads(out)
    assert data["format"] == "camt.053.001.08"
    assert data["statements"][0]["closing_balance"] == "1504.10"
    assert len(data["statements"][0]["transactions"]) == 9


def test_parse_pretty_and_validate(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "camt053_v02_two_statements.xml"
    assert main(["parse", str(path), "--pretty", "--validate"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("{\n  ")
    codes = [d["code"] for d in json.loads(out)["diagnostics"]]
    assert "schema-invalid" in codes and "chain-break" in codes


def test_broken_file_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes((FIXTURES / "camt052_v08_report.xml").read_bytes()[:700])
    assert main(["parse", str(broken)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(broken) in err and "line " in err and "Traceback" not in err


def test_hostile_file_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    evil = tmp_path / "evil.xml"
    evil.write_bytes(b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>')
    assert main(["parse", str(evil)]) == 2
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "DOCTYPE" in err


def test_missing_file_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    missing = tmp_path / "nope.xml"
    assert main(["parse", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [f"recon: cannot read {missing}: No such file or directory"]


def test_parse_dispatches_mt940(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "statement.sta"
    path.write_bytes(b":20:REF1\r\n:25:DE89370400440532013000\r\n:28C:7/1\r\n"
                     b":60F:C261119EUR100,00\r\n:61:2611201120DR12,30NTRFNONREF//B1\r\n"
                     b":86:Miete November\r\n:62F:C261120EUR87,70\r\n-")
    assert main(["parse", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "mt940"
    (statement,) = data["statements"]
    assert statement["opening_balance"] == "100.00" and statement["closing_balance"] == "87.70"
    assert statement["transactions"][0]["amount"] == "-12.30"
    assert data["diagnostics"] == []
