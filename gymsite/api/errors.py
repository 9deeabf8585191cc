"""One error format for the whole API.

    {"code": "validation_error", "detail": "Invalid input.", "fields": {"email": ["..."]}}

``fields`` is present for input errors; ``code`` is machine-readable.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from gymsite.errors import ServiceError, TenantScopeMissing


def _text(value) -> str:
    # Messages echo input ("'\ud800' is not a valid choice"): a lone surrogate
    # would make the JSON renderer fail, so it is written as its escape.
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _flatten(detail):
    if isinstance(detail, dict):
        return {_text(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return _text(detail)


def error_body(exc: exceptions.APIException) -> dict:
    """The standard body for a DRF exception (also used outside DRF's views)."""
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return {"code": "validation_error", "detail": "Invalid input.", "fields": _flatten(detail)}
    codes = exc.get_codes()
    return {
        "code": codes if isinstance(codes, str) else "error",
        "detail": _text(exc.detail)
        if not isinstance(exc.detail, dict | list)
        else _flatten(exc.detail),
    }


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body = {"code": exc.code, "detail": exc.message}
        if exc.field:
            body["fields"] = {exc.field: [exc.message]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, TenantScopeMissing):
        exc = exceptions.NotFound("Unknown gym: no organisation is served at this address.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        response.data = error_body(exc)
        if isinstance(exc, exceptions.ValidationError):
            response.status_code = status.HTTP_400_BAD_REQUEST
    return response
