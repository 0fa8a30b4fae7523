"""The REST API's body parsers: DRF's JSON, form and multipart parsers, made to answer every body
they cannot read with a 400 saying why (``ParseError``, ``{"detail": ...}``) instead of a server
error or Django's bare HTML "Bad Request" page.

What DRF's own parsers let through (each found by ``tests/test_api_payloads.py``):

- JSON nested deeper than Python's recursion limit (``[[[[...]]]]``) raised ``RecursionError``: 500;
- a lone surrogate in a JSON string (``"\\ud800"``) is valid JSON but no Unicode character: any
  answer echoing it (``"\\ud800" is not a valid choice``) could not be encoded: 500;
- a form or multipart body over Django's limits (``DATA_UPLOAD_MAX_NUMBER_FIELDS``, ...) raised a
  ``SuspiciousOperation`` that DRF does not handle: an HTML 400 with no reason.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

#: Django's refusals of a body too large or with too many parts (each a ``SuspiciousOperation``).
OVER_LIMITS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def _refuse_surrogates(data: Any) -> None:
    """A lone surrogate (``\\ud800``) escaped in a JSON string is no character of any text."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        raise ParseError(
            f"JSON parse error - a string holds {bad!r}, a lone surrogate, which is not a character."
        ) from exc


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deep.") from exc
        _refuse_surrogates(data)
        return data


class StrictFormParser(FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except OVER_LIMITS as exc:
            raise ParseError(f"Form parse error - {exc}") from exc


class StrictMultiPartParser(MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except OVER_LIMITS as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc


# The three above are every API view's parsers (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).
#: An upload: a multipart form with the file (or a form, to be told the file is missing).
UPLOAD_PARSERS = [StrictMultiPartParser, StrictFormParser]
