"""The contract's cross-cutting extras as one pure ASGI middleware (Starlette's recommended
form; ``BaseHTTPMiddleware`` adds a task and a response wrapper to every request): the
request id, the Prometheus metrics, the audit log and the request-body limit.

One middleware rather than one per extra: each layer of pure ASGI middleware parses the
request headers and wraps ``send`` again, and on the TechEmpower endpoints those layers
cost more than the endpoints themselves. Each extra can be left out for the fairness
benchmark (``fwbench.contract.EXTRAS_OFF_FLAG``); the contract needs all of them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from os import urandom
from time import perf_counter

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics, models
from .problems import REQUEST_ID_HEADER
from .security import actor_for_header
from .settings import Settings

#: Requests under these prefixes get exactly one audit row each.
AUDITED_PREFIXES = ("/transactions", "/accounts")

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

#: The request headers the extras read (ASGI servers give header names in lower case).
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"
_AUTHORIZATION = b"authorization"
_READ_HEADERS = frozenset({_REQUEST_ID, _CONTENT_LENGTH, _TRANSFER_ENCODING, _AUTHORIZATION})

#: Masks that make 128 random bits a UUID version 4 of the RFC 9562 variant: clear the
#: version nibble and the two variant bits, then set version 0b0100 and variant 0b10.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def uuid4_string() -> str:
    """A fresh random UUID4 in its canonical text form, exactly what ``str(uuid.uuid4())``
    gives from the same 16 bytes of ``os.urandom``, without a ``uuid.UUID`` on the way:
    its constructor checks and converts its arguments and ``__str__`` formats again, which
    made ``str(uuid4())`` about 4 times the cost of this (timeit on the 2-vCPU machine).
    Every response without a valid incoming ``X-Request-ID`` pays it."""
    digits = f"{int.from_bytes(urandom(16)) & _UUID4_CLEAR | _UUID4_SET:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


#: HTTP versions in which a request without Content-Length or Transfer-Encoding has no
#: body (RFC 9112 section 6.3); an HTTP/2 request may carry one all the same.
_FRAMED_BY_HEADERS = frozenset({"1.0", "1.1"})

#: The key of the request's :class:`PendingAudit` in the request state.
_AUDIT_STATE = "audit"

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class PendingAudit:
    """What the audit row of an audited request needs before its status is known.

    Attributes:
        request_id: the request's id.
        actor: ``api``, ``admin`` or None, from the Authorization header.
        started: ``perf_counter()`` when the request came in.
        in_transaction: set when an endpoint added the row to its own database
            transaction (:func:`audit_in_transaction`); the middleware then writes none.
    """

    request_id: str
    actor: str | None
    started: float
    in_transaction: bool = False

    def entry(self, scope: Scope, status: int) -> models.AuditLog:
        """The row for the request of ``scope`` answered ``status``."""
        return models.AuditLog(
            request_id=self.request_id,
            method=scope["method"],
            path=scope["path"],
            status=status,
            duration_ms=(perf_counter() - self.started) * 1000,
            actor=self.actor,
            created_at=models.utc_now(),
        )


def audit_in_transaction(
    request: Request, session: AsyncSession, status: int
) -> PendingAudit | None:
    """Add the audit row of ``request``, answered ``status``, to ``session``, so that it
    commits or fails with the request's own writes; the middleware then writes none.

    A write that commits without its audit row (the database dying between two commits)
    is then impossible. Returns the pending audit (None when the audit log is off or the
    request is not audited): if the commit fails in a way that certainly wrote nothing
    (an integrity error, answered as something else), clear its ``in_transaction`` so
    that the middleware audits the request after all.
    """
    pending: PendingAudit | None = request.scope.get("state", {}).get(_AUDIT_STATE)
    if pending is not None:
        session.add(pending.entry(request.scope, status))
        pending.in_transaction = True
    return pending


class RequestBodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body is over the limit; FastAPI re-raises an
    HTTPException met while reading the body, so the exception handlers answer 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"The request body exceeds {max_bytes} bytes."
        )


class ContractMiddleware:
    """Every request, errors included, goes through the extras that are on:

    - **request id**: echo a valid incoming ``X-Request-ID`` or generate a UUID4, store it
      as ``request.state.request_id`` and add it to the response;
    - **metrics**: count and time the request by method, route template and status;
    - **audit**: one ``audit_log`` row per request to ``/transactions*`` and
      ``/accounts*``, written in its own short transaction once the status is known and
      before the response goes out, so a client that got an answer always finds its row,
      and a request whose own transaction rolled back is audited all the same; an
      endpoint whose writes must not commit without their row adds it to its own
      transaction instead (:func:`audit_in_transaction`);
    - **body limit**: a body over ``max_bytes`` answers 413, and a response that went out
      before the body was read closes the connection.

    The limit bites when the application reads the body, so after routing and
    authentication (a 401 still wins, and the 413 is counted under its route): a declared
    Content-Length over the limit fails before any byte is read, a chunked or understated
    body as soon as the bytes received exceed it. A body left unread (a 401, 404 or 413
    answered without reading it) would otherwise sit in front of the next request on a
    kept-alive connection; ``Connection: close`` tells the client to open a new one (RFC
    9112 section 9.6). uvicorn drains such bodies itself, granian 2.8 does not reliably,
    so the service says it explicitly.
    """

    def __init__(
        self, app: ASGIApp, settings: Settings, max_bytes: int, extras_off: frozenset[str]
    ) -> None:
        self.app = app
        self.settings = settings
        self.max_bytes = max_bytes
        self.request_id = "request-id" not in extras_off
        self.metrics = "metrics" not in extras_off
        self.audit = "audit" not in extras_off
        self.body_limit = "body-limit" not in extras_off

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _READ_HEADERS:
                headers.setdefault(name, value)  # the first one, as Starlette's Headers.get
        audited = self.audit and scope["path"].startswith(AUDITED_PREFIXES)
        request_id = ""
        if self.request_id or audited:  # an audit row names its request all the same
            incoming = headers.get(_REQUEST_ID, b"").decode("latin-1")
            request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid4_string()
            scope.setdefault("state", {})["request_id"] = request_id
        pending: PendingAudit | None = None
        if audited:
            authorization = headers.get(_AUTHORIZATION)
            pending = PendingAudit(
                request_id=request_id,
                # From the header, not the route: 404 and 405 answers never reach a route.
                actor=actor_for_header(
                    None if authorization is None else authorization.decode("latin-1"),
                    self.settings,
                ),
                started=started,
            )
            scope["state"][_AUDIT_STATE] = pending

        declared = headers.get(_CONTENT_LENGTH)
        unread = self.body_limit and (declared not in (None, b"0") or _TRANSFER_ENCODING in headers)
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received, unread
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                raise RequestBodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestBodyTooLarge(self.max_bytes)
                unread = message.get("more_body", False)
            return message

        # An exception that escapes before a response started becomes Starlette's 500.
        status = HTTPStatus.INTERNAL_SERVER_ERROR.value
        responded = False

        async def send_with_extras(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                if pending is not None and not pending.in_transaction:
                    await self._audit(scope, pending.entry(scope, status))
                responded = True
                if self.request_id or unread:
                    response_headers = MutableHeaders(scope=message)
                    if self.request_id:
                        response_headers.append(REQUEST_ID_HEADER, request_id)
                    if unread:
                        response_headers["Connection"] = "close"
            await send(message)

        # A request without Content-Length or Transfer-Encoding has no body in HTTP/1.x
        # (RFC 9112 section 6.3), so most GETs skip the body check altogether.
        checked = self.body_limit and (
            unread or scope.get("http_version") not in _FRAMED_BY_HEADERS
        )
        try:
            await self.app(scope, receive_within_limit if checked else receive, send_with_extras)
        except Exception:
            if pending is not None and not pending.in_transaction and not responded:
                await self._audit(scope, pending.entry(scope, status))
            raise
        finally:
            if self.metrics:
                # The router stores the matched route in the scope; its path_format is the
                # template without convertors, e.g. /transactions/{id}.
                route = getattr(scope.get("route"), "path_format", metrics.UNMATCHED_ROUTE)
                metrics.observe(scope["method"], route, status, perf_counter() - started)

    async def _audit(self, scope: Scope, entry: models.AuditLog) -> None:
        """Write ``entry`` in a short transaction of its own."""
        sessionmaker: async_sessionmaker[AsyncSession] = scope["state"]["sessionmaker"]
        try:
            async with sessionmaker() as session:
                session.add(entry)
                await session.commit()
        except Exception:
            # The client still gets the real outcome of its request; the failure to audit
            # it is logged for the operator (the database is most likely down).
            logger.exception("could not write the audit row of request %s", entry.request_id)
