"""One generated data set per session: generation is deterministic, so tests share it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.demo import DemoConfig, DemoData, DemoFiles, generate, write_demo_files


@pytest.fixture(scope="session")
def demo_data() -> DemoData:
    return generate(DemoConfig())


@pytest.fixture(scope="session")
def demo_files(demo_data: DemoData, tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return write_demo_files(demo_data, tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def big_mix() -> DemoData:
    """Enough transactions that even the rarest scenario occurs."""
    return generate(DemoConfig(seed=7, customers=300, open_items=9000, payments=3000))


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
