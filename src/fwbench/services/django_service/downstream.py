"""The client for the downstream service (``POST /score``, ``GET /delay``).

Django views are synchronous, so the idiomatic client is a blocking one with a connection
pool: one ``urllib3.PoolManager`` per process, shared by its threads (it is thread-safe).
Failures become two exceptions the views let propagate; the DRF exception handler answers
504 for :class:`DownstreamTimeout` and 502 for any other :class:`DownstreamError`.
"""

from __future__ import annotations

from typing import Any

import urllib3
from django.conf import settings

# maxsize: idle connections kept per host (urllib3 docs, "Customizing pool behavior"): enough
# for every thread of a gthread worker or every concurrent ASGI request to reuse one. With
# block=False (the default) a burst beyond it opens extra connections instead of queueing.
# retries=False: a failed call is reported, not repeated behind the caller's back (the score
# request is not idempotent, and /io measures exactly one downstream call).
_http = urllib3.PoolManager(maxsize=64, retries=False)


class DownstreamError(Exception):
    """The downstream service refused the connection, failed, or sent a malformed reply."""


class DownstreamTimeout(DownstreamError):
    """The downstream service did not answer within the timeout."""


def _call(method: str, path: str, timeout: float, body: Any = None) -> urllib3.BaseHTTPResponse:
    """One request to ``DOWNSTREAM_URL + path``; ``timeout`` (seconds) bounds connect and read
    together; ``body`` (default none) is sent as JSON."""
    url = f"{settings.DOWNSTREAM_URL}{path}"
    try:
        response = _http.request(method, url, json=body, timeout=urllib3.Timeout(total=timeout))
    # NewConnectionError subclasses ConnectTimeoutError, but a refusal is an error, not a timeout.
    except urllib3.exceptions.NewConnectionError as exc:
        raise DownstreamError(f"The downstream service is unreachable: {exc}") from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise DownstreamTimeout(f"The downstream service did not answer in {timeout:g} s.") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise DownstreamError(f"The downstream call failed: {exc}") from exc
    if not 200 <= response.status < 300:
        raise DownstreamError(f"The downstream service answered {response.status}.")
    return response


def fraud_score(transaction: dict[str, Any]) -> float:
    """The downstream fraud score (0..1) of ``transaction`` (the JSON fields
    ``{id, account_id, amount, currency, merchant}``)."""
    response = _call("POST", "/score", settings.DOWNSTREAM_TIMEOUT, body=transaction)
    try:
        score = response.json()["score"]
    except (ValueError, TypeError, KeyError) as exc:
        raise DownstreamError("The scoring service sent a malformed reply.") from exc
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise DownstreamError(f"The scoring service sent an invalid score: {score!r}.")
    return float(score)


def delay(ms: int) -> None:
    """Wait for ``GET /delay?ms=ms``. The timeout stretches to ``ms/1000 + 1`` seconds when that
    is longer than DOWNSTREAM_TIMEOUT, so that long delays stay measurable."""
    _call("GET", f"/delay?ms={ms}", max(settings.DOWNSTREAM_TIMEOUT, ms / 1000 + 1))
