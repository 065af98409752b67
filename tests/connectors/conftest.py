"""Fixtures for the connector tests: a real OpenSSH server on loopback, test bank files."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip() if path.suffix else \
        Path(str(path) + ".pub").read_text().strip()


@dataclass(frozen=True)
class SshServer:
    host: str
    port: int
    user: str
    user_key: Path
    known_hosts: Path  # holds the server's real host key
    wrong_known_hosts: Path  # the same host under another key: a changed host key
    root: Path  # a folder the SFTP user can read and write


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        if os.environ.get("CI"):
            pytest.fail("OpenSSH sshd is required in CI (.ci/system-deps installs it)")
        pytest.skip("OpenSSH sshd not installed: apt-get install -y openssh-server")
    base = tmp_path_factory.mktemp("sshd")
    host_key, user_key, other_key = base / "host_key", base / "user_key", base / "other_key"
    keygen(host_key)
    user_pub = keygen(user_key)
    keygen(other_key)
    (base / "authorized_keys").write_text(user_pub + "\n")
    port = free_port()
    host_pub = Path(str(host_key) + ".pub").read_text().split()
    other_pub = Path(str(other_key) + ".pub").read_text().split()
    known = base / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    wrong = base / "known_hosts_changed"
    wrong.write_text(f"[127.0.0.1]:{port} {other_pub[0]} {other_pub[1]}\n")
    config = base / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}",
        f"AuthorizedKeysFile {base / 'authorized_keys'}", f"PidFile {base / 'sshd.pid'}",
        "StrictModes no", "UsePAM no", "PasswordAuthentication no",
        "PermitRootLogin prohibit-password", "Subsystem sftp internal-sftp",
        "LogLevel ERROR", "",
    ]))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation dir
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode() if process.stderr else ""
                process.kill()
                pytest.fail(f"sshd did not start: {error}")
            time.sleep(0.05)
    root = base / "files"
    root.mkdir()
    import pwd

    try:
        yield SshServer("127.0.0.1", port, pwd.getpwuid(os.getuid()).pw_name, user_key, known,
                        wrong, root)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


@pytest.fixture
def importer() -> Any:
    """The statements slice's real import service."""
    from reconciler.statements import import_file

    return import_file


def camt053(statement_id: str, amount: str = "100.00", day: dt.date = dt.date(2026, 11, 20)
            ) -> bytes:
    """A small valid camt.053.001.08 statement with one credit entry."""
    opening = "1000.00"
    closing = f"{Decimal(opening) + Decimal(amount)}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt><GrpHdr><MsgId>MSG-{statement_id}</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{statement_id}</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>{day}T18:00:00</CreDtTm>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{opening}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>
<Ntry><NtryRef>{statement_id}-1</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
<AcctSvcrRef>REF-{statement_id}</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>TX-{statement_id}</AcctSvcrRef>
<EndToEndId>E2E-{statement_id}</EndToEndId></Refs>
<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<RltdPties><Dbtr><Pty><Nm>ACME GmbH</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Ustrd>INV-{statement_id}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
""".encode()
