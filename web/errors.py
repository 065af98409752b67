"""Domain errors to HTTP: pages get a readable error page, the API a JSON body."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from reconciler.errors import (
    ConflictError,
    ImportRejectedError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    ReconError,
)
from web.security import is_api_request

STATUS_BY_ERROR: tuple[tuple[type[ReconError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (PermissionDeniedError, 403),
    (InputError, 400),
)
TITLES = {400: "Bad request", 401: "Sign in required", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Too large", 429: "Too many attempts",
          500: "Server error", 503: "Not available"}


def status_of(error: ReconError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 500


def error_response(status: int, message: str, problems: list[str] | None = None) -> Response:
    if is_api_request():
        body: dict[str, object] = {"error": message, "status": status}
        if problems:
            body["problems"] = problems
        response = jsonify(body)
        response.status_code = status
        return response
    html = render_template("error.html", status=status, title=TITLES.get(status, "Error"),
                           message=message, problems=problems or [])
    return Response(html, status=status, mimetype="text/html")


def _recon_error(error: ReconError) -> Response:
    problems = error.problems if isinstance(error, ImportRejectedError) else None
    return error_response(status_of(error), str(error), problems)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return error_response(status, error.description or TITLES.get(status, "Error"))


def init_app(app: Flask) -> None:
    app.register_error_handler(ReconError, _recon_error)
    app.register_error_handler(HTTPException, _http_error)
