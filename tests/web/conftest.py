"""Fixtures for the web tests: the app on the `db` fixture (SQLite and PostgreSQL), users of
every role, seeded data and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from reconciler.db.session import Database
from reconciler.settings import Settings, WebSettings
from tests.web.seed import PASSWORD, ROLE_USERS, Seeded, add_users, seed
from web import create_app


def make_app(db: Database, **web: object) -> Flask:
    settings = Settings(database_url=db.url, web=WebSettings(**web))  # type: ignore[arg-type]
    return create_app(settings, db, testing=True)


@pytest.fixture
def app(db: Database) -> Iterator[Flask]:
    add_users(db)
    yield make_app(db)


@pytest.fixture
def seeded(db: Database, app: Flask) -> Seeded:
    return seed(db)


def csrf_of(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        token = session.get("csrf")
    if token is None:
        page = client.get("/login").get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, "login page carries a CSRF token"
        return match.group(1)
    return str(token)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> None:
    token = csrf_of(client)
    response = client.post("/login", data={"name": name, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def client_for(app: Flask) -> Callable[[str], FlaskClient]:
    def make(role: str) -> FlaskClient:
        client = app.test_client()
        login(client, ROLE_USERS[role])
        return client

    return make


def post(client: FlaskClient, url: str, data: dict[str, object] | None = None,
         **kwargs: object) -> object:
    """A form post with the session's CSRF token."""
    form = dict(data or {})
    form["csrf_token"] = csrf_of(client)
    return client.post(url, data=form, **kwargs)  # type: ignore[arg-type]
