"""Every route refuses anonymous users, forged posts and too-low roles; sign-in, sign-out,
session timeout, throttling, security headers and API tokens."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from reconciler import users
from reconciler.db.journal import JournalRow
from reconciler.db.session import Database
from reconciler.users import ROLES
from tests.web.conftest import csrf_of, login, make_app, post
from tests.web.seed import PASSWORD, ROLE_USERS, Seeded, add_users
from web.security import PUBLIC_ENDPOINTS, ROLE_ATTRIBUTE

SAMPLE_VALUES = {"int": 999_999, "default": "C001", "path": "app.css"}


def url_of(rule: Rule) -> str:
    """The rule's path with a sample value for each variable part."""
    def sample(match: re.Match[str]) -> str:
        return str(SAMPLE_VALUES.get(match.group(1) or "default", SAMPLE_VALUES["default"]))

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", sample, rule.rule)


def protected_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS]


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def journal_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(JournalRow)) or 0


def test_every_view_declares_a_role(app: Flask) -> None:
    for rule in protected_rules(app):
        view = app.view_functions[rule.endpoint]
        assert getattr(view, ROLE_ATTRIBUTE, None) in ROLES, rule.rule


def test_every_route_refuses_anonymous(app: Flask) -> None:
    client = app.test_client()
    token = csrf_of(client)  # even with a valid CSRF token, no user means no access
    checked = 0
    for rule in protected_rules(app):
        for method in methods(rule):
            response = client.open(url_of(rule), method=method, data={"csrf_token": token})
            if rule.rule.startswith("/api/"):
                assert response.status_code == 401, (method, rule.rule)
                assert response.get_json()["error"]
            else:
                assert response.status_code == 302, (method, rule.rule)
                assert response.headers["Location"].startswith("/login"), rule.rule
            checked += 1
    assert checked > 40


def test_public_routes_answer_anonymous(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/login").status_code == 200
    for asset in ("/static/app.css", "/static/app.js"):
        with client.get(asset) as response:  # static files stream: close them
            assert response.status_code == 200


def test_every_state_change_needs_the_csrf_token(app: Flask, db: Database,
                                                 seeded: Seeded) -> None:
    client = app.test_client()
    login(client, ROLE_USERS["admin"])
    before = journal_count(db)
    posts = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or set())]
    assert len(posts) > 20
    for rule in posts:
        url = url_of(rule)
        response = client.post(url, data={"reason": "x", "name": "x", "password": "x"})
        assert response.status_code == 400, rule.rule
        assert "CSRF" in response.get_data(as_text=True), rule.rule
        wrong = client.post(url, data={"csrf_token": "forged"},
                            headers={"X-CSRF-Token": "forged"})
        assert wrong.status_code == 400, rule.rule
    assert journal_count(db) == before


def test_every_route_refuses_a_role_too_low(app: Flask, db: Database, seeded: Seeded) -> None:
    clients: dict[str, FlaskClient] = {}
    checked = 0
    for rule in protected_rules(app):
        required = getattr(app.view_functions[rule.endpoint], ROLE_ATTRIBUTE)
        rank = ROLES.index(required)
        if rank == 0:
            continue
        lower = ROLES[rank - 1]
        if lower not in clients:
            clients[lower] = app.test_client()
            login(clients[lower], ROLE_USERS[lower])
        client = clients[lower]
        for method in methods(rule):
            response = client.open(url_of(rule), method=method,
                                   data={"csrf_token": csrf_of(client), "reason": "r"},
                                   headers={"X-CSRF-Token": csrf_of(client)})
            assert response.status_code == 403, (method, rule.rule, lower)
            checked += 1
    assert checked > 20


def test_login_logout_and_next(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/queue").headers["Location"].startswith("/login?next=/queue")
    token = csrf_of(client)
    bad = client.post("/login", data={"name": "rita", "password": "wrong", "csrf_token": token})
    assert bad.status_code == 401
    assert "wrong name or password" in bad.get_data(as_text=True)
    good = client.post("/login", data={"name": "rita", "password": PASSWORD,
                                       "csrf_token": token, "next": "/queue"})
    assert good.status_code == 302 and good.headers["Location"] == "/queue"
    assert client.get("/queue").status_code == 200
    out = post(client, "/logout")
    assert out.status_code == 302  # type: ignore[attr-defined]
    assert client.get("/queue").status_code == 302


def test_login_refuses_open_redirect(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"name": "rita", "password": PASSWORD,
                                           "csrf_token": csrf_of(client),
                                           "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_session_times_out(app: Flask) -> None:
    client = app.test_client()
    login(client, "rita")
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 31 * 60  # the default timeout is 30 minutes
    response = client.get("/")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "session expired" in page.lower()


def test_disabled_user_loses_the_session(app: Flask, db: Database) -> None:
    client = app.test_client()
    login(client, "rita")
    with db.transaction() as s:
        users.disable_user(s, "rita", actor="user:ada")
    assert client.get("/").status_code == 302


def test_login_attempts_are_throttled(db: Database) -> None:
    add_users(db)
    app = make_app(db, login_attempts_per_minute=3)
    client = app.test_client()
    for _ in range(3):
        response = client.post("/login", data={"name": "rita", "password": "nope",
                                               "csrf_token": csrf_of(client)})
        assert response.status_code == 401
    blocked = client.post("/login", data={"name": "rita", "password": PASSWORD,
                                          "csrf_token": csrf_of(client)})
    assert blocked.status_code == 429


def test_security_headers_and_cookie_flags(db: Database) -> None:
    add_users(db)
    for secure in (False, True):
        app = make_app(db, secure_cookies=secure)
        client = app.test_client()
        response = client.get("/login")
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_templates_carry_no_inline_script(app: Flask, seeded: Seeded,
                                          client_for: Callable[[str], FlaskClient]) -> None:
    client = client_for("admin")
    for url in ("/", "/queue", "/exceptions", f"/exceptions/{seeded.tx_unmatched}",
                f"/transactions/{seeded.tx_exact}", "/customers/C001", "/statements", "/audit",
                "/users", f"/queue/{seeded.proposal_exact}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and "onclick" not in page and "style=" not in page, url


def test_api_token_authenticates_without_csrf(app: Flask, db: Database, seeded: Seeded) -> None:
    with db.transaction() as s:
        token = users.create_token(s, "rita", actor="user:ada", label="erp")
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get("/api/v1/me", headers=headers).get_json()["name"] == "rita"
    response = client.post(f"/api/v1/proposals/{seeded.proposal_exact}/accept", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_api_with_browser_session_needs_the_csrf_header(app: Flask, seeded: Seeded) -> None:
    client = app.test_client()
    login(client, "rita")
    url = f"/api/v1/proposals/{seeded.proposal_exact}/reject"
    assert client.post(url, json={"reason": "no"}).status_code == 400
    ok = client.post(url, json={"reason": "no"}, headers={"X-CSRF-Token": csrf_of(client)})
    assert ok.status_code == 200, ok.get_json()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_can_read_the_dashboard(client_for: Callable[[str], FlaskClient],
                                          role: str) -> None:
    assert client_for(role).get("/").status_code == 200
