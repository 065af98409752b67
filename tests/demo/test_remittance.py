from __future__ import annotations

import datetime as dt
import random

from reconciler.demo import remittance


def _spellings(number: str, language: str, draws: int = 400) -> set[str]:
    rng = random.Random(language)
    return {remittance.spell_document(number, language, rng) for _ in range(draws)}


def test_document_numbers_are_spelled_the_ways_payers_write_them() -> None:
    german = _spellings("INV-2026-00123", "de")
    assert {"INV-2026-00123", "inv-2026-00123", "INV 2026 00123", "INV202600123",
            "inv 2026 123", "INV-2026-123", "202600123"} <= german
    assert any(s.startswith("Rechnung") and s.endswith("2026-00123") for s in german)
    french = _spellings("INV-2026-00123", "fr")
    assert "Facture n° 123" in french
    credit = _spellings("CN-2026-00045", "en")
    assert any("credit note" in s.lower() or "CN" in s for s in credit)
    for spelling in german | french:
        digits = "".join(c for c in spelling if c.isdigit())
        assert digits.endswith("123")  # the number is always there, only its form changes


def test_mistyped_numbers_differ_by_one_digit_or_one_swap() -> None:
    rng = random.Random(1)
    for _ in range(300):
        wrong = remittance.mistype("INV-2026-04817", rng)
        assert wrong != "INV-2026-04817" and wrong.startswith("INV-2026-")
        original, typo = "04817", wrong.rsplit("-", 1)[1]
        changed = [i for i, (a, b) in enumerate(zip(original, typo, strict=True)) if a != b]
        swapped = (len(changed) == 2 and changed[1] == changed[0] + 1
                   and original[changed[0]] == typo[changed[1]])
        assert len(changed) == 1 or swapped


def test_several_documents_fit_one_line() -> None:
    rng = random.Random(2)
    numbers = [f"INV-2026-{n:05d}" for n in (11, 189, 460, 520, 741, 1207)]
    for _ in range(50):
        line = remittance.list_documents(numbers, "de", rng)
        assert len(line) <= 140
        assert all(str(int(n[-5:])) in line for n in numbers)


def test_lookalikes_are_not_our_reference() -> None:
    rng = random.Random(3)
    seen = {remittance.lookalike("de", "C10042", dt.date(2026, 10, 14), "INV-2026-00871", rng)
            for _ in range(200)}
    assert "Kd-Nr. 10042" in seen or "Kundennr. 10042" in seen or "KdNr 10042" in seen
    assert "14.10.2026" in seen
    assert any(s.endswith("2026-00871") and not s.startswith("INV") for s in seen)
    assert all("INV-2026-00871" not in s for s in seen)


def test_clip_keeps_sepa_length() -> None:
    assert remittance.clip("x" * 200) == "x" * 140
    assert remittance.clip("short") == "short"
