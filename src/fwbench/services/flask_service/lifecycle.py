"""Per-request bookkeeping the other plugins read: request id, start time, final status."""

from __future__ import annotations

import re
import time
import uuid
from typing import Final

from flask import Flask, Response, g, request

REQUEST_ID_HEADER: Final = "X-Request-ID"
_VALID_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,128}")


def init_app(app: Flask) -> None:
    """Stamp every request of ``app`` with an id and a start time, and every response with
    ``X-Request-ID``. Call it before registering other ``before_request`` functions."""
    app.before_request(_start)
    app.after_request(_finish)


def request_id() -> str:
    """The current request's id: a valid incoming ``X-Request-ID`` or a new UUID4."""
    rid: str = g.request_id
    return rid


def elapsed_seconds() -> float:
    """Seconds since the current request started."""
    started: float = g.started_at
    return time.perf_counter() - started


def response_status() -> int:
    """Status of the response sent for the current request; 500 when no response object
    reached ``after_request`` (an error escaped every handler)."""
    status: int = g.get("response_status", 500)
    return status


def _start() -> None:
    g.started_at = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.request_id
    g.response_status = response.status_code
    return response
