"""Access to the settings, database and signed-in user from inside a request."""

from __future__ import annotations

from typing import cast

from flask import current_app, g

from reconciler.db.session import Database
from reconciler.errors import PermissionDeniedError
from reconciler.settings import Settings
from reconciler.users import User


def settings() -> Settings:
    return cast(Settings, current_app.extensions["recon"]["settings"])


def database() -> Database:
    return cast(Database, current_app.extensions["recon"]["db"])


def current_user() -> User:
    user = cast(User | None, g.get("user"))
    if user is None:
        raise PermissionDeniedError("not signed in")
    return user


def optional_user() -> User | None:
    return cast(User | None, g.get("user"))
