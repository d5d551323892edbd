"""The March report of tests/reports/conftest.py, worked out by hand from the timeline there."""

from datetime import date

import pytest

from reports.breaches import late_seconds
from reports.periods import ReportPeriod, period_parse
from reports.selectors import breach_list, sla_report_get
from tests.reports.conftest import READ_AT, at

pytestmark = pytest.mark.django_db

MARCH = {"month": "2026-03"}
# Times on the clock, in seconds, sorted.
FIRST_RESPONSES = [300, 300, 600, 600, 900, 1200, 1860, 2700]  # T8 T3 T1 T6 T7 T4 T5 T2
RESOLUTIONS = [1200, 1800, 3000, 3600, 3600, 7200, 7200, 18000]  # T6 T8 T2 T4 T5 T1 T3(4 h less 2 h paused) T4 again


def march(month) -> ReportPeriod:
    return period_parse(MARCH, timezone="Europe/Berlin", today=READ_AT.date())


def test_march_counts_tickets_by_when_they_were_received_in_berlin(month):
    report = sla_report_get(organization=month.organization, period=march(month), now=READ_AT)

    # T8 (28 Feb 23:30 UTC) is 1 March in Berlin; T9 (31 Mar 22:30 UTC) is 1 April; X is another organization's.
    assert report.received_total == 8
    assert report.received_by_priority == {"P1": 1, "P2": 3, "P3": 2, "P4": 2}
    assert report.received_by_type["incident"] == 5
    assert report.received_by_type["question"] == 3
    assert report.period.starts_at == at(2, 28, 23)
    assert report.period.ends_at == at(3, 31, 22)  # summer time began on 29 March


def test_first_response_figures(month):
    figures = sla_report_get(organization=month.organization, period=march(month), now=READ_AT).first_response

    assert (figures.clocks, figures.met, figures.breached, figures.excluded, figures.open) == (8, 6, 2, 1, 0)
    assert figures.share_met == 0.75
    assert figures.share_met_after_exclusions == round(6 / 7, 4)
    # percentile_cont: the median lies halfway between the 4th and 5th of eight; the 95th at 6.65 of 0..7.
    assert figures.median_seconds == (600 + 900) / 2
    assert figures.p95_seconds == pytest.approx(1860 + 0.65 * (2700 - 1860))
    assert figures.breaches_by_priority == {"P1": 0, "P2": 0, "P3": 2, "P4": 0}


def test_resolution_figures_count_the_reopened_round_and_leave_out_the_paused_time(month):
    report = sla_report_get(organization=month.organization, period=march(month), now=READ_AT)
    figures = report.resolution

    # nine clocks: one per ticket and T4's second round; T7 is still waiting on the customer.
    assert (figures.clocks, figures.reopened, figures.met, figures.breached, figures.open) == (9, 1, 7, 1, 1)
    assert figures.stopped == 8
    assert figures.share_met == 0.875
    assert figures.median_seconds == 3600
    assert figures.p95_seconds == pytest.approx(7200 + 0.65 * (18000 - 7200))
    assert figures.breaches_by_priority == {"P1": 1, "P2": 0, "P3": 0, "P4": 0}
    # the SLA's aim: resolved within 30 minutes on the clock: T6 (20 min) and T8 (exactly 30 min).
    assert (report.aim.within, report.aim.resolved, report.aim.share) == (2, 8, 0.25)


def test_time_paused_by_reason_runs_until_now_for_a_pause_still_running(month):
    report = sla_report_get(organization=month.organization, period=march(month), now=READ_AT)

    [pause] = report.pauses
    # T3 waited 2 h; T7 waits since 31 March 19:00, 11 hours before the report was read.
    assert (pause.clock, pause.reason, pause.pauses, pause.seconds) == ("resolution", "waiting_on_customer", 2, 46800)


def test_both_policy_versions_of_the_month_with_their_tickets(month):
    report = sla_report_get(organization=month.organization, period=march(month), now=READ_AT)

    spans = [(s.version, s.in_force_from, s.in_force_to, s.tickets, s.package) for s in report.policies]
    assert spans == [
        (0, at(2, 28, 23), at(3, 16, 10), 5, "premium"),
        (1, at(3, 16, 10), at(3, 31, 22), 3, "premium"),
    ]
    assert report.policies[1].policy["first_response_seconds"] == {"*": 1800, "P1": 900}
    assert report.policies[1].reason == "Amendment 3: P1 first response in 15 minutes"


def test_twelve_months_of_history_end_with_the_period(month):
    report = sla_report_get(organization=month.organization, period=march(month), now=READ_AT)

    assert report.history[0].month == date(2025, 4, 1)
    assert report.history[-1].month == date(2026, 3, 1)
    february, march_ = report.history[-2], report.history[-1]
    assert (february.first_response.met, february.first_response.breached) == (0, 1)
    assert (february.resolution.met, february.resolution.breached) == (1, 0)
    assert (march_.first_response.met, march_.first_response.breached, march_.first_response.excluded) == (6, 2, 1)
    assert (march_.resolution.met, march_.resolution.breached) == (7, 1)
    assert all(m.first_response.decided == 0 for m in report.history[:-2])


def test_distribution_in_fifths_of_each_clocks_target(month):
    report = sla_report_get(organization=month.organization, period=march(month), now=READ_AT)

    first = report.distributions["first_response"]
    assert first.targets_seconds == [1800]
    # fifths of 30 minutes are 6 minutes: 5, 5, 10, 10, 15, 20, 31 and 45 minutes.
    assert [b.count for b in first.bins] == [2, 2, 1, 1, 0, 1, 0, 1, 0, 0, 0]
    resolution = report.distributions["resolution"]
    assert resolution.targets_seconds == [3600, 14400]
    assert [b.count for b in resolution.bins] == [0, 3, 3, 0, 1, 0, 1, 0, 0, 0, 0]
    assert sum(b.count for b in resolution.bins) == len(RESOLUTIONS)
    assert sum(b.count for b in first.bins) == len(FIRST_RESPONSES)


def test_the_breaches_of_the_month_by_deadline(month):
    breaches = list(breach_list(organization=month.organization, period=march(month)))

    assert [(b.ticket.reference, b.clock_kind, b.epoch, b.due_at) for b in breaches] == [
        (month.tickets["T2"].reference, "first_response", 0, at(3, 3, 9, 30)),
        (month.tickets["T4"].reference, "resolution", 1, at(3, 5, 16)),
        (month.tickets["T5"].reference, "first_response", 0, at(3, 17, 9, 30)),
    ]
    assert [late_seconds(b, now=READ_AT) for b in breaches] == [900, 3600, 60]
    assert [getattr(b.clock, "breach_exclusion", None) is not None for b in breaches] == [False, False, True]


def test_a_range_of_days_in_the_organizations_timezone(month):
    period = period_parse({"from": "2026-03-01", "to": "2026-03-04"}, timezone="Europe/Berlin", today=READ_AT.date())

    report = sla_report_get(organization=month.organization, period=period, now=READ_AT)

    assert report.received_total == 4  # T8, T1, T2, T3
    assert report.first_response.breached == 1  # T2
    assert report.resolution.clocks == 4
    assert [s.version for s in report.policies] == [0]
    assert report.history[-1].month == date(2026, 3, 1)  # the history still shows whole months


def test_an_empty_period_has_no_shares(month):
    period = period_parse({"month": "2025-06"}, timezone="Europe/Berlin", today=READ_AT.date())

    report = sla_report_get(organization=month.organization, period=period, now=READ_AT)

    assert report.received_total == 0
    assert report.first_response.share_met is None
    assert report.first_response.median_seconds is None
    assert report.aim.share is None
    assert report.pauses == []
    assert report.policies == []  # the contract began in January 2026
