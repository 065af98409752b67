"""The pruned entry walk reads exactly what the full walk reads.

Entries are indexed only along the paths the reader looks up (`ENTRY_PATHS`,
`DETAIL_PATHS`). A path looked up but not listed would silently read as missing; these
tests catch that statically (every literal path in the module is listed) and by result
(every fixture and real CAMT file parses the same with the full walk).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from parsers import parse
from parsers.camt import entry

HERE = Path(__file__).parent
LOOKUPS = {"text", "first_text", "find", "findall", "texts", "nodes"}
# Paths read from the charge records, which get a full walk of their own.
CHARGE_RECORD_PATHS = {"TtlChrgsAndTaxAmt", "Rcrd", "ChrgInclInd", "Br"}


def test_every_literal_lookup_path_is_listed() -> None:
    tree = ast.parse(Path(entry.__file__).read_text(encoding="utf-8"))
    listed = entry.ENTRY_PATHS.paths | entry.DETAIL_PATHS.paths | CHARGE_RECORD_PATHS
    used = {arg.value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOOKUPS
            for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    assert used, "no lookups found: the test no longer sees the module's calls"
    assert used <= listed, sorted(used - listed)


def _camt_inputs(bankfiles: Path | None) -> list[tuple[str, bytes]]:
    inputs = [(p.name, p.read_bytes()) for p in sorted((HERE / "fixtures").glob("*.xml"))]
    if bankfiles is not None:
        reference = json.loads((bankfiles / "reference.json").read_text(encoding="utf-8"))
        inputs += [(name, (bankfiles / name).read_bytes()) for name, v in reference.items()
                   if v["format"].startswith("CAMT") and v["verdict"] != "ERROR"]
    return inputs


def test_pruned_and_full_walk_agree(bankfiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = _camt_inputs(bankfiles)
    pruned = [parse(data, filename=name) for name, data in inputs]
    # The same code with the path lists switched off walks every element.
    monkeypatch.setattr(entry, "ENTRY_PATHS", None)
    monkeypatch.setattr(entry, "DETAIL_PATHS", None)
    full = [parse(data, filename=name) for name, data in inputs]
    assert len(inputs) > 50
    for (name, _), a, b in zip(inputs, pruned, full, strict=True):
        assert a == b, name
