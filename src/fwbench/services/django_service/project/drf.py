"""Django REST Framework plumbing referenced from the REST_FRAMEWORK setting.

DRF imports these classes while ``rest_framework.views`` is being imported: this module must
not import that module (directly or through our views)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from io import BytesIO
from typing import IO, Any

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class JSONOnlyNegotiation(BaseContentNegotiation):
    """The service speaks JSON only, whatever ``Accept`` and ``Content-Type`` say: a body is
    always parsed as JSON (a wrong type then fails validation, 422, as in the other two
    implementations) and never answered 406/415. This is the example of the DRF docs,
    "Content negotiation: Custom content negotiation"."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser:
        return next(iter(parsers))

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, reading the body through ``HttpRequest.body``: DRF otherwise reads
    the raw stream, which skips Django's DATA_UPLOAD_MAX_MEMORY_SIZE check (Content-Length and
    the bytes actually received); the RequestDataTooBig it raises answers 413."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        request: Request = (parser_context or {})["request"]
        return super().parse(BytesIO(request.body), media_type, parser_context)
