"""EBICS: the project's client against the local test bank over real HTTP on loopback."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.errors import ConnectorError
from connectors.sources.ebics import crypto
from connectors.sources.ebics.admin import run_admin_order
from connectors.sources.ebics.backend import order_params
from connectors.sources.ebics.client import EbicsClient
from connectors.sources.ebics.source import EbicsSource
from reconciler.db.bank import BankFileRow
from reconciler.db.session import Database
from reconciler.pulling import pull_source
from reconciler.settings import Secret, SourceSettings
from tests.connectors.conftest import camt053
from tests.ebicsbank import EbicsTestBank

MT940 = (b":20:STARTUMS\r\n:25:10020030/1234567\r\n:28C:1/1\r\n:60F:C261119EUR1000,00\r\n"
         b":61:2611201120CR100,00NTRFNONREF//B1\r\n:86:166?00GUTSCHRIFT?20INV-1\r\n"
         b":62F:C261120EUR1100,00\r\n-")


@pytest.fixture
def bank() -> Iterator[EbicsTestBank]:
    server = EbicsTestBank(segment_size=256)  # small: a download spans several segments
    server.add_subscriber("PARTNER1", "USER1")
    server.start()
    yield server
    server.stop()


def settings_for(bank: EbicsTestBank, keys: Path, **overrides: Any) -> SourceSettings:
    values: dict[str, Any] = dict(
        kind="ebics", url=bank.url, host_id=bank.host_id,
        partner_id="PARTNER1", user_id="USER1", keys_dir=str(keys),
        passphrase=Secret(env="EBICS_TEST_PASSPHRASE"), timeout_seconds=5,
        order_types=("camt.053", "mt940"))
    values.update(overrides)
    return SourceSettings(**values)


@pytest.fixture
def ready(bank: EbicsTestBank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
          ) -> SourceSettings:
    """A subscriber after the key ceremony, run through the admin commands."""
    monkeypatch.setenv("EBICS_TEST_PASSPHRASE", "correct horse")
    settings = settings_for(bank, tmp_path / "keys")
    assert "A006 certificate hash" in run_admin_order("bank", settings, "ini")
    assert "E002 certificate hash" in run_admin_order("bank", settings, "hia")
    printed = run_admin_order("bank", settings, "hpb")
    assert crypto.cert_hash_hex(bank.x002_cert) in printed
    return settings


def test_key_ceremony_stores_encrypted_user_keys_and_the_bank_keys(
        ready: SourceSettings, bank: EbicsTestBank) -> None:
    keys = Path(ready.keys_dir or "")
    assert sorted(p.name for p in keys.iterdir()) == [
        "bank_e002.crt", "bank_x002.crt", "user_a006.crt", "user_a006.pem", "user_e002.crt",
        "user_e002.pem", "user_x002.crt", "user_x002.pem"]
    assert b"ENCRYPTED PRIVATE KEY" in (keys / "user_x002.pem").read_bytes()
    assert oct((keys / "user_x002.pem").stat().st_mode & 0o777) == "0o600"
    subscriber = bank.subscribers[("PARTNER1", "USER1")]
    assert subscriber.ready
    letter = run_admin_order("bank", ready, "letter")
    assert crypto.cert_hash_hex(subscriber.certificates["X002"]) in letter
    assert "A006" in letter and "E002" in letter


def test_pull_downloads_imports_then_sends_the_receipt(
        db: Database, ready: SourceSettings, bank: EbicsTestBank, importer: Any) -> None:
    bank.add_document("EOP", "camt.053", "stmt-1.xml", camt053("E1"))
    bank.add_document("EOP", "camt.053", "stmt-2.xml", camt053("E2"))
    bank.add_document("EOP", "mt940", "sta.txt", MT940)
    source = EbicsSource("bank", ready)
    report = pull_source(db, source, importer=importer)
    again = pull_source(db, source, importer=importer)
    assert report.error is None
    assert [f.outcome for f in report.files] == ["imported"] * 3
    assert report.files[0].name.endswith("-001-stmt-1.xml")
    assert report.files[1].name.endswith("-002-stmt-2.xml")
    assert report.files[2].name.endswith(".sta")
    assert len(bank.transactions) == 0 and [code for _, code in bank.receipts] == ["0", "0"]
    assert all(d.delivered for d in bank.documents)
    assert again.files == ()
    assert ("ebicsRequest:Initialisation", "090005") in bank.log  # nothing left to download
    transfers = [code for kind, code in bank.log if kind == "ebicsRequest:Transfer"]
    assert len(transfers) >= 2 and set(transfers) == {"000000"}  # several segments
    receipts = [code for kind, code in bank.log if kind == "ebicsRequest:Receipt"]
    assert receipts == ["011000", "011000"]


def test_no_receipt_when_the_import_did_not_commit(
        db: Database, ready: SourceSettings, bank: EbicsTestBank, importer: Any) -> None:
    bank.add_document("EOP", "camt.053", "stmt.xml", camt053("N1"))

    def database_down(db: Database, data: bytes, filename: str, **_: Any) -> Any:
        raise OSError("database connection lost")

    first = pull_source(db, EbicsSource("bank", ready), importer=database_down)
    assert [f.outcome for f in first.files] == ["failed"]
    assert bank.receipts == [] and not bank.documents[0].delivered
    second = pull_source(db, EbicsSource("bank", ready), importer=importer)
    assert [f.outcome for f in second.files] == ["imported"]  # offered again, now imported
    assert bank.documents[0].delivered
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(BankFileRow)) == 1


def test_signature_with_a_foreign_key_is_refused(
        ready: SourceSettings, bank: EbicsTestBank) -> None:
    bank.add_document("EOP", "camt.053", "stmt.xml", camt053("F1"))
    keys = Path(ready.keys_dir or "")
    crypto.save_private(crypto.generate_key(), keys / "user_x002.pem", "correct horse")
    client = EbicsClient("bank", url=ready.url or "", host_id=bank.host_id,
                         partner_id="PARTNER1", user_id="USER1", keys_dir=str(keys),
                         passphrase="correct horse")
    with pytest.raises(ConnectorError, match="061001"):
        client.download(order_params("camt.053"))


def test_forged_bank_answer_is_refused(ready: SourceSettings, bank: EbicsTestBank) -> None:
    bank.add_document("EOP", "camt.053", "stmt.xml", camt053("G1"))
    bank.x002 = crypto.generate_key()  # someone else answers in the bank's name
    source = EbicsSource("bank", ready)
    with pytest.raises(ConnectorError, match="AuthSignature does not verify"):
        source.list_files()


def test_crypto_round_trips() -> None:
    key = crypto.generate_key()
    data = os.urandom(1000)
    encrypted_key, encrypted = crypto.encrypt_e002(key.public_key(), data)
    assert crypto.decrypt_e002(key, encrypted_key, encrypted) == data
    signature = crypto.sign_a006(key, data)
    assert crypto.verify_a006(key.public_key(), signature, data)
    assert not crypto.verify_a006(key.public_key(), signature, data + b"x")
    assert zlib.decompress(zlib.compress(data)) == data


def test_order_names() -> None:
    assert order_params("camt.054").service_name == "REP"
    explicit = order_params("EOP:CH:camt.053:08:ZIP")
    assert (explicit.scope, explicit.msg_version, explicit.container) == ("CH", "08", "ZIP")
    with pytest.raises(ConnectorError, match="SERVICE:SCOPE:MSGNAME"):
        order_params("C53")


def test_admin_commands_from_the_command_line(bank: EbicsTestBank, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from reconciler.cli import main

    monkeypatch.setenv("EBICS_TEST_PASSPHRASE", "pw")
    config = tmp_path / "recon.toml"
    config.write_text(f"""
database_url = "sqlite:///{tmp_path / 'recon.db'}"
[sources.hausbank]
kind = "ebics"
url = "{bank.url}"
host_id = "{bank.host_id}"
partner_id = "PARTNER1"
user_id = "USER1"
keys_dir = "{tmp_path / 'keys'}"
passphrase = {{"$env" = "EBICS_TEST_PASSPHRASE"}}
""")
    for order in ("ini", "hia", "hpb"):
        assert main(["--config", str(config), "ebics", order, "hausbank"]) == 0
    out = capsys.readouterr().out
    assert "INI accepted" in out and "HIA accepted" in out and "bank keys stored" in out
    assert main(["--config", str(config), "ebics", "hpb", "nope"]) == 2
    assert "not an EBICS source" in capsys.readouterr().err
