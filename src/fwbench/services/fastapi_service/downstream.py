"""Calls to the downstream service (``/score``, ``/delay``) and their error mapping:
a timeout answers 504, anything else that goes wrong 502."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Annotated, Any

import httpx
from fastapi import Depends, HTTPException, Request
from pydantic import ValidationError

from . import models
from .schemas import ScoreReply
from .settings import Settings


def _limits(settings: Settings) -> httpx.Limits:
    """Pool limits of both clients.

    httpx defaults to 100 connections of which only 20 stay alive (python-httpx.org,
    "Resource Limits"). Each worker may have as many downstream calls in flight as it has
    concurrent requests, so the cap is ``DOWNSTREAM_MAX_CONNECTIONS`` (default 1000, above
    any concurrency the benchmarks use, so the pool never throttles the I/O workload), and
    all of them are kept alive so a steady load reuses connections instead of reconnecting.
    Idle connections still close after httpx's default keep-alive expiry of 5 s."""
    return httpx.Limits(
        max_connections=settings.downstream_max_connections,
        max_keepalive_connections=settings.downstream_max_connections,
    )


def create_client(settings: Settings) -> httpx.AsyncClient:
    """The one pooled async client of a worker (opened and closed by the lifespan).

    Every phase (connect, write, pool wait, read) is bounded by ``DOWNSTREAM_TIMEOUT``
    (default 2 s) so a stuck downstream answers 504 instead of holding the request."""
    return httpx.AsyncClient(
        base_url=settings.downstream_url,
        limits=_limits(settings),
        timeout=httpx.Timeout(settings.downstream_timeout),
    )


def create_blocking_client(settings: Settings) -> httpx.Client:
    """A blocking client, only for the lab endpoints that demonstrate blocking I/O."""
    return httpx.Client(
        base_url=settings.downstream_url,
        limits=_limits(settings),
        timeout=httpx.Timeout(settings.downstream_timeout),
    )


async def get_client(request: Request) -> httpx.AsyncClient:
    """The worker's downstream client, from the lifespan state."""
    client: httpx.AsyncClient = request.state.downstream
    return client


#: The worker's pooled downstream client.
DownstreamDep = Annotated[httpx.AsyncClient, Depends(get_client)]


def delay_timeout(ms: int, settings: Settings) -> float:
    """Timeout of ``/delay?ms=N``: at least ``DOWNSTREAM_TIMEOUT``, and 1 s more than the
    requested delay so that long delays stay measurable."""
    return max(settings.downstream_timeout, ms / 1000 + 1)


@contextmanager
def downstream_errors(operation: str) -> Iterator[None]:
    """Turn what can go wrong while calling the downstream into 504 (timeout) or 502."""
    try:
        yield
    except httpx.TimeoutException:
        raise HTTPException(
            HTTPStatus.GATEWAY_TIMEOUT, f"The downstream {operation} call timed out."
        ) from None
    except httpx.HTTPError as exc:
        raise HTTPException(
            HTTPStatus.BAD_GATEWAY, f"The downstream {operation} call failed: {type(exc).__name__}."
        ) from None


def _check_status(response: httpx.Response, operation: str) -> None:
    if not response.is_success:
        raise HTTPException(
            HTTPStatus.BAD_GATEWAY,
            f"The downstream {operation} call answered {response.status_code}.",
        )


async def fetch_score(client: httpx.AsyncClient, transaction: models.Transaction) -> float:
    """POST the transaction to ``/score`` and return the fraud score in 0..1."""
    payload: dict[str, Any] = {
        "id": transaction.id,
        "account_id": transaction.account_id,
        "amount": f"{transaction.amount:.2f}",
        "currency": transaction.currency,
        "merchant": transaction.merchant,
    }
    with downstream_errors("score"):
        response = await client.post("/score", json=payload)
    _check_status(response, "score")
    try:
        return ScoreReply.model_validate_json(response.content).score
    except ValidationError:
        raise HTTPException(
            HTTPStatus.BAD_GATEWAY, 'The downstream score reply is not {"score": 0..1}.'
        ) from None


async def wait_for_delay(client: httpx.AsyncClient, ms: int, timeout: float) -> None:
    """``GET /delay?ms=N``, awaited without blocking the event loop."""
    with downstream_errors("delay"):
        response = await client.get("/delay", params={"ms": ms}, timeout=timeout)
    _check_status(response, "delay")


def wait_for_delay_blocking(client: httpx.Client, ms: int, timeout: float) -> None:
    """``GET /delay?ms=N`` with a blocking client: it holds the calling thread."""
    with downstream_errors("delay"):
        response = client.get("/delay", params={"ms": ms}, timeout=timeout)
    _check_status(response, "delay")
