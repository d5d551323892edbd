"""A small SVG builder for the results: one horizontal bar chart per scenario, with its target as a dashed line.

Written by hand (no chart library): a title, one bar per figure (percentiles of a latency, or a throughput) on a
linear scale with round ticks (or a logarithmic one, for figures orders of magnitude apart), the value at the end of
each bar, and the target drawn across all bars. Every piece of text is escaped, so a label can hold anything.
"""

import math
from dataclasses import dataclass
from html import escape

WIDTH = 760
LABEL_WIDTH = 230
RIGHT_MARGIN = 90
BAR_HEIGHT = 20
BAR_GAP = 8
TOP = 72
BOTTOM = 46
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\""
BAR_COLOUR = "#3b6ea8"
MISSED_COLOUR = "#c0392b"
TARGET_COLOUR = "#1e8449"


@dataclass(frozen=True)
class Target:
    value: float
    label: str
    higher_is_better: bool = False  # a throughput: bars below the line miss it
    judged: tuple[str, ...] = ()  # the bars the target is about (a median, say); empty: every bar

    def missed(self, label: str, value: float) -> bool:
        if self.judged and label not in self.judged:
            return False
        return value < self.value if self.higher_is_better else value > self.value


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value` (the end of the axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _tick(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 and value == int(value) else f"{value:g}"


def _number(value: float) -> str:
    if value >= 100:  # noqa: PLR2004
        return f"{value:,.0f}"
    if value >= 10:  # noqa: PLR2004
        return f"{value:.1f}"
    return f"{value:.2f}"


class Axis:
    """Where a value lies along the plot, linear from 0 or logarithmic between powers of ten."""

    def __init__(self, values: list[float], *, logarithmic: bool, left: float, width: float) -> None:
        self.logarithmic, self.left, self.width = logarithmic, left, width
        largest = max([*values, 0.0])
        if logarithmic:
            positive = [value for value in values if value > 0] or [1.0]
            self.low = 10.0 ** math.floor(math.log10(min(positive)))
            self.high = 10.0 ** math.ceil(math.log10(max(largest, self.low * 10)))
        else:
            self.low, self.high = 0.0, nice_ceiling(largest * 1.05)

    def x(self, value: float) -> float:
        if self.logarithmic:
            value = min(max(value, self.low), self.high)
            share = math.log10(value / self.low) / math.log10(self.high / self.low)
        else:
            share = min(max(value, 0.0), self.high) / self.high
        return self.left + self.width * share

    def ticks(self) -> list[float]:
        if self.logarithmic:
            decades = round(math.log10(self.high / self.low))
            return [self.low * 10**power for power in range(decades + 1)]
        return [self.high * tick / 5 for tick in range(6)]


def bar_chart(
    *,
    title: str,
    bars: list[tuple[str, float]],
    unit: str,
    target: Target | None = None,
    note: str = "",
    logarithmic: bool = False,
) -> str:
    """An SVG document: one bar per (label, value), on one axis in `unit`, with the target line if there is one."""
    height = TOP + len(bars) * (BAR_HEIGHT + BAR_GAP) + BOTTOM
    plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN
    values = [value for _, value in bars] + ([target.value] if target else [])
    axis = Axis(values, logarithmic=logarithmic, left=LABEL_WIDTH, width=plot)
    x = axis.x

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="12" y="24" font-size="15" font-weight="600" {FONT}>{escape(title)}</text>',
    ]
    if note:
        parts.append(f'<text x="12" y="44" font-size="11" fill="#555" {FONT}>{escape(note)}</text>')
    axis_y = TOP + len(bars) * (BAR_HEIGHT + BAR_GAP)
    for value in axis.ticks():
        position = x(value)
        parts.append(
            f'<line x1="{position:.1f}" y1="{TOP - 4}" x2="{position:.1f}" y2="{axis_y}" stroke="#e5e5e5"/>'
            f'<text x="{position:.1f}" y="{axis_y + 14}" font-size="10" text-anchor="middle" fill="#555" {FONT}>'
            f"{escape(_tick(value))}</text>"
        )
    parts.append(
        f'<text x="{LABEL_WIDTH + plot / 2:.1f}" y="{axis_y + 32}" font-size="11" text-anchor="middle" '
        f'fill="#333" {FONT}>{escape(unit + (" (logarithmic scale)" if logarithmic else ""))}</text>'
    )
    for index, (label, value) in enumerate(bars):
        top = TOP + index * (BAR_HEIGHT + BAR_GAP)
        colour = MISSED_COLOUR if target is not None and target.missed(label, value) else BAR_COLOUR
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{top + BAR_HEIGHT * 0.7:.1f}" font-size="12" text-anchor="end" '
            f"{FONT}>{escape(label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{top}" width="{max(x(value) - LABEL_WIDTH, 1):.1f}" '
            f'height="{BAR_HEIGHT}" fill="{colour}"/>'
            f'<text x="{x(value) + 4:.1f}" y="{top + BAR_HEIGHT * 0.7:.1f}" font-size="11" {FONT}>'
            f"{escape(_number(value))}</text>"
        )
    if target is not None:
        position = x(target.value)
        parts.append(
            f'<line x1="{position:.1f}" y1="{TOP - 8}" x2="{position:.1f}" y2="{axis_y}" '
            f'stroke="{TARGET_COLOUR}" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{position:.1f}" y="{TOP - 12}" font-size="11" text-anchor="middle" fill="{TARGET_COLOUR}" '
            f"{FONT}>{escape(target.label)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
