"""Template filters: amounts with their currency's decimals, ISO dates, percentages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask
from markupsafe import Markup, escape

from reconciler.money import ZERO, quantize


def format_money(amount: Decimal | None, currency: str | None = None) -> str:
    """'12,345.60 EUR': grouped, the currency's minor unit, the sign kept."""
    if amount is None:
        return "—"
    value = quantize(Decimal(amount), currency or "EUR")
    text = f"{value:,f}"
    return f"{text} {currency}" if currency else text


def format_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def format_percent(value: float | Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f} %"


def amount_class(amount: Decimal | None) -> str:
    """CSS class: a nonzero difference is highlighted, negative amounts are marked."""
    if amount is None or amount == ZERO:
        return "num"
    return "num neg" if amount < ZERO else "num pos"


def amount_html(amount: Decimal | None, currency: str | None = None) -> Markup:
    """An amount cell's content: grouped digits, the currency, a class for its sign."""
    # Digits, separators and an ISO currency code need no escaping; the code is escaped anyway
    # because it comes from bank files.
    text = escape(format_money(amount, currency))
    return Markup(f'<span class="{amount_class(amount)}">{text}</span>')


def difference_html(amount: Decimal | None, currency: str | None = None) -> Markup:
    """A difference: marked when not zero, so that a short payment is seen at a glance."""
    if amount is None:
        return Markup("—")
    text = escape(format_money(amount, currency))
    if amount == ZERO:
        return Markup(f'<span class="num zero">{text}</span>')
    return Markup(f'<mark class="num diff">{text}</mark>')


def confidence_html(value: float) -> Markup:
    level = "high" if value >= 0.9 else "mid" if value >= 0.6 else "low"
    return Markup(f'<span class="conf {level}">{value * 100:.0f}%</span>')


def init_app(app: Flask) -> None:
    app.jinja_env.globals["amount"] = amount_html
    app.jinja_env.globals["diff"] = difference_html
    app.jinja_env.globals["confidence"] = confidence_html
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["isodate"] = format_date
    app.jinja_env.filters["percent"] = format_percent
    app.jinja_env.filters["amount_class"] = amount_class
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
