"""The dashboard's small bar chart of cases a month, drawn on the server as SVG.

No JavaScript and no user content: the only texts are month numbers, counts
and a translated title, every one escaped. A suppressed month ("<5") is drawn
as a pale bar up to the threshold, a hidden one (null) as no bar; the table
beside the chart gives every value in words for screen readers. Colours are
presentation attributes, not inline styles (the CSP allows no inline style).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from intake.coordination.suppression import Cell

WIDTH, HEIGHT = 372, 170
_LEFT, _TOP, _BOTTOM = 8, 18, 24
_BAR, _GAP = 22, 8
_INK, _PALE, _AXIS = "#1f4e79", "#a9c1d9", "#555555"


def month_chart(months: Sequence[tuple[str, Cell]], *, small: int, title: str) -> Markup:
    """An SVG of `(YYYY-MM, printed count)` pairs, oldest first."""
    plot = HEIGHT - _TOP - _BOTTOM
    peak = max([small, *(n for _m, n in months if isinstance(n, int))])
    parts = [
        f'<svg class="st-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title"><title id="chart-title">{escape(title)}</title>',
        f'<line x1="{_LEFT}" y1="{HEIGHT - _BOTTOM}" x2="{WIDTH - _LEFT}" '
        f'y2="{HEIGHT - _BOTTOM}" stroke="{_AXIS}" stroke-width="1"/>',
    ]
    for index, (month, count) in enumerate(months):
        x = _LEFT + _GAP // 2 + index * (_BAR + _GAP)
        parts.append(_bar(x, count, small=small, peak=peak, plot=plot))
        parts.append(
            f'<text x="{x + _BAR // 2}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle" '
            f'fill="{_AXIS}">{escape(month[5:7])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def _bar(x: int, count: Cell, *, small: int, peak: int, plot: int) -> str:
    if count is None or count == 0:
        label = "–" if count is None else "0"
        return _label(x, HEIGHT - _BOTTOM - 4, label)
    value, colour = (count, _INK) if isinstance(count, int) else (small, _PALE)
    height = max(2, round(plot * value / peak))
    top = HEIGHT - _BOTTOM - height
    return f'<rect x="{x}" y="{top}" width="{_BAR}" height="{height}" fill="{colour}"/>' + _label(
        x, top - 4, str(count)
    )


def _label(x: int, y: int, text: str) -> str:
    return (
        f'<text x="{x + _BAR // 2}" y="{y}" font-size="10" text-anchor="middle" '
        f'fill="{_AXIS}">{escape(text)}</text>'
    )
