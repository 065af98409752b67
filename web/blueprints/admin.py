"""User administration for admins: add, disable, issue API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request
from werkzeug.wrappers import Response

from reconciler import users
from web import context
from web.blueprints.common import back
from web.security import requires

bp = Blueprint("admin", __name__, url_prefix="/users")


@bp.get("")
@requires("admin")
def index() -> str:
    with context.database().session() as s:
        rows = users.list_users(s)
    return render_template("users.html", rows=rows, roles=users.ROLES, new_token=None)


@bp.post("")
@requires("admin")
def add() -> Response:
    with context.database().transaction() as s:
        user = users.add_user(s, request.form.get("name", "").strip(),
                              request.form.get("role", ""), request.form.get("password", ""),
                              actor=context.current_user().actor)
    flash(f"user {user.name} added as {user.role}")
    return back("admin.index")


@bp.post("/<name>/disable")
@requires("admin")
def disable(name: str) -> Response:
    with context.database().transaction() as s:
        users.disable_user(s, name, actor=context.current_user().actor)
    flash(f"user {name} disabled")
    return back("admin.index")


@bp.post("/<name>/token")
@requires("admin")
def token(name: str) -> str:
    with context.database().transaction() as s:
        value = users.create_token(s, name, actor=context.current_user().actor,
                                   label=request.form.get("label", "").strip())
        rows = users.list_users(s)
    # Shown once: only the hash is stored.
    return render_template("users.html", rows=rows, roles=users.ROLES, new_token=(name, value))
