"""fwbench's own HTTP requests to the servers it starts: readiness polls, first requests,
lab calls, latency probes and the downstream's fault settings.

One function over httpx, so every caller parses URLs the same way (``http://[::1]:PORT``
included) and sees one kind of failure: :class:`OSError`, as a socket would raise. Every
request opens a fresh connection and closes it after the answer, as a health checker
does: a kept-alive connection would be served by the worker that accepted it, and a
server being stopped and started again on the same port would see stale connections.
Environment proxies are ignored: the servers are on this machine. They all speak plain
HTTP, so no TLS certificate store is loaded (that alone takes a fifth of a second, which
would land inside a measured cold start) and an ``https`` URL is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import httpx

from fwbench.harness.jsontypes import Json

#: No connection is kept alive between requests (see the module docstring).
_LIMITS: Final = httpx.Limits(max_keepalive_connections=0)


@dataclass(frozen=True)
class Response:
    """A complete answer: ``status``, ``headers`` (lower-case names) and ``body``."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300


_local = threading.local()


def _client() -> httpx.Client:
    # One client per thread (a latency probe samples from its own thread): building one
    # costs more than a loopback request. verify=False only skips loading the CA store:
    # request() sends nothing but plain HTTP.
    client: httpx.Client | None = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(limits=_LIMITS, trust_env=False, verify=False)
        _local.client = client
    return client


def request(
    method: str,
    url: str,
    *,
    json: Json = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
) -> Response:
    """Send one request and read the whole answer.

    Args:
        method: ``GET``, ``PUT`` ...
        url: the full URL, e.g. ``http://127.0.0.1:18401/healthz`` or
            ``http://[::1]:18401/healthz``.
        json: a body to send as JSON; None (default) sends none.
        headers: more request headers.
        timeout_s: seconds each of connecting, sending and reading may take.

    Raises:
        ValueError: ``url`` is not an ``http://`` URL.
        OSError: no connection, a timeout (:class:`TimeoutError`), or an answer that
            broke off (:class:`ConnectionError`); the message names the URL.
    """
    if not url.startswith("http://"):
        raise ValueError(f"fwbench speaks plain HTTP to its own servers, not to {url!r}")
    try:
        response = _client().request(
            method,
            url,
            json=json,
            headers=dict(headers or {}),
            timeout=timeout_s,
        )
    except httpx.TimeoutException:
        raise TimeoutError(f"{method} {url}: no answer within {timeout_s:g} s") from None
    except httpx.TransportError as error:
        raise ConnectionError(f"{method} {url}: {error or type(error).__name__}") from None
    return Response(response.status_code, dict(response.headers), response.content)
