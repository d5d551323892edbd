"""Bar charts as accessible SVG, drawn on the server: no script, no inline style (the page's CSP forbids both), every
text escaped. Colours come from classes in static/css/reports.css; the numbers are also in a table beside each chart.
"""

from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reports.figures import BINS_PER_TARGET, OVERFLOW_BIN, Distribution, SlaReport
from reports.formatting import minutes, percent, whole_percent
from sla.models import ClockKind
from tickets.models import Priority

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 32, 44
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BAR_SHARE = 0.72  # of a group's width; the rest separates groups
NICE_STEPS = (1, 2, 5)


@dataclass(frozen=True)
class Bar:
    value: float | None  # None: nothing to draw (no data)
    text: str  # printed above the bar
    title: str  # the bar's own title, read on hover and by the browser test
    series: int = 0
    css: str = ""


@dataclass(frozen=True)
class Group:
    label: str
    bars: list[Bar]


@dataclass(frozen=True)
class BarChart:
    key: str  # unique on the page: the SVG's title and description ids derive from it
    title: str
    description: str
    groups: list[Group]
    max_value: float
    ticks: list[tuple[float, str]]
    series: list[str] = field(default_factory=list)  # legend entries, when there is more than one series
    marker: tuple[float, str] | None = None  # a vertical line between groups (position in groups) and its label


def _number(value: float) -> str:
    return f"{value:.1f}"


def render(chart: BarChart) -> SafeString:
    title_id, desc_id = f"{chart.key}-title", f"{chart.key}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" class="chart" id="{escape(chart.key)}">',
        f'<title id="{escape(title_id)}">{escape(chart.title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(chart.description)}</desc>',
    ]
    baseline = TOP + PLOT_HEIGHT
    for value, label in chart.ticks:
        y = baseline - value / chart.max_value * PLOT_HEIGHT
        parts.append(
            f'<line class="chart-gridline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_number(y)}" y2="{_number(y)}"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{LEFT - 6}" y="{_number(y + 4)}" text-anchor="end">{escape(label)}</text>'
        )
    group_width = PLOT_WIDTH / max(len(chart.groups), 1)
    series_count = max(len(chart.series), 1)
    bar_width = group_width * BAR_SHARE / series_count
    for index, group in enumerate(chart.groups):
        group_left = LEFT + index * group_width + group_width * (1 - BAR_SHARE) / 2
        centre = LEFT + (index + 0.5) * group_width
        parts.append(
            f'<text class="chart-label" x="{_number(centre)}" y="{baseline + 16}" text-anchor="middle">'
            f"{escape(group.label)}</text>"
        )
        for bar in group.bars:
            x = group_left + bar.series * bar_width
            middle = _number(x + bar_width / 2)
            if bar.value is None:
                parts.append(
                    f'<text class="chart-value chart-empty" x="{middle}" y="{baseline - 4}" text-anchor="middle">'
                    f"<title>{escape(bar.title)}</title>{escape(bar.text)}</text>"
                )
                continue
            height = max(bar.value, 0) / chart.max_value * PLOT_HEIGHT
            classes = f"chart-bar series-{bar.series}{' ' + bar.css if bar.css else ''}"
            parts.append(
                f'<rect class="{escape(classes)}" x="{_number(x)}" y="{_number(baseline - height)}" '
                f'width="{_number(bar_width)}" height="{_number(height)}"><title>{escape(bar.title)}</title></rect>'
            )
            parts.append(
                f'<text class="chart-value" x="{middle}" y="{_number(baseline - height - 4)}" text-anchor="middle">'
                f"{escape(bar.text)}</text>"
            )
    parts.append(f'<line class="chart-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{baseline}" y2="{baseline}"/>')
    if chart.marker is not None:
        position, label = chart.marker
        at = _number(LEFT + position * group_width)
        parts.append(f'<line class="chart-marker" x1="{at}" x2="{at}" y1="{TOP - 6}" y2="{baseline}"/>')
        parts.append(
            f'<text class="chart-marker-label" x="{at}" y="{TOP - 10}" text-anchor="middle">{escape(label)}</text>'
        )
    if len(chart.series) > 1:
        for index, name in enumerate(chart.series):
            x = LEFT + index * 170
            parts.append(f'<rect class="chart-bar series-{index}" x="{x}" y="6" width="12" height="12"/>')
            parts.append(f'<text class="chart-legend" x="{x + 18}" y="16">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above went through escape())


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50… that is at least `value`."""
    magnitude = 1
    while True:
        for step in NICE_STEPS:
            if step * magnitude >= value:
                return float(step * magnitude)
        magnitude *= 10


def count_ticks(top: float) -> list[tuple[float, str]]:
    middle = [(top / 2, f"{top / 2:g}")] if top % 2 == 0 else []
    return [(0.0, "0"), *middle, (top, f"{top:g}")]


SHARE_TICKS = [(0.0, "0 %"), (0.5, "50 %"), (1.0, "100 %")]


def compliance_chart(report: SlaReport, kind: str) -> BarChart:
    label = ClockKind(kind).label.lower()
    bars = []
    for month in report.history:
        tally = month.of(kind)
        name = f"{month.month:%B %Y}"
        if tally.share_met is None:
            bars.append(Group(f"{month.month:%b %y}", [Bar(None, "–", f"{name}: no {label} decided")]))
            continue
        title = (
            f"{name}: {percent(tally.share_met)} met ({tally.met} of {tally.decided}), "
            f"{percent(tally.share_met_after_exclusions)} after exclusions"
        )
        bars.append(Group(f"{month.month:%b %y}", [Bar(tally.share_met, whole_percent(tally.share_met), title)]))
    return BarChart(
        key=f"chart-compliance-{kind.replace('_', '-')}",
        title=f"{ClockKind(kind).label}: share met, last 12 months",
        description=f"For each month from {report.history[0].month:%B %Y} to {report.history[-1].month:%B %Y}, the "
        f"share of {label} clocks decided in time, as measured (every breach counts). The table beside the chart has "
        "the counts and the share after exclusions.",
        groups=bars,
        max_value=1.0,
        ticks=SHARE_TICKS,
    )


def bin_label(distribution: Distribution, index: int, *, unit: bool = True) -> str:
    """'0–6' (minutes) when every clock had the same target, else '0–20 %' of each clock's own target; the chart's
    axis leaves the unit out, its title says it."""
    target = distribution.single_target
    if target is None:
        low, high = index * 100 // BINS_PER_TARGET, (index + 1) * 100 // BINS_PER_TARGET
        sign = " %" if unit else ""
        return f"≥{low}{sign}" if index == OVERFLOW_BIN else f"{low}–{high}{sign}"
    low_seconds, high_seconds = index * target / BINS_PER_TARGET, (index + 1) * target / BINS_PER_TARGET
    return f"≥{minutes(low_seconds)}" if index == OVERFLOW_BIN else f"{minutes(low_seconds)}–{minutes(high_seconds)}"


def distribution_chart(report: SlaReport, kind: str) -> BarChart:
    distribution = report.distributions[kind]
    label = ClockKind(kind).label.lower()
    target = distribution.single_target
    unit = "minutes on the clock" if target is not None else "percent of each clock's own target"
    top = nice_ceiling(max([b.count for b in distribution.bins] + [1]))
    groups = []
    for index, item in enumerate(distribution.bins):
        name = bin_label(distribution, index) + (" min" if target is not None else "")
        late = item.high is None or item.high > 1
        groups.append(
            Group(
                bin_label(distribution, index, unit=False),
                [Bar(float(item.count), str(item.count), f"{name}: {item.count}", css="late" if late else "")],
            )
        )
    target_text = f"target {minutes(target)} min" if target is not None else "target"
    return BarChart(
        key=f"chart-distribution-{kind.replace('_', '-')}",
        title=f"{ClockKind(kind).label}: time taken against the target ({'minutes' if target else '% of target'})",
        description=f"How many {label} clocks of the period stopped within each span of {unit}; the dashed line marks "
        "the target, and bars right of it were late.",
        groups=groups,
        max_value=top,
        ticks=count_ticks(top),
        marker=(float(BINS_PER_TARGET), target_text),
    )


def _breaches(count: int, clock: str) -> str:
    return f"{count} {clock} breach{'' if count == 1 else 'es'}"


def breaches_chart(report: SlaReport) -> BarChart:
    by_priority = report.breaches_by_priority
    kinds = ClockKind.values
    top = nice_ceiling(max([n for counts in by_priority.values() for n in counts.values()] + [1]))
    groups = [
        Group(
            priority,
            [
                Bar(
                    float(by_priority[kind][priority]),
                    str(by_priority[kind][priority]),
                    f"{priority}: {_breaches(by_priority[kind][priority], ClockKind(kind).label.lower())}",
                    series=series,
                )
                for series, kind in enumerate(kinds)
            ],
        )
        for priority in Priority.values
    ]
    return BarChart(
        key="chart-breaches",
        title="Breaches by priority",
        description="How many first-response and resolution clocks of the period breached, for each priority, "
        "excluded breaches included.",
        groups=groups,
        max_value=top,
        ticks=count_ticks(top),
        series=[ClockKind(kind).label for kind in kinds],
    )
