"""Small server-rendered SVG charts: no script, no library, styled by app.css classes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

from web.formatting import format_money


def stacked_columns(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *,
                    title: str, width: int = 560, height: int = 180) -> Markup:
    """Columns per label, each stacked from the given series (name, values)."""
    top, bottom, left = 16, 24, 28
    plot_h = height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    peak = max([*totals, 1])
    step = (width - left) / max(len(labels), 1)
    bar = step * 0.7
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width}" '
             f'y2="{top + plot_h}"/>',
             f'<text class="tick" x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>',
             f'<text class="tick" x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>']
    for i, label in enumerate(labels):
        x = left + i * step + (step - bar) / 2
        y: float = top + plot_h
        for index, (name, values) in enumerate(series):
            h = plot_h * values[i] / peak
            if h > 0:
                y -= h
                parts.append(f'<rect class="series-{index}" x="{x:.1f}" y="{y:.1f}" '
                             f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(label)} '
                             f'{escape(name)}: {values[i]}</title></rect>')
        if i % 2 == 0 or len(labels) <= 8:
            parts.append(f'<text class="tick" x="{x + bar / 2:.1f}" y="{height - 6}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(rows: Sequence[tuple[str, Decimal]], *, title: str, currency: str,
                    width: int = 560, row_height: int = 26) -> Markup:
    """One bar per row, labelled with the amount; negative amounts drawn from zero leftwards
    is not needed for aging (credit notes only lower a bucket), so they are clipped at zero."""
    label_w, value_w = 70, 150
    height = row_height * len(rows) + 8
    peak = max([abs(v) for _, v in rows] + [Decimal(1)])
    plot_w = width - label_w - value_w
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_height
        w = float(max(value, Decimal(0)) / peak) * plot_w
        parts.append(f'<text class="tick" x="{label_w - 6}" y="{y + row_height * 0.65:.1f}" '
                     f'text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect class="series-{min(i, 4)} aging" x="{label_w}" y="{y + 3}" '
                     f'width="{w:.1f}" height="{row_height - 8}"/>')
        parts.append(f'<text class="value" x="{width - 4}" y="{y + row_height * 0.65:.1f}" '
                     f'text-anchor="end">{escape(format_money(value, currency))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
