"""Charts drawn on the server as inline SVG: no CDN, no JavaScript library."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


class DailySeries(NamedTuple):
    label: str
    color: str
    values: list[int]


def _nice_max(value: int) -> int:
    """The axis top: 1, 2, 5 x 10^n at or above the largest bar."""
    if value <= 5:
        return 5
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= value:
                return step * m
        step *= 10


def daily_bars_svg(
    *, days: list[dt.date], series: list[DailySeries], width: int = 720, height: int = 220
) -> SafeString:
    """Grouped bars per day, one colour per series, with a y axis, a legend and
    a <title> per bar (the exact figure on hover)."""
    left, right, top, bottom = 36, 8, 24, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((v for s in series for v in s.values), default=0))
    slot = plot_w / max(len(days), 1)
    bar_w = max((slot - 6) / max(len(series), 1), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ops-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Orders in and packages confirmed per day">'
    ]
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="#666">{value:g}</text>'
        )
    for d_index, day in enumerate(days):
        x0 = left + slot * d_index + 3
        for s_index, s in enumerate(series):
            value = s.values[d_index]
            h = plot_h * value / top_value
            x = x0 + bar_w * s_index
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{escape(s.color)}"><title>{escape(s.label)} {day:%b %d}: {value}</title></rect>'
            )
        if d_index % 2 == 0 or len(days) <= 7:
            parts.append(
                f'<text x="{x0 + (slot - 6) / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f'font-size="10" fill="#666">{day:%m-%d}</text>'
            )
    legend_x = left
    for s in series:
        parts.append(
            f'<rect x="{legend_x}" y="6" width="10" height="10" fill="{escape(s.color)}"/>'
            f'<text x="{legend_x + 14}" y="15" font-size="11" fill="#333">{escape(s.label)} '
            f"({sum(s.values)})</text>"
        )
        legend_x += 14 + 8 * (len(s.label) + 6) + 12
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped or a number
