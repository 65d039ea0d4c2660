"""Pure ASGI middleware (Starlette's recommended form; ``BaseHTTPMiddleware`` adds a task
and a response wrapper to every request): request id, metrics, audit and request body.

Order, outermost first: request id (so every response, errors included, carries it),
metrics, audit (sees the final status of everything below it, 413 included), request
body (size limit, connection close after an unread body).
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from time import perf_counter
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics, models
from .problems import REQUEST_ID_HEADER
from .security import actor_for_header
from .settings import Settings

#: Requests under these prefixes get exactly one audit row each.
AUDITED_PREFIXES = ("/transactions", "/accounts")

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Echo a valid incoming ``X-Request-ID`` or generate a UUID4; store it in the request
    state (``request.state.request_id``) and add it to the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        if incoming is not None and _VALID_REQUEST_ID.fullmatch(incoming):
            request_id = incoming
        else:
            request_id = str(uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        await self.app(scope, receive, send_with_request_id)


class MetricsMiddleware:
    """Count and time every request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        # An exception that escapes before a response started becomes Starlette's 500.
        status = HTTPStatus.INTERNAL_SERVER_ERROR.value

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            # The router stores the matched route in the scope; its path_format is the
            # template without convertors, e.g. /transactions/{id}.
            route = getattr(scope.get("route"), "path_format", metrics.UNMATCHED_ROUTE)
            method = scope["method"]
            metrics.REQUESTS.labels(method, route, str(status)).inc()
            metrics.DURATION.labels(method, route).observe(perf_counter() - started)


class AuditMiddleware:
    """Write one ``audit_log`` row per request to ``/transactions*`` and ``/accounts*``.

    The row is written in its own short transaction once the status is known and before
    the response goes out, so a client that got an answer always finds its row, and a
    request whose own transaction rolled back is audited all the same."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(AUDITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        audited = False

        async def send_after_audit(message: Message) -> None:
            nonlocal audited
            if message["type"] == "http.response.start":
                await self._write(scope, message["status"], started)
                audited = True
            await send(message)

        try:
            await self.app(scope, receive, send_after_audit)
        except Exception:
            if not audited:
                await self._write(scope, HTTPStatus.INTERNAL_SERVER_ERROR.value, started)
            raise

    async def _write(self, scope: Scope, status: int, started: float) -> None:
        state = scope["state"]
        entry = models.AuditLog(
            request_id=state["request_id"],
            method=scope["method"],
            path=scope["path"],
            status=status,
            duration_ms=(perf_counter() - started) * 1000,
            # From the header, not the route: 404 and 405 answers never reach a route.
            actor=actor_for_header(Headers(scope=scope).get("authorization"), self.settings),
            created_at=models.utc_now(),
        )
        sessionmaker: async_sessionmaker[AsyncSession] = state["sessionmaker"]
        try:
            async with sessionmaker() as session:
                session.add(entry)
                await session.commit()
        except Exception:
            # The client still gets the real outcome of its request; the failure to audit
            # it is logged for the operator (the database is most likely down).
            logger.exception("could not write the audit row of request %s", entry.request_id)


class RequestBodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body is over the limit; FastAPI re-raises an
    HTTPException met while reading the body, so the exception handlers answer 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The request body exceeds {max_bytes} bytes."
        )


class RequestBodyMiddleware:
    """Limit request bodies to ``max_bytes`` (413), and close the connection after a
    response that went out before the body was read.

    The limit bites when the application reads the body, so after routing and
    authentication (a 401 still wins, and the 413 is counted under its route): a declared
    Content-Length over the limit fails before any byte is read, a chunked or understated
    body as soon as the bytes received exceed it.

    A body left unread (a 401, 404 or 413 answered without reading it) would otherwise
    sit in front of the next request on a kept-alive connection; ``Connection: close``
    tells the client to open a new one (RFC 9112 section 9.6). uvicorn drains such bodies
    itself, granian 2.8 does not reliably, so the service says it explicitly."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        declared_too_large = (
            declared is not None and declared.isdigit() and int(declared) > self.max_bytes
        )
        unread = declared not in (None, "0") or "transfer-encoding" in headers
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received, unread
            if declared_too_large:
                raise RequestBodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestBodyTooLarge(self.max_bytes)
                unread = message.get("more_body", False)
            return message

        async def send_closing_if_unread(message: Message) -> None:
            if message["type"] == "http.response.start" and unread:
                MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        await self.app(scope, receive_within_limit, send_closing_if_unread if unread else send)
