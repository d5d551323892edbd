"""Excluding breaches: only staff, only breaches, always with a reason, every decision kept, the breach untouched."""

import pytest

from core.exceptions import ApplicationError, PermissionDeniedError
from reports.models import BreachExclusion, BreachExclusionChange
from reports.services import breach_exclude, breach_reinstate
from sla.models import Record
from tests.reports.conftest import READ_AT, at

pytestmark = pytest.mark.django_db


def breach(month, name: str) -> Record:
    return Record.objects.get(ticket=month.tickets[name], kind="breach")


def test_excluding_again_changes_the_reason_and_keeps_both_decisions(month):
    record = breach(month, "T5")

    breach_exclude(record=record, actor=month.admin, category="other", reason="  Rescheduled call  ", now=READ_AT)

    exclusion = BreachExclusion.objects.get(record=record)
    assert (exclusion.category, exclusion.reason, exclusion.decided_by) == ("other", "Rescheduled call", month.admin)
    changes = BreachExclusionChange.objects.filter(exclusion=exclusion).order_by("changed_at")
    assert [(c.action, c.category, c.changed_by, c.changed_at) for c in changes] == [
        ("excluded", "customer_delay", month.engineer, at(3, 20, 12)),
        ("excluded", "other", month.admin, READ_AT),
    ]


def test_counting_a_breach_again_keeps_the_breach_and_the_history(month):
    record = breach(month, "T5")

    breach_reinstate(record=record, actor=month.admin, reason="Our delay after all", now=READ_AT)

    exclusion = BreachExclusion.objects.get(record=record)
    assert (exclusion.excluded, exclusion.category, exclusion.reason) == (False, "", "Our delay after all")
    assert BreachExclusionChange.objects.filter(exclusion=exclusion).count() == 2
    record.refresh_from_db()
    assert record.kind == "breach"
    assert record.clock.state == "breached"


def test_customers_cannot_exclude_breaches(month):
    with pytest.raises(PermissionDeniedError):
        breach_exclude(
            record=breach(month, "T2"), actor=month.customer_admin, category="other", reason="No", now=READ_AT
        )

    assert not BreachExclusion.objects.filter(record__ticket=month.tickets["T2"]).exists()


def test_only_breaches_can_be_excluded(month):
    warning = Record.objects.get(ticket=month.tickets["T2"], kind="warning", clock_kind="first_response")

    with pytest.raises(ApplicationError):
        breach_exclude(record=warning, actor=month.admin, category="other", reason="x", now=READ_AT)


def test_every_problem_is_reported_at_once(month):
    with pytest.raises(ApplicationError) as refused:
        breach_exclude(record=breach(month, "T2"), actor=month.admin, category="", reason=" ", now=READ_AT)

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("category", "required"), ("reason", "blank")]


def test_a_reason_has_a_length_limit(month):
    with pytest.raises(ApplicationError) as refused:
        breach_exclude(record=breach(month, "T2"), actor=month.admin, category="other", reason="x" * 2001, now=READ_AT)

    assert refused.value.errors[0]["code"] == "max_length"


def test_a_breach_that_counts_cannot_be_counted_again(month):
    with pytest.raises(ApplicationError) as refused:
        breach_reinstate(record=breach(month, "T2"), actor=month.admin, reason="x", now=READ_AT)

    assert refused.value.errors[0]["code"] == "not_excluded"
    assert not BreachExclusion.objects.filter(record__ticket=month.tickets["T2"]).exists()
