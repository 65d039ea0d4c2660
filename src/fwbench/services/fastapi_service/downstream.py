"""Calls to the downstream service (``/score``, ``/delay``) and their error mapping:
a timeout answers 504, anything else that goes wrong 502.

Why aiohttp and not httpx (the article's "Pro Tip" says "FastAPI: Use httpx.AsyncClient
for internal service calls"): httpx's connection pool slows down badly with many
concurrent requests (encode/httpx#3215, "httpx.AsyncClient has much worse performance
than aiohttp.ClientSession with concurrent requests", open). The lead measured it on the
benchmark machine (uvicorn, 1 worker pinned to CPU 1, downstream and wrk on CPU 0,
``wrk -t1 -c64 -d5s /io?ms=10``): a scratch FastAPI app served 2,588 req/s with
``aiohttp.ClientSession`` and 330 req/s with ``httpx.AsyncClient`` (max_connections 1000);
this service with httpx served 276 req/s while the downstream alone serves 5,319 req/s.
aiohttp is asyncio's long-standing HTTP client, so it is what a FastAPI service tuned
for throughput uses; the httpx client stays measurable as ``/_lab/io-httpx``
(:mod:`.httpx_downstream`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from http import HTTPStatus
from typing import Annotated

import aiohttp
from fastapi import Depends, HTTPException, Request
from pydantic import ValidationError

from . import models
from .schemas import ScoreReply
from .settings import Settings


def create_client(settings: Settings) -> aiohttp.ClientSession:
    """The one pooled client session of a worker, opened and closed by the lifespan
    (aiohttp's Client Reference: "use a single session for the lifetime of your
    application to benefit from connection pooling"). Call it inside the event loop."""
    connector = aiohttp.TCPConnector(
        # aiohttp's default cap is 100 connections in total ("limit", Client Reference,
        # TCPConnector); beyond it requests queue for a free one. A worker may have as
        # many downstream calls in flight as concurrent requests, so the cap is
        # DOWNSTREAM_MAX_CONNECTIONS (default 1000, above any concurrency the benchmarks
        # use). Every released connection is kept alive for reuse; one idle for longer
        # than aiohttp's default keepalive_timeout (15 s) is closed.
        limit=settings.downstream_max_connections,
    )
    return aiohttp.ClientSession(
        # aiohttp requires a trailing "/" on a base URL with a path; requests use relative
        # paths ("score", "delay") so a DOWNSTREAM_URL with a path prefix keeps it.
        base_url=settings.downstream_url.rstrip("/") + "/",
        connector=connector,
        # The whole call (waiting for a pooled connection, connecting, sending, reading
        # the reply) is bounded by DOWNSTREAM_TIMEOUT ("total", Client Quickstart,
        # Timeouts); aiohttp's default is 5 minutes.
        timeout=aiohttp.ClientTimeout(total=settings.downstream_timeout),
        # One session serves every user's requests, so a Set-Cookie from the downstream
        # must not be replayed on later calls (Advanced Client Usage, Dummy Cookie Jar).
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def get_client(request: Request) -> aiohttp.ClientSession:
    """The worker's downstream client, from the lifespan state."""
    client: aiohttp.ClientSession = request.state.downstream
    return client


#: The worker's pooled downstream client.
DownstreamDep = Annotated[aiohttp.ClientSession, Depends(get_client)]


def delay_timeout(ms: int, settings: Settings) -> float:
    """Timeout of ``/delay?ms=N``: at least ``DOWNSTREAM_TIMEOUT``, and 1 s more than the
    requested delay so that long delays stay measurable."""
    return max(settings.downstream_timeout, ms / 1000 + 1)


def timed_out(operation: str) -> HTTPException:
    """The 504 of a downstream ``operation`` ("score", "delay") that took too long."""
    return HTTPException(HTTPStatus.GATEWAY_TIMEOUT, f"The downstream {operation} call timed out.")


def failed(operation: str, error: Exception) -> HTTPException:
    """The 502 of a downstream ``operation`` that raised ``error`` (refused, reset, ...)."""
    return HTTPException(
        HTTPStatus.BAD_GATEWAY, f"The downstream {operation} call failed: {type(error).__name__}."
    )


def check_status(status: int, operation: str) -> None:
    """Raise the 502 of a downstream ``operation`` that answered ``status``, unless 2xx."""
    if not HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
        raise HTTPException(
            HTTPStatus.BAD_GATEWAY, f"The downstream {operation} call answered {status}."
        )


@contextmanager
def _downstream_errors(operation: str) -> Iterator[None]:
    """Timeouts are caught first: the "total" timeout raises a plain TimeoutError, and
    aiohttp's connect and read timeouts are also ClientErrors."""
    try:
        yield
    except TimeoutError:
        raise timed_out(operation) from None
    except aiohttp.ClientError as exc:
        raise failed(operation, exc) from None


async def _read(
    operation: str, request: AbstractAsyncContextManager[aiohttp.ClientResponse]
) -> bytes:
    """Send ``request`` and read the whole reply before releasing it, so that the
    connection goes back to the pool (aiohttp closes a connection released before its body
    was fully received); 502 unless 2xx."""
    with _downstream_errors(operation):
        async with request as response:
            body = await response.read()
    check_status(response.status, operation)
    return body


async def fetch_score(client: aiohttp.ClientSession, transaction: models.Transaction) -> float:
    """POST the transaction to ``/score`` and return the fraud score in 0..1."""
    payload = {
        "id": transaction.id,
        "account_id": transaction.account_id,
        "amount": f"{transaction.amount:.2f}",
        "currency": transaction.currency,
        "merchant": transaction.merchant,
    }
    # Redirects are not followed (aiohttp follows them by default): the downstream
    # answers directly, and anything but a 2xx is a 502.
    body = await _read("score", client.post("score", json=payload, allow_redirects=False))
    try:
        return ScoreReply.model_validate_json(body).score
    except ValidationError:
        raise HTTPException(
            HTTPStatus.BAD_GATEWAY, 'The downstream score reply is not {"score": 0..1}.'
        ) from None


async def wait_for_delay(client: aiohttp.ClientSession, ms: int, timeout: float) -> None:
    """``GET /delay?ms=N``, awaited without blocking the event loop; ``timeout`` seconds
    bound the whole call (see :func:`delay_timeout`)."""
    # The query written out: ``ms`` is a validated int, and building it with ``params=``
    # (yarl's query encoding) cost about a tenth of the client's CPU time per call.
    request = client.get(
        f"delay?ms={ms}", allow_redirects=False, timeout=aiohttp.ClientTimeout(total=timeout)
    )
    await _read("delay", request)
