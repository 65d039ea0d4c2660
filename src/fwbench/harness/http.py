"""fwbench's own HTTP requests to the servers it starts: readiness polls, first requests,
lab calls, latency probes and the downstream's fault settings.

One function, so every caller parses URLs the same way (``urlsplit``, which takes
``http://[::1]:PORT`` apart correctly) and sees one kind of failure: :class:`OSError`.
Every request opens a fresh connection and closes it after the answer, as a health
checker does: a kept-alive connection would be served by the worker that accepted it,
and a server stopped and started again on the same port would see a stale one.

It is the standard library's ``http.client``, not httpx (a dependency of the project):
these requests time servers, and a request on a fresh httpx connection took two to three
times as long as on an ``http.client`` one (requests to the downstream's /healthz,
alternated, on a shared 2-core machine: 1-2 ms more each), which a latency probe would
add to every sample; an httpx client also loads a TLS certificate store when built
(~0.2 s there). ``http.client`` reads no proxy settings from the environment, which is
right for servers on this machine.
"""

from __future__ import annotations

import http.client
import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from fwbench.harness.documents import Json


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


def request(
    method: str,
    url: str,
    *,
    json: Json = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
) -> Response:
    """Send one request on a fresh connection and read the whole answer.

    Args:
        method: ``GET``, ``PUT`` ...
        url: the full URL, e.g. ``http://127.0.0.1:18401/healthz`` or
            ``http://[::1]:18401/healthz?x=1``.
        json: a body to send as JSON; None (default) sends none.
        headers: more request headers.
        timeout_s: seconds connecting, and then each read, may take.

    Raises:
        ValueError: ``url`` is not an ``http://`` URL with a host.
        OSError: no connection, a timeout (:class:`TimeoutError`), or an answer that
            broke off (:class:`ConnectionError`); the message names the request.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"fwbench speaks plain HTTP to its own servers, not to {url!r}")
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    sent = dict(headers or {})
    body = None
    if json is not None:
        body = jsonlib.dumps(json).encode()
        sent["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
    try:
        connection.request(method, target, body, sent)
        response = connection.getresponse()
        content = response.read()
    except TimeoutError:
        raise TimeoutError(f"{method} {url}: no answer within {timeout_s:g} s") from None
    except http.client.HTTPException as error:
        raise ConnectionError(f"{method} {url}: the answer broke off ({error!r})") from None
    except OSError as error:
        raise ConnectionError(f"{method} {url}: {error.strerror or error}") from None
    finally:
        connection.close()
    answer = {name.lower(): value for name, value in response.getheaders()}
    return Response(response.status, answer, content)
