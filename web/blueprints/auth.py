"""Sign in and out. Failed attempts are counted per address and per name and throttled."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from reconciler import users
from web import context
from web.blueprints.common import safe_next
from web.errors import error_response
from web.security import requires, sign_in

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect(url_for("dashboard.index"))
        expired = g.get("session_expired", False) or request.args.get("expired") == "1"
        return render_template("login.html", expired=expired, next=request.args.get("next", ""))
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    remote = request.remote_addr or "unknown"
    db = context.database()
    limit = context.settings().web.login_attempts_per_minute
    with db.transaction() as s:
        if users.is_login_throttled(s, name, remote, limit):
            return error_response(429, "too many failed sign-ins: wait a minute and try again")
        user = users.authenticate(s, name, password)
        users.record_login_attempt(s, name, remote, success=user is not None)
    if user is None:
        return Response(render_template("login.html", error="wrong name or password",
                                        name=name, next=request.form.get("next", "")),
                        status=401, mimetype="text/html")
    sign_in(user)
    return redirect(safe_next("dashboard.index"))


@bp.post("/logout")
@requires("viewer")
def logout() -> Response:
    session.clear()
    flash("signed out")
    return redirect(url_for("auth.login"))
