"""A real headless Chromium: sign in, accept a suggestion with the keyboard, match an
exception by hand and have another person undo it, screenshot the main pages; each checked in
the database. The app runs under waitress on a loopback port in a thread, as in production.

Needs Debian's `chromium` (`.ci/system-deps` installs it). Without it the test skips on a
developer machine and fails in CI (CI=true), where a missing browser is a broken setup.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from reconciler.db.bank import TransactionRow
from reconciler.db.journal import JournalRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow, ProposalRow
from reconciler.db.session import Database
from reconciler.journal import verify
from reconciler.money import money
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


def sign_in(browser: Browser, url: str, name: str) -> None:
    """Open a page while signed out, sign in on the login page it sends us to, land on it."""
    browser.goto(url)
    assert browser.evaluate("location.pathname") == "/login"
    browser.submit_and_wait(
        f"document.querySelector('input[name=name]').value = {name!r};"
        f"document.querySelector('input[name=password]').value = {PASSWORD!r};"
        "document.querySelector('.login form').requestSubmit(); true")
    path = url.split("://", 1)[1].split("/", 1)[1] if url.count("/") > 2 else ""
    assert browser.evaluate("location.pathname") == "/" + path.split("?")[0]
    assert browser.evaluate("document.querySelector('.who span').textContent").startswith(name)


def flash_text(browser: Browser) -> str:
    return str(browser.evaluate("document.querySelector('.flash')?.textContent ?? ''"))


def test_accept_a_suggestion_with_the_keyboard(db: Database, seeded: Seeded, live_server: str,
                                               browser: Browser, tmp_path: Path) -> None:
    sign_in(browser, f"{live_server}/queue", "rita")
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


def candidate(item_id: int) -> str:
    """The match form's row for one open item, found by its hidden id."""
    return f"#candidates tr:has(input[name=item_id][value='{item_id}'])"


def test_match_an_exception_by_hand_then_another_person_reverses_it(
        db: Database, seeded: Seeded, live_server: str, browser: Browser) -> None:
    inv3, inv4 = seeded.item_ids["INV-3"], seeded.item_ids["INV-4"]
    tx = seeded.tx_unmatched
    sign_in(browser, f"{live_server}/exceptions", "rita")
    resolve = f"a[href='/exceptions/{tx}']"
    assert browser.evaluate(f"!!document.querySelector(\"{resolve}\")")
    browser.click(resolve, expect_navigation=True)
    assert browser.evaluate("location.pathname") == f"/exceptions/{tx}"
    # The payer is unknown: find Beta's open items by typing in the inline search.
    browser.type_text("form[data-inline-search] input[name=customer]", "C002")
    browser.wait_until(f"!!document.querySelector(\"{candidate(inv3)}\")"
                       f" && !!document.querySelector(\"{candidate(inv4)}\")")
    # 300.00 settles INV-4 in full (double-click fills the open amount) and 50.00 of INV-3.
    browser.click(f"{candidate(inv4)} input[name=amount]", count=2)
    filled = browser.evaluate(f"document.querySelector(\"{candidate(inv4)} input[name=amount]\")"
                              ".value")
    assert Decimal(filled) == money("250.00")
    browser.type_text(f"{candidate(inv3)} input[name=amount]", "50.00")
    assert browser.evaluate("document.querySelector('[data-remaining]').textContent") == "0.00"
    assert browser.evaluate("document.querySelector('[data-remaining]').className") == "even"
    browser.type_text("form.edit-form input[name=reason]", "Beta paid INV-4 and part of INV-3")
    browser.click("form.edit-form button.primary", expect_navigation=True)
    found = re.search(rf"payment {tx} applied by hand: application (\d+)", flash_text(browser))
    assert found, flash_text(browser)
    applied_id = int(found.group(1))
    assert not browser.evaluate(f"!!document.querySelector(\"{resolve}\")")  # off the queue

    with db.session() as s:
        applied = s.get(ApplicationRow, applied_id)
        assert applied is not None
        assert (applied.transaction_id, applied.status, applied.actor) \
            == (tx, "manual", "user:rita")
        assert sorted((line.kind, line.item_id, line.amount) for line in applied.lines) \
            == sorted([("item", inv3, money("50.00")), ("item", inv4, money("250.00"))])
        transaction = s.get(TransactionRow, tx)
        assert transaction is not None and transaction.state == "applied"
        part, whole = s.get(OpenItemRow, inv3), s.get(OpenItemRow, inv4)
        assert part is not None and whole is not None
        assert (part.open_amount, part.status) == (money("450.00"), "open")  # partly paid
        assert (whole.open_amount, whole.status) == (Decimal(0), "closed")

    # A reviewer may not undo posted cash: the page offers no reversal.
    browser.goto(f"{live_server}/applications/{applied_id}")
    assert not browser.evaluate("!!document.querySelector('form[action$=\"/reverse\"]')")
    assert "needs an approver" in browser.evaluate("document.body.textContent")
    browser.click(".who button.link", expect_navigation=True)  # sign out
    # Four eyes: an approver who did not apply it reverses it.
    sign_in(browser, f"{live_server}/applications/{applied_id}", "arno")
    browser.type_text("form[action$='/reverse'] input[name=reason]", "wrong customer")
    browser.click("form[action$='/reverse'] button.danger", expect_navigation=True)
    found = re.search(rf"application {applied_id} reversed by (\d+)", flash_text(browser))
    assert found, flash_text(browser)
    reversal_id = int(found.group(1))
    assert browser.evaluate("document.querySelector('.state.reversed a').textContent") \
        == str(reversal_id)

    with db.session() as s:
        applied = s.get(ApplicationRow, applied_id)
        reversal = s.get(ApplicationRow, reversal_id)
        assert applied is not None and reversal is not None
        assert applied.reversed_by_id == reversal_id and reversal.reverses_id == applied_id
        assert (reversal.status, reversal.actor) == ("reversal", "user:arno")
        assert sorted((line.kind, line.item_id, line.amount) for line in reversal.lines) \
            == sorted((line.kind, line.item_id, -line.amount) for line in applied.lines)
        # Nothing deleted: both applications and all four lines remain.
        assert s.scalar(select(func.count()).select_from(ApplicationRow)) == 2
        assert s.scalar(select(func.count()).select_from(ApplicationLineRow)) == 4
        for item_id, amount in ((inv3, "500.00"), (inv4, "250.00")):
            item = s.get(OpenItemRow, item_id)
            assert item is not None
            assert (item.open_amount, item.status) == (money(amount), "open")
        transaction = s.get(TransactionRow, tx)
        assert transaction is not None and transaction.state == "unreconciled"
        actions = s.scalars(select(JournalRow.action).order_by(JournalRow.seq)).all()
        assert "application.reversed" in actions
        report = verify(s)
        assert report.ok, report.problems


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_screenshots_of_the_main_pages(db: Database, seeded: Seeded, live_server: str,
                                       browser: Browser, tmp_path: Path) -> None:
    sign_in(browser, f"{live_server}/queue", "rita")
    browser.press("a", expect_navigation=True)  # one accepted suggestion: history to show
    assert f"suggestion {seeded.proposal_exact} accepted" in flash_text(browser)
    # (name, path, page title, a script true only when the page's key content is there)
    pages = [
        ("dashboard", "/", "Dashboard",
         "document.querySelector('h1').textContent.includes('Where cash stands')"
         " && document.querySelectorAll('.card svg').length >= 1"),
        ("queue", "/queue", "Review queue",
         f"document.querySelector('.queue-row').dataset.proposal == {seeded.proposal_short}"),
        ("exceptions", "/exceptions", "Exceptions",
         f"!!document.querySelector(\"a[href='/exceptions/{seeded.tx_unmatched}']\")"),
        ("transaction", f"/transactions/{seeded.tx_exact}", f"Bank line {seeded.tx_exact}",
         "document.querySelector('h1 .state').textContent == 'applied'"),
        ("customer", "/customers/C001", "ACME Trading GmbH",
         "document.querySelector('h1').textContent.includes('C001')"
         " && document.body.textContent.includes('INV-2')"),
        ("statements", "/statements", "Statements",
         "document.body.textContent.includes('DE89370400440532013000')"
         " && document.body.textContent.includes('stmt-2026-11-20.xml')"),
        ("audit", "/audit", "Audit log",
         "[...document.querySelectorAll('table.audit tr')].some(r =>"
         " r.textContent.includes('application.created')"
         f" && r.textContent.includes('payment:{seeded.tx_exact}'))"),
    ]
    keep = os.environ.get("RECON_SCREENSHOT_DIR")
    for name, path, title, key_content in pages:
        browser.goto(f"{live_server}{path}")
        assert browser.evaluate("location.pathname") == path, name
        assert browser.evaluate("document.title") == f"{title} · recon", name
        assert browser.evaluate(key_content), f"{name}: key content missing"
        shot = browser.screenshot(tmp_path / f"{name}.png", full_page=True)
        data = shot.read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        assert len(data) > 20_000, f"{name}: {len(data)} bytes, a blank page?"
        if keep:
            shutil.copy(shot, Path(keep) / shot.name)
