from typing import Any

from drf_spectacular.openapi import AutoSchema


class PortalAutoSchema(AutoSchema):
    """Names nested serializers after their API class (`MemberListApi.InputSerializer` → `MemberListInput`),
    so every API can call its own serializers InputSerializer/OutputSerializer without clashing components."""

    def _get_serializer_name(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        owner, _, _ = type(serializer).__qualname__.rpartition(".")
        if not owner or getattr(getattr(serializer, "Meta", None), "ref_name", None):
            return name
        return owner.split(".")[-1].removesuffix("Api") + name
