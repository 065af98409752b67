"""One blueprint per area; `ALL_BLUEPRINTS` is what the app factory registers."""

from __future__ import annotations

from web.blueprints.admin import bp as admin_bp
from web.blueprints.api import bp as api_bp
from web.blueprints.auth import bp as auth_bp
from web.blueprints.collections import bp as collections_bp
from web.blueprints.dashboard import bp as dashboard_bp
from web.blueprints.exceptions import bp as exceptions_bp
from web.blueprints.health import bp as health_bp
from web.blueprints.queue import bp as queue_bp
from web.blueprints.records import bp as records_bp

ALL_BLUEPRINTS = (health_bp, auth_bp, dashboard_bp, queue_bp, exceptions_bp, records_bp,
                  collections_bp, admin_bp, api_bp)
