"""Small, dependency-free SVG charts for the offline report.

Three chart types cover the report: a line chart (throughput vs concurrency, with min-max
whiskers), a horizontal bar chart (memory stacked by process role, cold start with its
spread) and a percentile-range chart (latency p50 ... p99.9 per configuration). Every
chart has a title, labelled axes with units, grid lines and a legend, and draws text
with ``xml.sax.saxutils.escape`` so labels cannot break the markup.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies), one
colour per framework everywhere; servers are told apart by line dash and marker shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

#: One colour per framework (Okabe & Ito, "Color Universal Design").
FRAMEWORK_COLORS: dict[str, str] = {
    "fastapi": "#009E73",  # bluish green
    "flask": "#0072B2",  # blue
    "django": "#D55E00",  # vermillion
}
#: Fallback colours for anything else (remaining Okabe-Ito colours).
OTHER_COLORS = ("#CC79A7", "#E69F00", "#56B4E9", "#000000")

#: Line dash and marker per server, so pairs of one framework stay distinguishable in
#: greyscale and for readers who cannot tell the colours apart.
SERVER_STYLES: dict[str, tuple[str, str]] = {
    "uvicorn": ("", "circle"),
    "granian": ("7 4", "square"),
    "gunicorn-sync": ("2 3", "triangle"),
    "gunicorn-gthread": ("9 3 2 3", "diamond"),
    "gunicorn-gevent": ("14 4", "cross"),
}

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_TEXT = "#1f2328"
_MUTED = "#57606a"
_GRID = "#d8dee4"


def color_for(framework: str) -> str:
    """The framework's colour (a neutral one for unknown names)."""
    if framework in FRAMEWORK_COLORS:
        return FRAMEWORK_COLORS[framework]
    return OTHER_COLORS[sum(map(ord, framework)) % len(OTHER_COLORS)]


def style_for(server: str) -> tuple[str, str]:
    """``(dash pattern, marker)`` of a server."""
    return SERVER_STYLES.get(server, ("", "circle"))


def fmt_number(value: float) -> str:
    """Tick and label formatting: thousands separators, no spurious decimals."""
    if value == 0:
        return "0"
    # 99.96 rounds to 100 at one decimal: it is written as 100, like every number >= 100.
    if abs(value) >= 99.95:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.0f}" if value == round(value) else f"{value:.1f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``high`` (1, 2, 2.5 or 5 x 10^n steps)."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < high - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks covering ``low``..``high`` for a logarithmic axis."""
    ticks: list[float] = []
    exponent = math.floor(math.log10(low))
    while True:
        for m in (1, 2, 5):
            value = m * 10.0**exponent
            if value > high * 1.0001:
                return ticks or [low, high]
            if value >= low / 1.0001:
                ticks.append(value)
        exponent += 1


def _el(tag: str, content: str = "", **attrs: str | float) -> str:
    """One SVG element; attribute names use ``_`` for ``-``, numbers get one decimal,
    ``content`` is inserted as is (already escaped or markup)."""

    def value(v: str | float) -> str:
        return f"{v:.1f}" if isinstance(v, float) else str(v)

    extra = "".join(f" {k.replace('_', '-')}={quoteattr(value(v))}" for k, v in attrs.items())
    return f"<{tag}{extra}>{content}</{tag}>" if content else f"<{tag}{extra}/>"


def _text(x: float, y: float, content: str, **attrs: str | float) -> str:
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _marker(shape: str, x: float, y: float, color: str, size: float = 4.5) -> str:
    fill = f'fill="{color}" stroke="#ffffff" stroke-width="1"'
    if shape == "square":
        side = 2 * size
        return _el(
            "rect",
            x=x - size,
            y=y - size,
            width=side,
            height=side,
            fill=color,
            stroke="#ffffff",
            stroke_width=1,
        )
    if shape == "triangle":
        top, bottom, half = y - size * 1.2, y + size * 0.8, size * 1.1
        points = f"{x:.1f},{top:.1f} {x - half:.1f},{bottom:.1f} {x + half:.1f},{bottom:.1f}"
        return f'<polygon points="{points}" {fill}/>'
    if shape == "diamond":
        s = size * 1.25
        points = f"{x:.1f},{y - s:.1f} {x + s:.1f},{y:.1f} {x:.1f},{y + s:.1f} {x - s:.1f},{y:.1f}"
        return f'<polygon points="{points}" {fill}/>'
    if shape == "cross":
        s = size
        return (
            f'<path d="M{x - s:.1f},{y - s:.1f}L{x + s:.1f},{y + s:.1f}M{x - s:.1f},{y + s:.1f}'
            f'L{x + s:.1f},{y - s:.1f}" stroke="{color}" stroke-width="2.5"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" {fill}/>'


def _tip(x: float, y: float, radius: float, tip: str) -> str:
    """An invisible hit area that shows ``tip`` on hover (native SVG tooltip, no script)."""
    return _el("circle", f"<title>{escape(tip)}</title>", cx=x, cy=y, r=radius, fill="transparent")


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    """Wrap chart elements in an accessible, self-sized ``<svg>``."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" font-family="{FONT}" '
        f"aria-label={quoteattr(title)}><title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


@dataclass(frozen=True)
class Series:
    """One line: a ``label`` for the legend, its ``framework`` (colour) and ``server``
    (dash and marker), and points ``(x, median, low, high)``."""

    label: str
    framework: str
    server: str
    points: tuple[tuple[float, float, float, float], ...]


def _legend(
    entries: Sequence[tuple[str, str, str, str]], x: float, y: float, width: float
) -> tuple[list[str], float]:
    """Legend rows of ``(label, colour, dash, marker)``, flowing left to right within
    ``width``; returns the elements and the height used."""
    out: list[str] = []
    cx, cy, row_height = x, y, 20.0
    for label, color, dash, marker in entries:
        item_width = 44 + 7.2 * len(label)
        if cx + item_width > x + width and cx > x:
            cx, cy = x, cy + row_height
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{cx + 28:.1f}" y2="{cy:.1f}" '
            f'stroke="{color}" stroke-width="2.5"{dash_attr}/>'
        )
        if marker:
            out.append(_marker(marker, cx + 14, cy, color))
        out.append(_text(cx + 34, cy + 4, label, font_size=12, fill=_TEXT))
        cx += item_width
    return out, cy - y + row_height


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 1000,
    plot_height: int = 300,
) -> str:
    """Lines with markers and min-max whiskers on a log2 x axis (concurrency sweeps
    double) and a linear y axis from 0.

    Args:
        series: the lines; each point is ``(x, median, low, high)``.
        title: the chart title (also its accessible name).
        x_label / y_label: axis titles, with units.
        width: total width in pixels (default 1000).
        plot_height: height of the plotting area in pixels (default 300).
    """
    left, right, top = 72, 20, 40
    plot_w = width - left - right
    xs = sorted({p[0] for s in series for p in s.points}) or [1.0]
    y_max = max((p[3] for s in series for p in s.points), default=1.0)
    yticks = nice_ticks(y_max * 1.05)
    x_lo, x_hi = math.log2(xs[0]), math.log2(xs[-1])
    span = (x_hi - x_lo) or 1.0
    pad = 0.06 * plot_w

    def sx(x: float) -> float:
        if len(xs) == 1:
            return left + plot_w / 2
        return left + pad + (math.log2(x) - x_lo) / span * (plot_w - 2 * pad)

    def sy(y: float) -> float:
        return top + plot_height - y / yticks[-1] * plot_height

    body = [_text(left, 22, title, font_size=15, font_weight="600", fill=_TEXT)]
    for tick in yticks:
        y = sy(tick)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{_GRID}"/>'
        )
        body.append(
            _text(left - 8, y + 4, fmt_number(tick), font_size=11, fill=_MUTED, text_anchor="end")
        )
    axis_y = top + plot_height
    body.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="{_MUTED}"/>'
    )
    for x in xs:
        body.append(_el("line", x1=sx(x), y1=axis_y, x2=sx(x), y2=axis_y + 5, stroke=_MUTED))
        body.append(
            _text(
                sx(x), axis_y + 18, fmt_number(x), font_size=11, fill=_MUTED, text_anchor="middle"
            )
        )
    body.append(
        _text(
            left + plot_w / 2, axis_y + 38, x_label, font_size=12, fill=_TEXT, text_anchor="middle"
        )
    )
    cy = top + plot_height / 2
    body.append(
        _text(
            18,
            cy,
            y_label,
            font_size=12,
            fill=_TEXT,
            text_anchor="middle",
            transform=f"rotate(-90 18 {cy:.1f})",
        )
    )
    entries = []
    for item in series:
        color = color_for(item.framework)
        dash, marker = style_for(item.server)
        points = sorted(item.points)
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(m):.1f}"
            for i, (x, m, _, _) in enumerate(points)
        )
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        group = [f'<g class="series" data-label={quoteattr(item.label)}>']
        group.append(
            f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2.2"{dash_attr}/>'
        )
        for x, median, low, high in points:
            if high > low:
                group.append(
                    f'<line x1="{sx(x):.1f}" y1="{sy(low):.1f}" x2="{sx(x):.1f}" '
                    f'y2="{sy(high):.1f}" stroke="{color}" stroke-width="1.5"/>'
                )
            group.append(_marker(marker, sx(x), sy(median), color))
            tip = (
                f"{item.label}: {fmt_number(median)} at {fmt_number(x)} "
                f"(min {fmt_number(low)}, max {fmt_number(high)})"
            )
            group.append(_tip(sx(x), sy(median), 8, tip))
        group.append("</g>")
        body += group
        entries.append((item.label, color, dash, marker))
    legend, used = _legend(entries, left, axis_y + 62, plot_w)
    body += legend
    return _frame(width, int(axis_y + 62 + used), title, body)


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: a row ``label``, its ``framework`` (colour), stacked
    ``segments`` of ``(value, name)`` (the first drawn solid, later ones lighter), an
    optional ``whisker`` ``(low, high)`` and the ``note`` printed after the bar."""

    label: str
    framework: str
    segments: tuple[tuple[float, str], ...]
    whisker: tuple[float, float] | None = None
    note: str = ""


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    x_label: str,
    width: int = 1000,
    legend: Sequence[tuple[str, float]] = (),
) -> str:
    """Horizontal bars, one row per configuration, on a linear axis from 0.

    Args:
        bars: the rows, top to bottom.
        title: the chart title (also its accessible name).
        x_label: axis title with unit.
        width: total width in pixels (default 1000).
        legend: ``(segment name, opacity)`` entries explaining stacked segments.
    """
    label_w = max((7.0 * len(b.label) for b in bars), default=80.0) + 16
    left, right, top, row = label_w, 110.0, 40.0, 30.0
    plot_w = width - left - right
    high = max(
        (max(sum(v for v, _ in b.segments), b.whisker[1] if b.whisker else 0) for b in bars),
        default=1.0,
    )
    ticks = nice_ticks(high * 1.02)

    def sx(value: float) -> float:
        return left + value / ticks[-1] * plot_w

    plot_h = row * len(bars)
    body = _horizontal_frame(
        title, x_label, ticks, sx, left=left, top=top, plot_w=plot_w, plot_h=plot_h
    )
    for i, bar in enumerate(bars):
        y = top + i * row + 6
        color = color_for(bar.framework)
        body.append(_text(left - 8, y + 13, bar.label, font_size=12, fill=_TEXT, text_anchor="end"))
        start = 0.0
        group = [f'<g class="bar" data-label={quoteattr(bar.label)}>']
        for j, (value, name) in enumerate(bar.segments):
            opacity = 1.0 if j == 0 else 0.45
            tip = f"{bar.label}: {name} {fmt_number(value)}"
            group.append(
                _el(
                    "rect",
                    f"<title>{escape(tip)}</title>",
                    x=sx(start),
                    y=y,
                    width=max(sx(start + value) - sx(start), 0.5),
                    height=18,
                    fill=color,
                    fill_opacity=f"{opacity:g}",  # _el would round a float to one decimal
                    stroke="#ffffff",
                    stroke_width=0.8,
                )
            )
            start += value
        if bar.whisker:
            low, high_value = bar.whisker
            group.append(
                _el(
                    "path",
                    d=f"M{sx(low):.1f},{y + 9:.1f}H{sx(high_value):.1f}"
                    f"M{sx(low):.1f},{y + 4:.1f}V{y + 14:.1f}"
                    f"M{sx(high_value):.1f},{y + 4:.1f}V{y + 14:.1f}",
                    stroke=_TEXT,
                    stroke_width=1.2,
                    fill="none",
                )
            )
        end = max(start, bar.whisker[1] if bar.whisker else 0)
        group.append(_text(sx(end) + 6, y + 13, bar.note, font_size=11, fill=_MUTED))
        group.append("</g>")
        body += group
    height = top + plot_h + 48
    if legend:
        x = left
        for name, opacity in legend:
            body.append(
                _el(
                    "rect",
                    x=x,
                    y=height - 4,
                    width=14,
                    height=12,
                    fill=_MUTED,
                    fill_opacity=f"{opacity:g}",
                )
            )
            body.append(_text(x + 20, height + 6, name, font_size=12, fill=_TEXT))
            x += 40 + 7.2 * len(name)
        height += 20
    return _frame(width, int(height), title, body)


@dataclass(frozen=True)
class RangeRow:
    """One configuration's latency percentiles: ``values`` maps a percentile name
    (``p50`` ...) to milliseconds, in increasing order."""

    label: str
    framework: str
    values: tuple[tuple[str, float], ...]


def range_chart(rows: Sequence[RangeRow], *, title: str, x_label: str, width: int = 1000) -> str:
    """Percentile ranges on a logarithmic axis: a line from the lowest to the highest
    percentile of each row, a marker per percentile (shape legend below).

    Args:
        rows: one per configuration, top to bottom.
        title: the chart title (also its accessible name).
        x_label: axis title with unit.
        width: total width in pixels (default 1000).
    """
    shapes = ("circle", "square", "triangle", "diamond", "cross")
    names = list(dict.fromkeys(name for r in rows for name, _ in r.values))
    values = [v for r in rows for _, v in r.values if v > 0]
    low, high = (min(values), max(values)) if values else (1.0, 10.0)
    ticks = log_ticks(low, high)
    lo, hi = math.log10(min(ticks[0], low)), math.log10(max(ticks[-1], high))
    label_w = max((7.0 * len(r.label) for r in rows), default=80.0) + 16
    left, right, top, row = label_w, 30.0, 40.0, 28.0
    plot_w = width - left - right

    def sx(value: float) -> float:
        return left + (math.log10(max(value, 1e-9)) - lo) / ((hi - lo) or 1.0) * plot_w

    plot_h = row * len(rows)
    body = _horizontal_frame(
        title, x_label, ticks, sx, left=left, top=top, plot_w=plot_w, plot_h=plot_h
    )
    for i, item in enumerate(rows):
        y = top + i * row + row / 2
        color = color_for(item.framework)
        body.append(_text(left - 8, y + 4, item.label, font_size=12, fill=_TEXT, text_anchor="end"))
        xs = [sx(v) for _, v in item.values]
        group = [f'<g class="range" data-label={quoteattr(item.label)}>']
        if xs:
            group.append(
                _el(
                    "line",
                    x1=min(xs),
                    y1=y,
                    x2=max(xs),
                    y2=y,
                    stroke=color,
                    stroke_width=3,
                    stroke_opacity=0.5,
                )
            )
        for name, value in item.values:
            shape = shapes[names.index(name) % len(shapes)]
            group.append(_marker(shape, sx(value), y, color))
            tip = f"{item.label}: {name} {fmt_number(value)} ms"
            group.append(_tip(sx(value), y, 7, tip))
        group.append("</g>")
        body += group
    entries = [(name, _MUTED, "", shapes[i % len(shapes)]) for i, name in enumerate(names)]
    legend, used = _legend(entries, left, top + plot_h + 60, plot_w)
    body += legend
    return _frame(width, int(top + plot_h + 60 + used), title, body)


def _horizontal_frame(
    title: str,
    x_label: str,
    ticks: list[float],
    sx: Callable[[float], float],
    *,
    left: float,
    top: float,
    plot_w: float,
    plot_h: float,
) -> list[str]:
    """The frame shared by the horizontal charts: the title, a vertical grid line and a
    label per x tick (``sx`` maps a value to its x position), and the x-axis label."""
    body = [_text(16, 22, title, font_size=15, font_weight="600", fill=_TEXT)]
    for tick in ticks:
        body.append(_el("line", x1=sx(tick), y1=top, x2=sx(tick), y2=top + plot_h, stroke=_GRID))
        body.append(
            _text(
                sx(tick),
                top + plot_h + 16,
                fmt_number(tick),
                font_size=11,
                fill=_MUTED,
                text_anchor="middle",
            )
        )
    body.append(
        _text(
            left + plot_w / 2,
            top + plot_h + 36,
            x_label,
            font_size=12,
            fill=_TEXT,
            text_anchor="middle",
        )
    )
    return body
