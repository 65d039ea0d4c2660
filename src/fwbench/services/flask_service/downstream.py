"""The downstream service (``/score`` and ``/delay``) behind a small interface.

Views depend on the ``Downstream`` protocol only; ``HttpDownstream`` is the pooled urllib3
implementation the app installs. Failures surface as ``DownstreamError`` (answered 502)
or ``DownstreamTimeout`` (answered 504).
"""

from __future__ import annotations

import json
import math
from typing import Any, Final, Protocol, TypedDict, cast

import urllib3
from flask import Flask, current_app

_EXTENSION_KEY: Final = "fwbench.downstream"

# Connections kept alive per worker process. urllib3 opens more when needed and drops
# the surplus after use (block=False), so this bounds idle sockets, not concurrency;
# 1000 matches gunicorn's default worker_connections for the gevent worker
# (https://docs.gunicorn.org/en/stable/settings.html#worker-connections) and costs
# nothing until used (https://urllib3.readthedocs.io/en/stable/advanced-usage.html).
_POOL_MAXSIZE: Final = 1000


class DownstreamError(Exception):
    """The downstream service refused the connection, failed, or answered nonsense."""


class DownstreamTimeout(DownstreamError):
    """The downstream service did not answer in time."""


class ScoreRequest(TypedDict):
    """What ``POST /score`` receives."""

    id: int
    account_id: str
    amount: str
    currency: str
    merchant: str


class Downstream(Protocol):
    """The calls the views make to the downstream service."""

    def score(self, transaction: ScoreRequest) -> float:
        """The fraud score (0..1) of ``transaction``."""

    def delay(self, ms: int) -> None:
        """Wait for ``GET /delay?ms=N``, which answers after ``ms`` milliseconds."""


class HttpDownstream:
    """``Downstream`` over HTTP with one urllib3 connection pool per process.

    Args:
        base_url: e.g. ``http://127.0.0.1:8900``, without a trailing slash.
        timeout: Seconds a call may take in total (connect and read) before
            ``DownstreamTimeout``; ``delay`` extends it to the requested wait plus 1 s.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        self._base_url = base_url
        self._timeout = timeout
        # retries=False: a timed-out POST /score must not be sent twice, and the measured
        # latency of /io must be one call's.
        self._pool = urllib3.PoolManager(maxsize=_POOL_MAXSIZE, block=False, retries=False)

    def score(self, transaction: ScoreRequest) -> float:
        body = self._call(
            "POST",
            "/score",
            self._timeout,
            body=json.dumps(transaction).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            score = json.loads(body)["score"]
        except (ValueError, TypeError, KeyError):
            raise DownstreamError("The scoring service answered malformed JSON.") from None
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise DownstreamError("The scoring service answered a score that is not a number.")
        if not (math.isfinite(score) and 0 <= score <= 1):
            raise DownstreamError("The scoring service answered a score outside 0..1.")
        return float(score)

    def delay(self, ms: int) -> None:
        self._call("GET", f"/delay?ms={ms}", max(self._timeout, ms / 1000 + 1))

    def _call(self, method: str, path: str, timeout: float, **kwargs: Any) -> bytes:
        url = self._base_url + path
        try:
            response = self._pool.request(
                method, url, timeout=urllib3.Timeout(total=timeout), **kwargs
            )
        # urllib3 files a refused connection under ConnectTimeoutError; it is no timeout.
        except urllib3.exceptions.NewConnectionError:
            raise DownstreamError(f"The downstream service at {url} is unreachable.") from None
        except urllib3.exceptions.TimeoutError:
            raise DownstreamTimeout(
                f"The downstream service did not answer {method} {path} within {timeout:g} s."
            ) from None
        except urllib3.exceptions.HTTPError as exc:
            raise DownstreamError(f"The downstream call {method} {path} failed: {exc}.") from None
        if not 200 <= response.status < 300:
            raise DownstreamError(
                f"The downstream service answered {method} {path} with HTTP {response.status}."
            )
        return response.data


def init_app(app: Flask, client: Downstream) -> None:
    """Make ``client`` the downstream of ``app``'s views."""
    app.extensions[_EXTENSION_KEY] = client


def current() -> Downstream:
    """The downstream client of the current app."""
    return cast(Downstream, current_app.extensions[_EXTENSION_KEY])
