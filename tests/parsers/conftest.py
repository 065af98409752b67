"""Fixtures of the parser tests: the small CAMT files in `fixtures/`, written for these tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parsers import parse
from reconciler.domain.bank import ParseResult

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return read


@pytest.fixture
def parsed() -> Callable[..., ParseResult]:
    def run(name: str, **kwargs: object) -> ParseResult:
        return parse((FIXTURES / name).read_bytes(), filename=name, **kwargs)  # type: ignore[arg-type]

    return run
