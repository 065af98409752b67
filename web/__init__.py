"""The Flask review UI and JSON API.

Rule: views read through `web.queries` (plain `select()`s) and change state only by calling
services in `reconciler` inside `db.transaction()`; no business logic lives here. Every page
and API route needs a signed-in user except the login page, static assets and `/healthz`.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask

from reconciler.db.session import Database
from reconciler.settings import Settings, load_settings


def create_app(settings: Settings | None = None, db: Database | None = None, *,
               testing: bool = False) -> Flask:
    """Build the application; `settings` default to `load_settings()`, `db` to its URL."""
    from web import errors, formatting, security
    from web.blueprints import ALL_BLUEPRINTS

    settings = settings or load_settings()
    db = db or Database(settings.database_url)
    app = Flask(__name__)
    secret = settings.web.secret_key.reveal() if settings.web.secret_key else None
    app.config.update(
        SECRET_KEY=secret or secrets.token_hex(32),
        TESTING=testing,
        SESSION_COOKIE_NAME="recon_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web.secure_cookies,
        # An upload larger than the import limit is refused before it is read into memory;
        # the extra megabyte leaves room for the multipart envelope.
        MAX_CONTENT_LENGTH=(settings.max_file_mb + 1) * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.extensions["recon"] = {"settings": settings, "db": db}
    security.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)
    for blueprint in ALL_BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8000, *, threads: int = 8,
          **options: Any) -> None:
    """Serve with waitress, the production WSGI server (pure Python, no reverse proxy needed
    for a small team; put one in front for TLS)."""
    import waitress

    print(f"recon web UI on http://{host}:{port}/ ({threads} threads)", flush=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="recon", **options)
