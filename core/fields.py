"""Fields and validators for text shared by the apps' forms and API."""

import re
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.fields import empty

# C0 controls and DEL: none belongs in one line of text.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
CONTROL = "Must be one line without control characters (line breaks, tabs and the like)."
single_line = RegexValidator(rf"^[^{CONTROL_CHARACTER.pattern[1:-1]}]*$", CONTROL, "control")


class SingleLineField(serializers.CharField):
    """One line of text, such as a subject: a control character (a line break, a tab, an escape…) is refused, not
    trimmed away, and `max_length` holds for the text as sent, as the schema's maxLength says."""

    default_error_messages = {**serializers.CharField.default_error_messages, "control": CONTROL}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Checked by run_validation before trimming; as a validator it also gives the schema its pattern.
        self.validators.append(single_line)

    def run_validation(self, data: Any = empty) -> Any:
        if isinstance(data, str):
            if CONTROL_CHARACTER.search(data):
                self.fail("control")
            if self.max_length is not None and len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)
