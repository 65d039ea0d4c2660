"""httpx clients of the lab endpoints only (``FWBENCH_LAB=1``): the article's tip
(``/_lab/io-httpx``, ``httpx.AsyncClient``, to compare with ``/io`` on aiohttp, see
:mod:`.downstream`) and the blocking client of the "mixing sync/async" experiments
(``/_lab/io-blocking``, ``/_lab/io-sync``). Both are configured as the service's
``httpx.AsyncClient`` was before it moved to aiohttp, and map errors like :mod:`.downstream`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from .downstream import check_status, failed, timed_out
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


def create_async_client(settings: Settings) -> httpx.AsyncClient:
    """The lab's pooled async client (opened and closed by the lifespan).

    Every phase (connect, write, pool wait, read) is bounded by ``DOWNSTREAM_TIMEOUT``
    (default 2 s) so a stuck downstream answers 504 instead of holding the request."""
    return httpx.AsyncClient(
        base_url=settings.downstream_url,
        limits=_limits(settings),
        timeout=httpx.Timeout(settings.downstream_timeout),
    )


def create_blocking_client(settings: Settings) -> httpx.Client:
    """The lab's blocking client, for the endpoints that demonstrate blocking I/O."""
    return httpx.Client(
        base_url=settings.downstream_url,
        limits=_limits(settings),
        timeout=httpx.Timeout(settings.downstream_timeout),
    )


@contextmanager
def _downstream_errors(operation: str) -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException:
        raise timed_out(operation) from None
    except httpx.HTTPError as exc:
        raise failed(operation, exc) from None


async def wait_for_delay(client: httpx.AsyncClient, ms: int, timeout: float) -> None:
    """``GET /delay?ms=N`` with httpx's async client; ``timeout`` bounds each phase."""
    with _downstream_errors("delay"):
        response = await client.get("/delay", params={"ms": ms}, timeout=timeout)
    check_status(response.status_code, "delay")


def wait_for_delay_blocking(client: httpx.Client, ms: int, timeout: float) -> None:
    """``GET /delay?ms=N`` with a blocking client: it holds the calling thread."""
    with _downstream_errors("delay"):
        response = client.get("/delay", params={"ms": ms}, timeout=timeout)
    check_status(response.status_code, "delay")
