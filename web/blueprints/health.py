"""`/healthz`: for load balancers and the process supervisor; no sign-in, no data."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from werkzeug.wrappers import Response

from web import context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    try:
        with context.database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any database failure means: not healthy
        response = jsonify({"status": "error", "database": "unreachable"})
        response.status_code = 503
        return response
    return jsonify({"status": "ok"})
