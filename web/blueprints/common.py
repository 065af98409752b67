"""Small helpers shared by the page blueprints."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from werkzeug.wrappers import Response


def safe_next(default_endpoint: str, **values: Any) -> str:
    """The `next` target of a form if it is a path on this site, else the default page."""
    target = (request.form.get("next") or request.args.get("next") or "").strip()
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for(default_endpoint, **values)


def back(default_endpoint: str, **values: Any) -> Response:
    return redirect(safe_next(default_endpoint, **values))
