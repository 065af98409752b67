"""No secret in logs or pages: secrets configured by reference (`{"$env": ...}`) never show
their values in `repr(settings)`, in the log of a failed pull or delivery, in any page an
admin can open, or in any JSON API response; every response carries the security headers.

The route scan of `tests/web/test_security.py` (login, CSRF, roles, cookie flags, throttling)
is not repeated here.
"""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from reconciler.db.session import Database
from reconciler.outbox import deliver
from reconciler.pulling import pull_all
from reconciler.settings import load_settings
from tests.connectors.factory import apply, payment_with_items
from tests.web.conftest import login
from tests.web.seed import ROLE_USERS, Seeded, add_users, seed
from web import create_app

SECRETS = {"RECON_TEST_WEB_KEY": "web-key-6f1d2c9a-never-shown",
           "RECON_TEST_SFTP_PASSWORD": "sftp-pass-41b7e0-never-shown",
           "RECON_TEST_HOOK_SECRET": "hook-secret-9c3a55-never-shown",
           "RECON_TEST_SMTP_PASSWORD": "smtp-pass-7d2e11-never-shown"}
HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
           "Referrer-Policy")


def closed_port() -> int:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(folder: Path, db: Database) -> Path:
    port = closed_port()
    path = folder / "recon.toml"
    path.write_text(f"""
database_url = "{db.url}"
data_dir = "{folder / 'var'}"

[web]
secret_key = {{"$env" = "RECON_TEST_WEB_KEY"}}

[dunning]
smtp_password = {{"$env" = "RECON_TEST_SMTP_PASSWORD"}}

[sources.bank]
kind = "sftp"
host = "127.0.0.1"
port = {port}
username = "acme"
password = {{"$env" = "RECON_TEST_SFTP_PASSWORD"}}
known_hosts = "{folder / 'known_hosts'}"
retries = 1
timeout_seconds = 2

[sinks.erp]
kind = "webhook"
url = "http://127.0.0.1:{port}/postings"
secret = {{"$env" = "RECON_TEST_HOOK_SECRET"}}
timeout_seconds = 2
max_attempts = 2

[sinks.erp_sftp]
kind = "sftp"
host = "127.0.0.1"
port = {port}
username = "acme"
password = {{"$env" = "RECON_TEST_SFTP_PASSWORD"}}
known_hosts = "{folder / 'known_hosts'}"
timeout_seconds = 2
max_attempts = 2
""", encoding="utf-8")
    (folder / "known_hosts").write_text("", encoding="utf-8")
    return path


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def assert_no_secret(text: str, where: str) -> None:
    for value in SECRETS.values():
        assert value not in text, f"secret {value!r} appears in {where}"
        assert value[:12] not in text, f"part of secret {value!r} appears in {where}"


def test_settings_repr_hides_every_secret(secret_env: None, tmp_path: Path,
                                          db: Database) -> None:
    settings = load_settings(write_config(tmp_path, db), environ={})
    assert settings.web.secret_key is not None
    assert settings.web.secret_key.reveal() == SECRETS["RECON_TEST_WEB_KEY"]  # wired for real
    assert_no_secret(repr(settings), "repr(settings)")
    assert_no_secret(str(settings), "str(settings)")


def test_failed_pull_and_delivery_log_no_secret(secret_env: None, tmp_path: Path, db: Database,
                                                caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(write_config(tmp_path, db), environ={})
    apply(db, payment_with_items(db))  # a posting waits for both sinks
    caplog.set_level(logging.DEBUG)
    reports = pull_all(db, settings)
    assert reports[0].error, reports  # the SFTP server is not there: the pull failed
    deliveries = deliver(db, settings, now_only=True)
    assert any(r.last_error for r in deliveries), deliveries  # and so did the deliveries
    # Nothing may be logged with a secret (paramiko and urllib debug output included).
    assert_no_secret(caplog.text, "the log")
    assert_no_secret(repr(reports) + repr(deliveries), "the pull and delivery reports")


def _links(page: str) -> set[str]:
    return {href for href in re.findall(r'href="(/[^"#?]*)', page)
            if not href.startswith("/static/")}


def crawl(client: FlaskClient, start: list[str], limit: int = 150) -> dict[str, int]:
    """Every page reachable from `start` by links, once each; status by URL."""
    seen: dict[str, int] = {}
    waiting = list(start)
    while waiting and len(seen) < limit:
        url = waiting.pop()
        if url in seen or url == "/logout":
            continue
        response = client.get(url)
        seen[url] = response.status_code
        body = response.get_data(as_text=True)
        assert_no_secret(body, f"GET {url}")
        assert_no_secret(str(response.headers), f"the headers of GET {url}")
        for header in HEADERS:
            assert response.headers.get(header), f"{header} missing on GET {url}"
        if response.mimetype == "text/html":
            waiting.extend(_links(body) - seen.keys())
    return seen


def test_no_page_and_no_api_response_shows_a_secret(secret_env: None, tmp_path: Path,
                                                    db: Database) -> None:
    settings = load_settings(write_config(tmp_path, db), environ={})
    add_users(db)
    app: Flask = create_app(settings, db, testing=True)
    seeded: Seeded = seed(db)
    client = app.test_client()
    login(client, ROLE_USERS["admin"])
    # Every GET route without variables, then the seeded records, then whatever they link to.
    plain = [rule.rule for rule in app.url_map.iter_rules()
             if "GET" in (rule.methods or set()) and "<" not in rule.rule
             and rule.endpoint != "static" and rule.rule != "/logout"]
    records = [f"/queue/{seeded.proposal_exact}", f"/transactions/{seeded.tx_exact}",
               f"/exceptions/{seeded.tx_unmatched}", "/customers/C001",
               f"/api/v1/proposals/{seeded.proposal_exact}",
               f"/api/v1/transactions/{seeded.tx_exact}"]
    seen = crawl(client, plain + records)
    api = [url for url in seen if url.startswith("/api/")]
    assert len(seen) > 20 and len(api) >= 3, seen
    assert all(status < 500 for status in seen.values()), seen
    assert sum(1 for status in seen.values() if status == 200) > 15, seen
    # Error pages and a refused request too.
    for url in ("/no-such-page", "/api/v1/no-such-thing"):
        response = client.get(url)
        assert response.status_code == 404
        assert_no_secret(response.get_data(as_text=True), url)
        for header in HEADERS:
            assert response.headers.get(header), f"{header} missing on GET {url}"
