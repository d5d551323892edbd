"""How report figures read on pages, in charts and in CSV."""

from sla.explain import duration

NO_VALUE = "—"


def percent(share: float | None) -> str:
    return NO_VALUE if share is None else f"{share * 100:.1f} %"


def whole_percent(share: float | None) -> str:
    return NO_VALUE if share is None else f"{share * 100:.0f} %"


def time_span(seconds: float | None) -> str:
    return NO_VALUE if seconds is None else duration(seconds)


def minutes(seconds: float) -> str:
    """'6', '7.5': a bin edge in minutes."""
    value = seconds / 60
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
