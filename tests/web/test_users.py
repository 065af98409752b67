"""The user service and the `recon user` / `recon serve` commands."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from reconciler import users
from reconciler.cli import main
from reconciler.db.journal import JournalRow
from reconciler.db.session import Database
from reconciler.db.users import ApiTokenRow, UserRow
from reconciler.errors import ConflictError, InputError, PermissionDeniedError


def test_add_authenticate_disable(db: Database) -> None:
    with db.transaction() as s:
        user = users.add_user(s, "alice", "reviewer", "s3cret-pass", actor="cli")
    assert user.actor == "user:alice" and user.has_role("viewer") and not user.has_role("approver")
    with db.session() as s:
        stored = s.scalar(select(UserRow.password_hash).where(UserRow.name == "alice"))
        assert stored is not None and "s3cret-pass" not in stored and stored.startswith("scrypt$")
    with db.transaction() as s:
        assert users.authenticate(s, "alice", "s3cret-pass") is not None
        assert users.authenticate(s, "alice", "wrong") is None
        assert users.authenticate(s, "nobody", "s3cret-pass") is None
        with pytest.raises(ConflictError):
            users.add_user(s, "alice", "viewer", "another-pass", actor="cli")
    with db.transaction() as s:
        users.disable_user(s, "alice", actor="user:admin")
    with db.transaction() as s:
        assert users.authenticate(s, "alice", "s3cret-pass") is None
        actions = list(s.scalars(select(JournalRow.action)))
    assert actions == ["user.added", "user.disabled"]


@pytest.mark.parametrize(("name", "role", "password"), [
    ("bob", "superuser", "long-enough"), ("b b", "viewer", "long-enough"),
    ("bob", "viewer", "short")])
def test_bad_users_are_refused(db: Database, name: str, role: str, password: str) -> None:
    with db.transaction() as s, pytest.raises(InputError):
        users.add_user(s, name, role, password, actor="cli")


def test_tokens_are_stored_hashed_and_die_with_the_user(db: Database) -> None:
    with db.transaction() as s:
        users.add_user(s, "erp", "reviewer", "machine-pass", actor="cli")
        token = users.create_token(s, "erp", actor="cli")
    with db.transaction() as s:
        assert token not in {r.token_hash for r in s.scalars(select(ApiTokenRow))}
        found = users.authenticate_token(s, token)
        assert found is not None and found.name == "erp"
    with db.transaction() as s:
        users.disable_user(s, "erp", actor="cli")
    with db.transaction() as s:
        assert users.authenticate_token(s, token) is None


def test_four_eyes_and_write_off_limits() -> None:
    import datetime as dt
    from decimal import Decimal

    approver = users.User(1, "ann", "approver", True, dt.datetime.now(dt.UTC))
    reviewer = users.User(2, "rob", "reviewer", True, dt.datetime.now(dt.UTC))
    users.authorize_write_off(reviewer, Decimal("-49.99"), Decimal("50"))
    with pytest.raises(PermissionDeniedError):
        users.authorize_write_off(reviewer, Decimal("-50.01"), Decimal("50"))
    users.authorize_write_off(approver, Decimal("-500"), Decimal("50"))
    users.authorize_reversal(approver, "user:rob", "matcher:reference")
    with pytest.raises(PermissionDeniedError):
        users.authorize_reversal(approver, "user:ann", None)
    with pytest.raises(PermissionDeniedError):
        users.authorize_reversal(reviewer, "user:ann", None)


def test_cli_user_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RECON_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    monkeypatch.setenv("RECON_PASSWORD", "from-the-env")
    assert main(["user", "add", "carol", "--role", "approver"]) == 0
    assert main(["user", "list"]) == 0
    assert main(["user", "token", "carol"]) == 0
    out = capsys.readouterr().out
    assert "carol" in out and "approver" in out and "recon_" in out
    assert main(["user", "add", "carol", "--role", "viewer"]) == 2
    assert main(["user", "disable", "carol"]) == 0
    assert main(["user", "disable", "nobody"]) == 2
    database = Database(url)
    with database.transaction() as s:
        assert users.authenticate(s, "carol", "from-the-env") is None  # disabled
    database.dispose()


def test_cli_serve_answers_healthz(tmp_path: Path) -> None:
    """`recon serve` runs waitress in its own process; it answers /healthz on loopback."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "RECON_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    cli = [sys.executable, "-m", "reconciler.cli"]
    subprocess.run([*cli, "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--threads", "2"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not body:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
            except OSError:
                time.sleep(0.1)
        assert b'"ok"' in body
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/" in output
