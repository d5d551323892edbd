"""The one place where exceptions become HTTP answers, and the shared pagination.

Every error body has the same shape: {"message": str, "errors": [{"field" | "path", "code", "detail"}]}.
"""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer, as_serializer_error
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError

NON_FIELD = "non_field_errors"


def flatten_errors(detail: Any, path: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error detail into a flat list, one entry per field error, with its dotted path."""
    if isinstance(detail, dict):
        flat: list[dict[str, str]] = []
        for key, value in detail.items():
            flat.extend(flatten_errors(value, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [_error_entry(item, path) for item in detail]
        flat = []
        for index, value in enumerate(detail):
            flat.extend(flatten_errors(value, f"{path}.{index}" if path else str(index)))
        return flat
    return [_error_entry(detail, path)]


def _error_entry(item: Any, path: str) -> dict[str, str]:
    code = getattr(item, "code", "invalid") or "invalid"
    return {"field": path or NON_FIELD, "code": str(code), "detail": str(item)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "errors": exc.errors}, status=exc.status_code)

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": "The request has invalid fields.", "errors": flatten_errors(exc.detail)}
    else:
        detail = exc.detail
        message = str(detail) if not isinstance(detail, dict | list) else "The request was refused."
        response.data = {"message": message, "errors": []}
    return response


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> Any:
        # DRF quietly falls back to the defaults for a page or size that is not a number; say so instead.
        invalid = [
            name
            for name in (self.page_query_param, self.page_size_query_param)
            if name in request.query_params
            and not (request.query_params[name].isascii() and request.query_params[name].isdigit())
        ]
        if invalid:
            raise ApplicationError(
                "The request has invalid fields.",
                errors=[{"field": name, "code": "invalid", "detail": "A whole number from 1 up."} for name in invalid],
            )
        return super().paginate_queryset(queryset, request, view)


def paginated_response(
    *, queryset: QuerySet[Any], serializer_class: type[BaseSerializer[Any]], request: Request, view: APIView
) -> Response:
    # The view's pagination class is also what the OpenAPI schema describes for its list responses.
    paginator: PageNumberPagination = (getattr(view, "pagination_class", None) or StandardPagination)()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
