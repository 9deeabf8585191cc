"""The API's one JSON parser: a body is a JSON object of text PostgreSQL can store.

Refused with the standard 400 (``{"code", "detail", "fields"}``), before any view
or the database sees the value:

* a body that is not an object (``[]``, ``"x"``, ``1``, ``null``): every endpoint
  takes an object, and views read ``request.data.get(...)``;
* nesting deeper than ``MAX_DEPTH``: ``json.loads`` recurses once per level and a
  few thousand ``[`` exhaust the stack (``RecursionError``, a 500). The depth is
  measured on the raw bytes without recursion before parsing;
* a NUL character (PostgreSQL text cannot hold one: "A string literal cannot
  contain NUL") or a lone surrogate (not encodable as UTF-8: the database driver
  and the JSON renderer fail on it), in keys and values alike. Both can only be
  written as ``\\u`` escapes in valid JSON, so bodies without one skip the walk.

``parse_body`` caches the result on the Django request, so the eager check in
``gymsite.input.InputGuardMiddleware`` (which makes an endpoint that ignores its
body refuse a bad one too) and the parser called by ``request.data`` parse once.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

MAX_DEPTH = 32

# A JSON string (quotes and escapes inside it are not structure), or a bracket.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
# What PostgreSQL text or UTF-8 cannot carry.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

_CACHE_ATTR = "_spotter_json_body"


def unstorable_message(value: str) -> str | None:
    """Why ``value`` cannot be accepted as text, or None."""
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return _("NUL characters are not allowed.")
    return _("Unpaired surrogate characters are not allowed.")


def _invalid(path: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({path or "non_field_errors": [message]})


def _too_deep(raw: bytes) -> bool:
    # Cheap first: a body with few brackets cannot be deep.
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    depth = 0
    for token in _TOKENS.finditer(raw):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def _check_text(data) -> None:
    """Walk keys and values without recursion; raise at the first bad string."""
    stack = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            message = unstorable_message(value)
            if message:
                raise _invalid(path, message)
        elif isinstance(value, dict):
            for key, item in value.items():
                message = unstorable_message(key)
                if message:
                    raise _invalid(path, message)
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
            )


def _strict_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def json_object_loads(raw: bytes) -> dict:
    """``raw`` as a JSON object, or a ``ValidationError`` (a 400) saying why not."""
    if _too_deep(raw):
        raise _invalid(
            "", _("The body is nested more than %(depth)d levels deep.") % {"depth": MAX_DEPTH}
        )
    try:
        data = json.loads(raw.decode(settings.DEFAULT_CHARSET), parse_constant=_strict_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise exceptions.ParseError(_("The body is not valid JSON.")) from exc
    if type(data) is not dict:
        raise _invalid("", _("The body must be a JSON object."))
    if b"\\u" in raw:
        _check_text(data)
    return data


def parse_body(request) -> dict:
    """The Django ``request``'s JSON body, parsed and checked once per request."""
    cached = request.__dict__.get(_CACHE_ATTR)
    if cached is None:
        try:
            cached = (json_object_loads(request.body), None)
        except exceptions.APIException as exc:
            cached = (None, exc)
        setattr(request, _CACHE_ATTR, cached)
    data, error = cached
    if error is not None:
        raise error
    return data


class JSONObjectParser(BaseParser):
    """DRF's default parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        django_request = getattr(request, "_request", None)
        if django_request is not None:
            return parse_body(django_request)
        return json_object_loads(stream.read())
