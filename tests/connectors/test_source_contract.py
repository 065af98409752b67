"""Every bank source kind honours the same contract, run on the same two files."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.errors import ConnectorError
from connectors.sources.base import KINDS, BankSource, open_source, safe_name
from connectors.sources.ebics.admin import run_admin_order
from reconciler.settings import SourceSettings
from tests.connectors.conftest import SshServer, camt053
from tests.ebicsbank import EbicsTestBank

FILES = {"a.xml": camt053("K1"), "b.xml": camt053("K2", amount="250.00")}
Factory = Callable[[], BankSource]


def _put_in(folder: Path) -> None:
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
        os.utime(folder / name, (time.time() - 60, time.time() - 60))


@pytest.fixture
def ebics_bank(tmp_path: Path) -> Iterator[EbicsTestBank]:
    bank = EbicsTestBank()
    bank.add_subscriber("P", "U")
    bank.start()
    yield bank
    bank.stop()


@pytest.fixture(params=KINDS)
def make_source(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    kind = request.param
    if kind == "folder":
        _put_in(tmp_path)
        settings = SourceSettings(kind="folder", path=str(tmp_path), pattern="*.xml")
    elif kind == "sftp":
        sshd: SshServer = request.getfixturevalue("sshd")
        inbox = sshd.root / uuid.uuid4().hex[:8]
        inbox.mkdir()
        _put_in(inbox)
        settings = SourceSettings(kind="sftp", host=sshd.host, port=sshd.port,
                                  username=sshd.user, key_file=str(sshd.user_key),
                                  known_hosts=str(sshd.known_hosts), remote_dir=str(inbox),
                                  archive_dir=str(inbox / "done"), pattern="*.xml")
    else:
        bank: EbicsTestBank = request.getfixturevalue("ebics_bank")
        for name, data in FILES.items():
            bank.add_document("EOP", "camt.053", name, data)
        settings = SourceSettings(kind="ebics", url=bank.url, host_id=bank.host_id,
                                  partner_id="P", user_id="U", keys_dir=str(tmp_path / "k"),
                                  order_types=("camt.053",))
        for order in ("ini", "hia", "hpb"):
            run_admin_order("x", settings, order)
    return lambda: open_source("contract", settings)


def test_lists_fetches_and_does_not_offer_acknowledged_files_again(make_source: Factory
                                                                   ) -> None:
    source = make_source()
    try:
        offered = source.list_files()
        assert len(offered) == 2
        fetched = {}
        for file in offered:
            assert safe_name(file.name) == file.name
            data = source.fetch(file)
            assert isinstance(data, bytes) and len(data) == file.size
            fetched[file.name] = data
        assert sorted(fetched.values()) == sorted(FILES.values())
        for file in offered:
            source.acknowledge(file)
    finally:
        source.close()
    again = make_source()
    try:
        assert again.list_files() == []
    finally:
        again.close()


def test_every_kind_is_covered() -> None:
    assert set(KINDS) == {"sftp", "ebics", "folder"}
    with pytest.raises(ConnectorError, match="known: sftp, ebics, folder"):
        open_source("x", SourceSettings(kind="carrier-pigeon"))
