"""The downstream service as a plain RSGI application (``granian --interface rsgi``).

Endpoints:

* ``GET /delay?ms=N``: waits N ms (0..600000, asyncio sleep), answers ``{"ms": N}``.
* ``POST /score``: answers ``{"score": s}``, s in [0, 1) derived from the SHA-256 of
  the body's canonical JSON (:mod:`.scoring`), so equal bodies get equal scores.
* ``GET /healthz``: 200 ``{"status": "ok"}``, never faulted.
* ``GET /_faults`` / ``PUT /_faults``: read or replace the fault settings
  (:class:`.faults.Faults`: ``latency_ms``, ``error_rate``, ``score``, ``status``).

Faults apply to ``/delay`` and ``/score``: the extra latency first, then the injected
error (an ``application/problem+json`` answer with the configured status). There is
no "refuse connections" knob: to test a downstream that refuses connections, stop it
or point the service at a port nothing listens on, which is exactly what a real outage
looks like. Settings live in process memory, so the downstream runs one worker.

It is written against RSGI directly, without a framework, because it must never be
the bottleneck of a measurement.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from typing import Final

# granian.rsgi re-exports HTTPProtocol without listing it in __all__.
from granian.rsgi import HTTPProtocol, Scope  # type: ignore[attr-defined]

from fwbench.services.downstream.faults import Faults, FaultState
from fwbench.services.downstream.scoring import score

MAX_DELAY_MS: Final = 600_000

_JSON: Final = [("content-type", "application/json")]
_PROBLEM: Final = [("content-type", "application/problem+json")]

#: Invalid start-up settings fail the import, so the server refuses to start with
#: the reason in its output.
_state = FaultState(Faults.from_env(os.environ))

Handler = Callable[[Scope, HTTPProtocol], Awaitable[None]]


def _problem(proto: HTTPProtocol, status: int, title: str, detail: str, **headers: str) -> None:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    proto.response_bytes(status, [*_PROBLEM, *headers.items()], json.dumps(body).encode())


def _query_int(query: str, name: str) -> int | None:
    """The integer value of ``name`` in a query string, None when absent or invalid."""
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == name:
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _faulted(proto: HTTPProtocol, extra_ms: int = 0) -> bool:
    """Apply the current faults; return True when an injected error was answered."""
    faults = _state.faults
    delay = extra_ms + faults.latency_ms
    if delay:
        await asyncio.sleep(delay / 1000)
    if _state.next_call_fails():
        _problem(
            proto,
            faults.status,
            "Injected fault",
            "error injected by the downstream's fault settings (PUT /_faults)",
        )
        return True
    return False


async def _delay(scope: Scope, proto: HTTPProtocol) -> None:
    ms = _query_int(scope.query_string, "ms")
    if ms is None or not 0 <= ms <= MAX_DELAY_MS:
        _problem(proto, 400, "Bad Request", f"ms must be an integer in 0..{MAX_DELAY_MS}")
        return
    if not await _faulted(proto, ms):
        proto.response_bytes(200, _JSON, b'{"ms":%d}' % ms)


async def _score(scope: Scope, proto: HTTPProtocol) -> None:
    try:
        value = json.loads(await proto())
    except ValueError:
        _problem(proto, 400, "Bad Request", "the body must be JSON")
        return
    forced = _state.faults.score
    if not await _faulted(proto):
        result = forced if forced is not None else score(value)
        proto.response_bytes(200, _JSON, json.dumps({"score": result}).encode())


async def _healthz(scope: Scope, proto: HTTPProtocol) -> None:
    proto.response_bytes(200, _JSON, b'{"status":"ok"}')


async def _get_faults(scope: Scope, proto: HTTPProtocol) -> None:
    proto.response_bytes(200, _JSON, json.dumps(_state.faults.as_json()).encode())


async def _put_faults(scope: Scope, proto: HTTPProtocol) -> None:
    try:
        faults = Faults.from_json(json.loads(await proto()))
    except ValueError as error:  # json.JSONDecodeError is a ValueError too
        _problem(proto, 422, "Unprocessable Content", str(error))
        return
    _state.replace(faults)
    proto.response_bytes(200, _JSON, json.dumps(faults.as_json()).encode())


_ROUTES: Final[dict[str, dict[str, Handler]]] = {
    "/delay": {"GET": _delay},
    "/score": {"POST": _score},
    "/healthz": {"GET": _healthz},
    "/_faults": {"GET": _get_faults, "PUT": _put_faults},
}


async def app(scope: Scope, proto: HTTPProtocol) -> None:
    """The RSGI entry point."""
    if scope.proto != "http":
        return  # websockets are not part of this service
    methods = _ROUTES.get(scope.path)
    if methods is None:
        _problem(proto, 404, "Not Found", f"no route {scope.path}")
        return
    handler = methods.get(scope.method)
    if handler is None:
        allow = ", ".join(methods)
        _problem(proto, 405, "Method Not Allowed", f"use {allow}", allow=allow)
        return
    await handler(scope, proto)
