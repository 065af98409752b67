"""Sign-in throttling against the two attacks it exists for; the single-name case is in
`tests/web/test_security.py`.

Password spraying tries one common password on many names from one address; a botnet tries
one name from many addresses. Each must be stopped at the limit, even when the next guess
is right, and the refusal must not tell whether the password was right.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from reconciler.db.session import Database
from tests.web.conftest import csrf_of, make_app
from tests.web.seed import PASSWORD, ROLE_USERS, add_users

LIMIT = 3


def attempt(client: FlaskClient, name: str, password: str, address: str) -> int:
    response = client.post("/login", data={"name": name, "password": password,
                                           "csrf_token": csrf_of(client)},
                           environ_base={"REMOTE_ADDR": address})
    return response.status_code


def test_spraying_many_names_from_one_address_is_stopped(db: Database) -> None:
    add_users(db)
    client = make_app(db, login_attempts_per_minute=LIMIT).test_client()
    for n in range(LIMIT):
        assert attempt(client, f"guess{n}", "Winter2026!", "198.51.100.7") == 401
    # The next try from that address is refused before the password is even checked, and a
    # right password does not get through either.
    assert attempt(client, ROLE_USERS["admin"], PASSWORD, "198.51.100.7") == 429
    # Another address is not punished for it.
    assert attempt(client, ROLE_USERS["admin"], PASSWORD, "198.51.100.8") == 302


def test_one_name_from_many_addresses_is_stopped(db: Database) -> None:
    add_users(db)
    client = make_app(db, login_attempts_per_minute=LIMIT).test_client()
    name = ROLE_USERS["approver"]
    for n in range(LIMIT):
        assert attempt(client, name, f"wrong{n}", f"203.0.113.{n + 1}") == 401
    assert attempt(client, name, PASSWORD, "203.0.113.200") == 429
    # Other users keep signing in.
    assert attempt(client, ROLE_USERS["viewer"], PASSWORD, "203.0.113.201") == 302
