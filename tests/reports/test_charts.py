"""The SVG builder: accessible, escaped, and drawn to scale."""

import re
from typing import Any
from xml.etree import ElementTree

from reports.charts import Bar, BarChart, Group, nice_ceiling, render

SVG = "{http://www.w3.org/2000/svg}"


def chart(**overrides: Any) -> BarChart:
    fields: dict[str, Any] = {
        "key": "chart-test",
        "title": "Breaches <by> priority",
        "description": "Counts & more",
        "groups": [
            Group("P1", [Bar(4.0, "4", "P1: 4 <script>alert(1)</script>")]),
            Group("P2 & co", [Bar(None, "–", "no data")]),
        ],
        "max_value": 8.0,
        "ticks": [(0.0, "0"), (8.0, "8")],
    } | overrides
    return BarChart(**fields)


def test_the_svg_is_an_image_with_its_title_and_description():
    svg = ElementTree.fromstring(str(render(chart())))  # noqa: S314 (markup we just drew)

    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-test-title chart-test-desc"
    assert svg.findtext(f"{SVG}title") == "Breaches <by> priority"
    assert svg.findtext(f"{SVG}desc") == "Counts & more"


def test_every_text_is_escaped():
    markup = str(render(chart()))

    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    assert "P2 &amp; co" in markup


def test_bars_are_drawn_to_scale_and_missing_values_are_said():
    svg = ElementTree.fromstring(str(render(chart())))  # noqa: S314 (markup we just drew)

    [bar] = svg.findall(f"{SVG}rect")
    assert float(bar.get("height", "")) == 204 / 2  # half of the plot's height for 4 of 8
    assert bar.findtext(f"{SVG}title") == "P1: 4 <script>alert(1)</script>"
    empty = [text for text in svg.iter(f"{SVG}text") if text.find(f"{SVG}title") is not None]
    assert empty[0].findtext(f"{SVG}title") == "no data"


def test_a_marker_and_a_legend_when_asked():
    markup = str(render(chart(marker=(1.0, "target 30 min"), series=["First response", "Resolution"])))

    assert 'class="chart-marker"' in markup
    assert ">target 30 min</text>" in markup
    assert re.findall(r'class="chart-legend"[^>]*>([^<]+)<', markup) == ["First response", "Resolution"]


def test_nice_ceilings():
    assert [nice_ceiling(value) for value in (0.5, 1, 3, 7, 11, 240)] == [1, 1, 5, 10, 20, 500]
