from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.demo.__main__ import main


def test_module_command_writes_and_reports(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["--out", str(out), "--seed", "3", "--customers", "20", "--open-items", "150",
                 "--payments", "40", "--formats", "mt940,camt053"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "20 customers, 150 open items, 40 bank transactions" in printed
    names = {p.name for p in out.iterdir()}
    assert {"customers.csv", "open_items.csv", "truth.csv"} <= names
    assert any(n.startswith("mt940_") for n in names)
    assert not any(n.startswith("camt054_") for n in names)
    assert len((out / "truth.csv").read_text(encoding="utf-8").splitlines()) == 41
