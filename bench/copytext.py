"""Values in PostgreSQL's COPY text format: NULL, escaped text, timestamps (no Django: the peer's seed uses them)."""

from datetime import date, timedelta

NULL = "\\N"


def escape(text: str) -> str:
    """A text value for COPY's text format (backslash, tab and line breaks escaped)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


_DAYS: dict[int, str] = {}
_SECONDS_OF_DAY = [f"{h:02d}:{m:02d}:{s:02d}+00" for h in range(24) for m in range(60) for s in range(60)]


def ts(epoch: float) -> str:
    """A timestamp with time zone, to the second, from seconds since the epoch (UTC).

    Built from cached day and time-of-day strings: the seed formats tens of millions of them.
    """
    day, second = divmod(int(epoch), 86_400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat() + " "
    return prefix + _SECONDS_OF_DAY[second]


def ts_or_null(epoch: float | None) -> str:
    return NULL if epoch is None else ts(epoch)


def num_or_null(value: float | None) -> str:
    return NULL if value is None else repr(value)
