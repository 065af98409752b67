"""A real headless Chromium: sign in, accept a suggestion with the keyboard, check the
database. The app runs under waitress on a loopback port in a thread, as in production.

Needs Debian's `chromium` (`.ci/system-deps` installs it). Without it the test skips on a
developer machine and fails in CI (CI=true), where a missing browser is a broken setup.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from reconciler.db.bank import TransactionRow
from reconciler.db.matching import ApplicationRow, ProposalRow
from reconciler.db.session import Database
from tests.web.browser import Browser, find_chromium
from tests.web.seed import PASSWORD, Seeded


@pytest.fixture
def chromium() -> str:
    path = find_chromium()
    if path is None:
        message = ("headless Chromium not found: install Debian's `chromium` package "
                   "(apt-get install -y chromium) or set RECON_CHROMIUM")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4,
                                    ident="recon-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"

    def stop() -> None:  # runs inside waitress's loop: close every socket, the loop ends
        for channel in list(server._map.values()):
            if channel is not server and channel is not server.trigger:
                channel.close()
        server.close()

    server.trigger.pull_trigger(stop)
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()
    assert not thread.is_alive(), "waitress did not stop"


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    instance = Browser(chromium)
    yield instance
    instance.close()


def test_accept_a_suggestion_with_the_keyboard(db: Database, seeded: Seeded, live_server: str,
                                               browser: Browser, tmp_path: Path) -> None:
    browser.goto(f"{live_server}/queue")
    assert "/login" in browser.evaluate("location.pathname")
    browser.submit_and_wait(
        "document.querySelector('input[name=name]').value = 'rita';"
        f"document.querySelector('input[name=password]').value = {PASSWORD!r};"
        "document.querySelector('.login form').requestSubmit(); true")
    assert browser.evaluate("location.pathname") == "/queue"
    assert browser.evaluate("document.querySelectorAll('.queue-row').length") == 2
    # The first row is selected on load; j and k move the selection.
    assert browser.evaluate("document.querySelector('.queue-row.selected').dataset.proposal") \
        == str(seeded.proposal_exact)
    browser.press("j")
    assert browser.evaluate("document.querySelector('.queue-row.selected').dataset.proposal") \
        == str(seeded.proposal_short)
    browser.press("k")
    shot = browser.screenshot(tmp_path / "queue.png")
    keep = os.environ.get("RECON_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "queue.png")
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    browser.press("a", expect_navigation=True)
    flash = browser.evaluate("document.querySelector('.flash').textContent")
    assert f"suggestion {seeded.proposal_exact} accepted" in flash
    assert browser.evaluate("document.querySelectorAll('.queue-row').length") == 1
    with db.session() as s:
        proposal = s.get(ProposalRow, seeded.proposal_exact)
        transaction = s.get(TransactionRow, seeded.tx_exact)
        application = s.scalars(select(ApplicationRow)).one()
    assert proposal is not None and proposal.state == "accepted"
    assert transaction is not None and transaction.state == "applied"
    assert application.actor == "user:rita"
