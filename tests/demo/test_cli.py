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


def test_build_demo_with_defaults_writes_every_format(tmp_path: Path) -> None:
    from reconciler.demo import DemoConfig, build_demo

    files = build_demo(tmp_path, DemoConfig(customers=10, open_items=60, payments=30))
    assert files.mt940 and files.camt053 and files.camt054
    assert all(p.is_file() for p in files.all)


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    from reconciler.demo import DemoConfig, generate, write_demo_files

    with pytest.raises(ValueError, match="entity"):
        generate(DemoConfig(entity="A,B"))
    with pytest.raises(ValueError, match="our_iban"):
        generate(DemoConfig(our_iban="DE00370400440532013000"))
    with pytest.raises(ValueError, match="customers"):
        generate(DemoConfig(customers=0))
    data = generate(DemoConfig(customers=5, open_items=10, payments=5))
    with pytest.raises(ValueError, match="format"):
        write_demo_files(data, tmp_path, formats=("mt942",))


def test_mix_option_sets_scenario_weights(tmp_path: Path) -> None:
    weights = ",".join(f"{name}=0" for name in ("rf_exact", "document_in_text",
                                                  "supplier_payment", "bank_fee"))
    code = main(["--out", str(tmp_path), "--customers", "20", "--open-items", "200",
                 "--payments", "30", "--noise", "0", "--mix", f"{weights},interest=1"])
    assert code == 0
    rows = (tmp_path / "truth.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == 30 and all(",interest," in row for row in rows)


def test_mix_option_refuses_unknown_scenarios(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--mix", "lottery_win=5"])
    assert "lottery_win" in capsys.readouterr().err
