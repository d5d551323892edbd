"""`core.output.OutputSerializer` writes exactly what DRF's Serializer writes from the same fields."""

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from rest_framework import serializers

from core.output import OutputSerializer

MOMENT = datetime(2026, 3, 1, 9, 40, 12, 345678, tzinfo=UTC)


class _Missing:
    @property
    def profile(self) -> Any:
        raise ObjectDoesNotExist


def _person(base: type[serializers.Serializer[Any]]) -> type[serializers.Serializer[Any]]:
    fields = {
        "id": serializers.UUIDField(source="public_id"),
        "name": serializers.CharField(source="display_name"),
        "staff": serializers.BooleanField(),
    }
    return type(f"Person{base.__name__}", (base,), fields)


def _row(base: type[serializers.Serializer[Any]]) -> type[serializers.Serializer[Any]]:
    person = _person(base)
    fields = {
        "id": serializers.UUIDField(source="public_id"),
        "hex": serializers.UUIDField(source="public_id", format="hex"),
        "subject": serializers.CharField(),
        "slug": serializers.SlugField(source="organization.slug"),
        "region": serializers.CharField(source="organization.region", allow_null=True),
        "flag": serializers.BooleanField(),
        "count": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=[("open", "Open"), ("closed", "Closed")]),
        "received_at": serializers.DateTimeField(),
        "resolved_at": serializers.DateTimeField(allow_null=True),
        "naive_at": serializers.DateTimeField(),
        "day": serializers.DateTimeField(source="received_at", format="%Y-%m-%d"),
        "shout": serializers.CharField(source="upper_subject"),
        "profile": serializers.CharField(source="missing.profile", allow_null=True),
        "optional": serializers.CharField(required=False),
        "requester": person(allow_null=True),
        "assignee": person(allow_null=True),
        "watchers": person(many=True),
        "age": serializers.SerializerMethodField(),
        "get_age": lambda self, row: (MOMENT - row.received_at).days,
    }
    return type(f"Row{base.__name__}", (base,), fields)


def _instance(**changes: Any) -> SimpleNamespace:
    ada = SimpleNamespace(public_id=uuid.uuid4(), display_name="Ada Lovelace", staff=1)
    row = SimpleNamespace(
        public_id=uuid.uuid4(),
        subject="Checkout <fails>",
        organization={"slug": "acme", "region": None},
        flag=True,
        count=7.9,
        status="open",
        received_at=MOMENT - timedelta(days=3),
        resolved_at=None,
        naive_at=datetime(2026, 3, 1, 9, 40),  # noqa: DTZ001 (DRF makes a naive datetime aware: so must we)
        upper_subject=lambda: "CHECKOUT",
        missing=_Missing(),
        requester=ada,
        assignee=None,
        watchers=[ada, SimpleNamespace(public_id=uuid.uuid4(), display_name="Grace", staff=False)],
    )
    vars(row).update(changes)
    return row


Fast, Drf = _row(OutputSerializer), _row(serializers.Serializer)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_a_row_reads_as_drf_reads_it_in_the_active_timezone(zone):
    row = _instance()
    with timezone.override(zone):
        fast, drf = Fast(row).data, Drf(row).data
    assert fast == drf
    assert list(fast) == list(drf)


def test_many_rows_read_as_drf_reads_them():
    rows = [_instance(), _instance(resolved_at=MOMENT, flag=False, status="closed"), _instance(optional="kept")]
    assert Fast(rows, many=True).data == Drf(rows, many=True).data
    assert "optional" not in Fast(rows[0]).data  # a missing optional field is left out, as DRF leaves it out
    assert Fast(rows[2]).data["optional"] == "kept"


def test_a_value_drf_would_refuse_is_refused_the_same_way():
    broken = _instance(organization=None)
    with pytest.raises(AttributeError):
        Drf(broken).data  # noqa: B018
    with pytest.raises(AttributeError):
        Fast(broken).data  # noqa: B018
