"""The parts of the side-by-side benchmark that run without the peer installed, and the bench's SVG charts.

The peer's rows are generated and checked against its 2.6.1 schema's columns, its staff list URL is decoded as the peer
decodes it, ratios are formatted, and a chart with hostile labels is still well-formed, escaped SVG.
"""

import base64
import json
from collections import Counter
from typing import Any
from xml.etree import ElementTree

import pytest

from bench import svg
from bench.peer import report
from bench.peer.rows import CLOSED, FOLLOWUP_COLUMNS, OPEN, REOPENED, RESOLVED, TICKET_COLUMNS, PeerScale, generate
from bench.peer.run import PEER_DEFAULT_QUERY, peer_list_path

SCALE = PeerScale("test", 2_000, 7, 0.30)
T0 = 1_780_000_000.0


def _rows(chunk_size: int = 700) -> tuple[list[list[str]], list[list[str]], int]:
    tickets: list[list[str]] = []
    followups: list[list[str]] = []
    chunks = 0
    for chunk in generate(scale=SCALE, queue_ids=list(range(11, 18)), staff_ids=[3, 4, 5], t0=T0, chunk=chunk_size):
        chunks += 1
        tickets += [line.rstrip("\n").split("\t") for line in chunk.tickets]
        followups += [line.rstrip("\n").split("\t") for line in chunk.followups]
    return tickets, followups, chunks


def test_peer_rows_have_every_column_the_share_open_and_a_conversation_each():
    tickets, followups, chunks = _rows()
    assert chunks == 3  # 700 + 700 + 600
    assert len(tickets) == SCALE.tickets
    assert all(len(row) == len(TICKET_COLUMNS) for row in tickets)
    assert all(len(row) == len(FOLLOWUP_COLUMNS) for row in followups)
    column = {name: index for index, name in enumerate(TICKET_COLUMNS)}
    assert [int(row[column["id"]]) for row in tickets] == list(range(1, SCALE.tickets + 1))
    statuses = Counter(int(row[column["status"]]) for row in tickets)
    assert statuses[OPEN] + statuses[REOPENED] == SCALE.open_tickets == 600
    assert statuses[RESOLVED] + statuses[CLOSED] == 1_400
    assert {int(row[column["queue_id"]]) for row in tickets} == set(range(11, 18))
    assert {row[column["assigned_to_id"]] for row in tickets} <= {"3", "4", "5", "\\N"}
    assert len({row[column["secret_key"]] for row in tickets}) == SCALE.tickets
    follow = {name: index for index, name in enumerate(FOLLOWUP_COLUMNS)}
    per_ticket = Counter(int(row[follow["ticket_id"]]) for row in followups)
    assert set(per_ticket) == set(range(1, SCALE.tickets + 1))
    assert [int(row[follow["id"]]) for row in followups] == list(range(1, len(followups) + 1))
    opened = [row for row in followups if row[follow["title"]] == "Ticket Opened"]
    assert len(opened) == SCALE.tickets
    assert all("\t" not in cell and "\n" not in cell for row in tickets + followups for cell in row)


def test_peer_rows_are_the_same_every_time():
    assert _rows() == _rows()


def test_peer_rows_need_a_queue_id_per_queue():
    with pytest.raises(ValueError, match="queue id"):
        next(generate(scale=SCALE, queue_ids=[1, 2], staff_ids=[3], t0=T0))


def test_the_staff_list_path_carries_the_peers_default_query_as_its_list_encodes_it():
    path = peer_list_path(length=50)
    encoded, _, query = path.removeprefix("/datatables_ticket_list/").partition("?")
    assert json.loads(base64.b64decode(encoded)) == PEER_DEFAULT_QUERY
    assert "length=50" in query
    assert "draw=1" in query


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (0.0021, "0.0021×"), (0.35, "0.35×"), (1.0, "1.00×"), (12.345, "12.3×"), (1530.2, "1,530×")],
)
def test_ratios_are_formatted_for_reading(value, text):
    assert report.format_ratio(value) == text


def _side(median: float, throughput: float, queries: int, cpu: float) -> dict[str, Any]:
    return {
        "endpoint": "GET /x/",
        "latency": {"median_ms": median, "p95_ms": median * 2},
        "throughput_per_s": throughput,
        "queries_per_request": queries,
        "cpu_ms_per_request": cpu,
        "ok": 10,
    }


def test_ratios_are_ours_over_theirs_and_survive_a_missing_figure():
    pair = {"ours": _side(20.0, 50.0, 4, 10.0), "theirs": _side(40_000.0, 0.05, 100_004, 20_000.0)}
    found = report.ratios(pair)
    assert found["median"] == pytest.approx(0.0005)
    assert found["throughput"] == pytest.approx(1000.0)
    assert found["queries"] == pytest.approx(4 / 100_004)
    assert report.ratios({"ours": _side(20.0, 50.0, 4, 10.0), "theirs": _side(0.0, 0.0, 0, 0.0)})["median"] is None
    assert report.ratio_rows({"ticket_detail": pair}) == [
        ["ticket_detail", "0.0005×", "0.0005×", "1,000×", "4e-05×", "0.0005×"]
    ]
    sides = report.side_rows({"ticket_detail": pair})
    assert sides[1][4] == "40.00 s"  # a peer's 40-second median reads in seconds


def test_a_chart_escapes_its_text_and_draws_its_target():
    drawing = svg.bar_chart(
        title='Filters <script>alert("x")</script> & more',
        bars=[("view=at_risk&sort=due", 12.5), ("<b>", 45.0)],
        unit="ms",
        target=svg.Target(30.0, "target 30 ms"),
    )
    root = ElementTree.fromstring(drawing)  # noqa: S314 (our own output)
    texts = [element.text for element in root.iter() if element.text]
    assert 'Filters <script>alert("x")</script> & more' in texts
    assert "view=at_risk&sort=due" in texts
    assert "<script>" not in drawing
    assert drawing.count('stroke-dasharray="6 4"') == 1
    assert drawing.count('fill="#c0392b"') == 1  # only the bar beyond the target is drawn as missed
    judged = svg.bar_chart(
        title="latency",
        bars=[("median", 12.0), ("p99", 80.0)],
        unit="ms",
        target=svg.Target(30.0, "target 30 ms", judged=("median",)),
    )
    assert 'fill="#c0392b"' not in judged  # a p99 beyond a target set on the median misses nothing


def test_a_logarithmic_chart_spans_powers_of_ten():
    axis = svg.Axis([12.0, 48_000.0], logarithmic=True, left=0, width=100)
    assert axis.ticks() == [10.0, 100.0, 1_000.0, 10_000.0, 100_000.0]
    assert axis.x(10.0) == 0
    assert axis.x(100_000.0) == 100
    assert svg.nice_ceiling(31.5) == 50.0
