"""The start page: where cash stands today."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template

from web import charts, context
from web.queries.activity import dashboard
from web.security import requires

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@requires("viewer")
def index() -> str:
    settings = context.settings()
    today = dt.datetime.now(dt.UTC).date()
    with context.database().session() as s:
        figures = dashboard(s, today, settings.base_currency)
    labels = [d.day.strftime("%m-%d") for d in figures.per_day]
    per_day = charts.stacked_columns(
        labels, [("automatic", [d.auto for d in figures.per_day]),
                 ("by a person", [d.manual for d in figures.per_day])],
        title="Applications per day, last 14 days")
    aging = charts.horizontal_bars(list(figures.aging.items()),
                                   title=f"Open receivables by days past due "
                                         f"({settings.base_currency})",
                                   currency=settings.base_currency)
    return render_template("dashboard.html", d=figures, per_day_chart=per_day,
                           aging_chart=aging, base_currency=settings.base_currency)
