"""The ticket lists' filter fields as HTML, kept per distinct set of values.

Django's widget templates cost a seventh of a list page, and a valid filter form renders alike whenever its values
are alike (its fields and choices are fixed), so each process keeps the HTML of the last sets of values it rendered.
A form with errors is rendered every time: its errors are part of its HTML.
"""

import threading
from collections import OrderedDict

from django import forms
from django.template.loader import render_to_string

TEMPLATE = "tickets/_filter_fields.html"


class FilterFieldsMemo:
    """Filter fields rendered at most once per form class and distinct set of values, among the last `kept`."""

    def __init__(self, *, kept: int = 256) -> None:
        self.kept = kept
        self._rendered: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._lock = threading.Lock()  # the development server answers from several threads

    def html(self, form: forms.Form) -> str:
        if not form.is_valid():
            return render_to_string(TEMPLATE, {"filters": form})
        # Everything the HTML depends on. A widget reads the last value of a repeated name, as QueryDict.get does;
        # absent and empty render alike.
        key = (type(form), form.auto_id, form.prefix, *(str(form.data.get(name, "")) for name in form.fields))
        with self._lock:
            html = self._rendered.get(key)
        if html is None:
            html = render_to_string(TEMPLATE, {"filters": form})
            with self._lock:
                self._rendered[key] = html
                while len(self._rendered) > self.kept:
                    self._rendered.popitem(last=False)  # the oldest
        return html
