"""The project's URL tree as a flat list of routes, and a way to turn a route into a concrete path.

One walker for every test that must cover each URL pattern: the cross-tenant walk in tests/architecture and the
authorization matrix here both start from `url_routes()`, so a new route is covered without a test naming it.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# `<kind:name>` converters and `(?P<name>…)` regex groups of a route, in order.
_PARAMETER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>(?P<pattern>[^)]*)\)")


@dataclass(frozen=True)
class Route:
    template: str  # as Django spells it, e.g. "api/v1/orgs/<slug:org_slug>/tickets/<uuid:ticket_id>/"
    name: str | None

    @property
    def parameters(self) -> list[str]:
        return [match["name"] or match["group"] for match in _PARAMETER.finditer(self.template)]

    def path(self, values: Mapping[str, str], *, default: str = "sample") -> str:
        """The route with each parameter replaced by `values[name]`; a regex alternation takes its first choice."""

        def replace(match: re.Match[str]) -> str:
            name = match["name"] or match["group"]
            if name in values:
                return values[name]
            pattern = match["pattern"]
            if pattern and re.fullmatch(r"[\w|-]+", pattern):
                return pattern.split("|")[0]
            return default

        concrete = _PARAMETER.sub(replace, self.template)
        return "/" + concrete.replace("^", "").replace("$", "")


def url_routes() -> list[Route]:
    """Every URL pattern of the project, nested includes flattened, sorted by template."""

    def walk(resolver: URLResolver, prefix: str) -> Iterator[Route]:
        for pattern in resolver.url_patterns:
            template = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, template)
            elif isinstance(pattern, URLPattern):
                yield Route(template=template, name=pattern.name)

    return sorted(set(walk(get_resolver(), "")), key=lambda route: route.template)
