"""Output serializers that read their rows through readers built once, for the API's long lists.

DRF's `Serializer.to_representation` asks every field of every row for its attribute and then for its representation,
through several layers of generic calls. `OutputSerializer` keeps DRF's fields as the declaration (the OpenAPI schema
and every other use of the serializer are unchanged) and, the first time it represents a row, turns each field into
one reader: the attribute chain of its `source` and a conversion chosen by the field's class. A field it does not know
is read the way DRF reads it, so the output is DRF's output; `tests/core/test_output.py` holds the two side by side.
Measured on one machine, 50 rows: the queue's rows 5.8 → 4.3 ms, the ticket list's 5.6 → 3.6 ms.
"""

import inspect
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField, empty
from rest_framework.settings import api_settings

Instance = TypeVar("Instance")
# A row's reader gets the row and the timezone of the request (datetimes are written in it, as DRF writes them).
Reader = Callable[[Any, tzinfo], Any]


def iso_moment(value: datetime, zone: tzinfo) -> str:
    """An aware datetime as DRF's DateTimeField writes it in ISO 8601: in `zone`, with UTC written as Z."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _attribute(instance: Any, attrs: list[str]) -> Any:
    """DRF's walk along a source: a missing related row reads as None, a method is called."""
    for attr in attrs:
        try:
            instance = instance[attr] if isinstance(instance, Mapping) else getattr(instance, attr)
        except ObjectDoesNotExist:
            return None
        if inspect.ismethod(instance) or inspect.isfunction(instance):
            instance = instance()
    return instance


def _as_text(value: Any, _zone: tzinfo) -> str:
    return str(value)


def _as_integer(value: Any, _zone: tzinfo) -> int:
    return int(value)


# Fields that write a non-null value as plain `str` or `int`: exact classes only, since a subclass may write otherwise.
_PLAIN: dict[type[serializers.Field[Any, Any, Any, Any]], Callable[[Any, tzinfo], Any]] = {
    serializers.CharField: _as_text,
    serializers.SlugField: _as_text,
    serializers.EmailField: _as_text,
    serializers.IntegerField: _as_integer,
}


def _converter(field: serializers.Field[Any, Any, Any, Any]) -> Callable[[Any, tzinfo], Any] | None:
    """The conversion of a known field's non-null value, or None for a field to read as DRF reads it."""
    if isinstance(field, OutputSerializer):
        return field.represent
    if isinstance(field, serializers.DateTimeField):
        return _moment_converter(field)
    if isinstance(field, serializers.UUIDField) and field.uuid_format == "hex_verbose":
        return _as_text
    if isinstance(field, serializers.BooleanField):
        return lambda value, _zone: value if value is True or value is False else field.to_representation(value)
    return _PLAIN.get(type(field))


def _moment_converter(field: serializers.DateTimeField) -> Callable[[Any, tzinfo], Any] | None:
    iso = str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
    if not iso or hasattr(field, "timezone") or not settings.USE_TZ:
        return None
    return lambda value, zone: (
        iso_moment(value, zone)
        if isinstance(value, datetime) and timezone.is_aware(value)
        else field.to_representation(value)
    )


def _reader(field: serializers.Field[Any, Any, Any, Any]) -> Reader:
    if isinstance(field, serializers.SerializerMethodField):
        method = getattr(field.parent, field.method_name)
        return lambda instance, _zone: method(instance)
    convert = _converter(field)
    plain_source = field.source != "*" and field.default is empty and field.required
    if convert is None or not plain_source:
        return lambda instance, _zone: _as_drf_reads(field, instance)
    attrs = list(field.source_attrs)

    def read(instance: Any, zone: tzinfo) -> Any:
        try:
            value = _attribute(instance, attrs)
        except (AttributeError, KeyError):  # DRF knows what a missing attribute means for this field
            return _as_drf_reads(field, instance)
        return None if value is None else convert(value, zone)

    return read


def _as_drf_reads(field: serializers.Field[Any, Any, Any, Any], instance: Any) -> Any:
    attribute = field.get_attribute(instance)  # may raise SkipField, which the caller turns into an absent key
    return None if attribute is None else field.to_representation(attribute)


# A read-only serializer whose rows are represented through readers built once per serializer. (A comment, not a
# docstring: the OpenAPI schema would describe every subclass with it.)
class OutputSerializer(serializers.Serializer[Instance]):
    _readers: list[tuple[str, Reader]] | None = None

    def _row_readers(self) -> list[tuple[str, Reader]]:
        if self._readers is None:
            self._readers = [(str(field.field_name), _reader(field)) for field in self._readable_fields]
        return self._readers

    def represent(self, instance: Instance, zone: tzinfo) -> dict[str, Any]:
        row = {}
        for name, read in self._row_readers():
            try:
                row[name] = read(instance, zone)
            except SkipField:
                continue
        return row

    def to_representation(self, instance: Instance) -> dict[str, Any]:
        return self.represent(instance, timezone.get_current_timezone())
