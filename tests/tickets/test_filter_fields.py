"""A valid filter form's fields are rendered once per distinct set of values; a form with errors every time."""

from django.http import QueryDict
from django.template.loader import render_to_string

from tenancy.models import Organization
from tickets.filter_fields import TEMPLATE, FilterFieldsMemo
from tickets.forms import QueueFilterForm, TicketFilterForm


def form(query: str) -> TicketFilterForm:
    return TicketFilterForm(QueryDict(query))


def test_kept_fields_are_the_fields_the_form_renders():
    memo = FilterFieldsMemo()
    for query in ("", "status=open", "priority=P1&q=disk+full", "q=%3Cscript%3E"):
        kept = memo.html(form(query))
        assert kept == render_to_string(TEMPLATE, {"filters": form(query)})
        assert memo.html(form(query)) is kept  # rendered once


def test_each_set_of_values_has_its_own_fields():
    memo = FilterFieldsMemo()
    assert '<option value="open" selected>' in memo.html(form("status=open"))
    assert '<option value="closed" selected>' in memo.html(form("status=closed"))
    assert 'value="&lt;script&gt;"' in memo.html(form("q=%3Cscript%3E"))


def test_a_form_with_errors_is_rendered_with_them_and_not_kept():
    memo = FilterFieldsMemo()
    html = memo.html(form("status=bogus"))
    assert "Select a valid choice. bogus is not one of the available choices." in html
    assert memo.html(form("status=bogus")) is not html
    assert memo.html(form("")) != html


def test_only_the_latest_sets_of_values_are_kept():
    memo = FilterFieldsMemo(kept=2)
    first = memo.html(form("q=one"))
    memo.html(form("q=two"))
    memo.html(form("q=three"))
    assert memo.html(form("q=one")) is not first  # the oldest went, and was rendered again
    assert memo.html(form("q=one")) == first


def test_forms_of_another_class_or_with_other_ids_keep_their_own_fields():
    memo = FilterFieldsMemo()
    tickets = memo.html(form("status=open"))
    prefixed = TicketFilterForm(QueryDict("status=open"), auto_id="filter_%s")
    queue = QueueFilterForm(QueryDict("status=open"), organizations=Organization.objects.none())
    for other in (prefixed, queue):
        assert memo.html(other) == render_to_string(TEMPLATE, {"filters": other}) != tickets
