"""One guard for what a client can send: text PostgreSQL and UTF-8 can carry.

``InputGuardMiddleware`` refuses, with a 400 and before any view runs:

* a query string or a form body (pages, the admin, the login forms) holding a NUL
  character in a name or a value. PostgreSQL rejects NUL in text parameters
  ("A string literal cannot contain NUL"), so without this the front desk's member
  search, and any filter or form whose value reaches a query, was a 500. Lone
  surrogates cannot arrive this way: Django decodes query strings and form bodies
  with replacement characters, but the same check covers them anyway;
* for an API view (Django REST framework), a JSON body that
  ``gymsite.api.parsers.parse_body`` refuses (not an object, too deep, NUL or lone
  surrogate), parsed here eagerly so that an endpoint which never reads its body
  refuses a bad one as well. The parser reuses the result: one parse per request.

Pages get the plain 400 page; the API gets its standard error body.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.defaults import bad_request
from rest_framework import exceptions
from rest_framework.views import APIView

from gymsite.api.errors import error_body
from gymsite.api.parsers import parse_body, unstorable_message

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BadInput(exceptions.ValidationError):
    pass


def _check_querydict(data) -> None:
    for key, values in data.lists():
        message = unstorable_message(key)
        for value in values:
            message = message or unstorable_message(value)
        if message:
            raise BadInput({key.encode("utf-8", "backslashreplace").decode(): [message]})


def _is_api_view(view_func) -> bool:
    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        api = _is_api_view(view_func)
        try:
            if request.META.get("QUERY_STRING"):
                _check_querydict(request.GET)
            if request.method in WRITE_METHODS:
                if api:
                    if request.content_type == "application/json" and request.body:
                        parse_body(request)
                elif request.content_type in (
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                ):
                    _check_querydict(request.POST)
        except MultiPartParserError as exc:  # a malformed form body
            return bad_request(request, exc)
        except exceptions.APIException as exc:
            if api or request.path.startswith("/api/"):
                return JsonResponse(error_body(exc), status=exc.status_code)
            return bad_request(request, exc)
        return None
