from django import template

from reports import formatting

register = template.Library()


@register.filter
def percent(share: float | None) -> str:
    """`{{ tally.share_met|percent }}`: '87.5 %', or a dash when nothing was decided."""
    return formatting.percent(share)


@register.filter
def time_span(seconds: float | None) -> str:
    """`{{ figures.median_seconds|time_span }}`: '12 min', '2 h 5 min', or a dash."""
    return formatting.time_span(seconds)
