"""Sign-in, session timeout, roles, CSRF and the security headers.

CSRF: each session holds a random token; every state-changing request must echo it, in the
form field `csrf_token` or the `X-CSRF-Token` header. Requests signed with a bearer token are
exempt: a browser never attaches such a header by itself, so a forged cross-site request
cannot carry one.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, g, jsonify, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from reconciler import users
from web import context

PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "health.healthz"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROLE_ATTRIBUTE = "required_role"

F = TypeVar("F", bound=Callable[..., Any])

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def requires(role: str) -> Callable[[F], F]:
    """Mark a view with the lowest role allowed to call it, and enforce it."""
    users.role_rank(role)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = context.current_user()
            users.require_role(user, role, f"{request.method} {request.path}")
            return view(*args, **kwargs)

        setattr(wrapper, ROLE_ATTRIBUTE, role)
        return cast(F, wrapper)

    return decorate


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _refuse(status: int, message: str) -> BaseResponse:
    if is_api_request():
        response = jsonify({"error": message, "status": status})
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="recon"'
        return response
    if status == 401:
        extra: dict[str, Any] = {"expired": 1} if g.get("session_expired") else {}
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?"), **extra))
    abort(status, description=message)


def _load_user() -> BaseResponse | None:
    g.user = None
    g.via_token = False
    header = request.headers.get("Authorization", "")
    db = context.database()
    if header.startswith("Bearer "):
        with db.transaction() as s:
            user = users.authenticate_token(s, header[7:].strip())
        if user is None:
            return _refuse(401, "invalid or revoked API token")
        g.user, g.via_token = user, True
        return None
    user_id = session.get("user_id")
    if not isinstance(user_id, int):
        return None
    last_seen = float(session.get("last_seen", 0))
    if time.time() - last_seen > context.settings().web.session_minutes * 60:
        session.clear()
        g.session_expired = True
        return None
    with db.session() as s:
        user = users.get_user(s, user_id)
    if user is None or not user.active:
        session.clear()
        return None
    g.user = user
    session["last_seen"] = time.time()
    return None


def _before_request() -> BaseResponse | None:
    if request.endpoint == "static":
        return None  # CSS and the script are public: no session, no database
    refused = _load_user()
    if refused is not None:
        return refused
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        pass
    elif g.user is None:
        message = "session expired, sign in again" if g.get("session_expired") else \
            "sign in first"
        return _refuse(401, message)
    if request.method not in SAFE_METHODS and not g.via_token:
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        expected = session.get("csrf")
        if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
            return _refuse(400, "missing or wrong CSRF token: reload the page and try again")
    return None


def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def sign_in(user: users.User) -> None:
    session.clear()  # a fresh session id and CSRF token on sign-in: no session fixation
    session["user_id"] = user.id
    session["last_seen"] = time.time()
    csrf_token()


def init_app(app: Flask) -> None:
    app.before_request(_before_request)
    app.after_request(_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
