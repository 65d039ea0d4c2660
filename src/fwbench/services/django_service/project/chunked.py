"""Give chunked request bodies a Content-Length, so that Django and DRF see them.

Django reads a body only as far as Content-Length says (under WSGI it reads nothing without
one), and DRF treats a request without Content-Length as bodiless; a chunked upload would
look empty. These wrappers, one per server interface, read at most the body limit plus one
byte of a chunked body and announce what they read: Django's own DATA_UPLOAD_MAX_MEMORY_SIZE
check then answers 413 for an oversized body, like for one announced by Content-Length.
Without a limit (the body-limit extra switched off) they read the whole body. Requests with a
Content-Length pass through untouched.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


def _read_limit(body_limit: int | None) -> int | None:
    """Bytes to read at most from a chunked body: one more than allowed tells "too large"."""
    return None if body_limit is None else body_limit + 1


class ChunkedBodyWSGI:
    """WSGI wrapper: a chunked body becomes ``wsgi.input`` of a known ``CONTENT_LENGTH``
    (the server decodes the chunks; PEP 3333 lets ``read()`` go to the end of the input).
    ``body_limit`` is Django's DATA_UPLOAD_MAX_MEMORY_SIZE."""

    def __init__(self, app: WSGIApplication, body_limit: int | None) -> None:
        self.app = app
        self.read_limit = _read_limit(body_limit)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            stream = environ["wsgi.input"]
            body = stream.read() if self.read_limit is None else stream.read(self.read_limit)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


class ChunkedBodyASGI:
    """ASGI wrapper: a chunked body is read first (up to the limit plus one byte), then
    replayed in one message with a ``content-length`` header. ``body_limit`` is Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE."""

    def __init__(self, app: ASGIApp, body_limit: int | None) -> None:
        self.app = app
        self.read_limit = _read_limit(body_limit)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _chunked_without_length(scope["headers"]):
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        size = 0
        more_body = True
        while more_body and (self.read_limit is None or size < self.read_limit):
            message = await receive()
            if message["type"] != "http.request":
                # The client went away mid-body: Django sees the disconnect and aborts.
                await self.app(scope, _replay([message], receive), send)
                return
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            more_body = message.get("more_body", False)
        body = b"".join(parts)[: self.read_limit]
        headers = [*scope["headers"], (b"content-length", str(len(body)).encode())]
        replayed = {"type": "http.request", "body": body, "more_body": False}
        await self.app({**scope, "headers": headers}, _replay([replayed], receive), send)


def _chunked_without_length(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether raw ASGI ``headers`` announce a chunked body and no content-length."""
    chunked = False
    for name, value in headers:
        if name == b"content-length":
            return False
        chunked = chunked or (name == b"transfer-encoding" and b"chunked" in value.lower())
    return chunked


def _replay(messages: list[Mapping[str, Any]], receive: Receive) -> Receive:
    """A ``receive`` that returns ``messages`` first, then defers to ``receive``, dropping
    the rest of a body that was cut at the limit (after its body, an application may only
    receive ``http.disconnect``)."""
    pending = list(messages)

    async def replaying() -> Mapping[str, Any]:
        if pending:
            return pending.pop(0)
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message

    return replaying
