"""Per-request bookkeeping the other plugins read: request id, start time, final status.

It is WSGI middleware around the Flask app (the way Flask's docs wrap ``app.wsgi_app``)
rather than ``before_request`` and ``after_request`` functions: none of it needs routing
or an app context, and as middleware it costs one call and one ``start_response``
wrapper per request instead of two hook dispatches and four ``g`` lookups.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from flask import Flask, request

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

REQUEST_ID_HEADER: Final = "X-Request-ID"
_VALID_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,128}")

# Where the middleware leaves its records for the plugins, in the WSGI environ.
_STARTED: Final = "fwbench.started_at"
_REQUEST_ID: Final = "fwbench.request_id"
_STATUS: Final = "fwbench.status"


def init_app(app: Flask, *, request_ids: bool) -> None:
    """Time every request of ``app`` and record its final status.

    Args:
        app: The application whose ``wsgi_app`` gets wrapped.
        request_ids: Whether to stamp each request with an id and each response with
            ``X-Request-ID`` (off only for the fairness benchmark).
    """
    app.wsgi_app = _Lifecycle(app.wsgi_app, request_ids=request_ids)  # type: ignore[method-assign]


def request_id() -> str:
    """The current request's id: a valid incoming ``X-Request-ID`` or a new UUID4 (a new
    one per call when request ids are switched off)."""
    rid: str | None = request.environ.get(_REQUEST_ID)
    return rid if rid is not None else str(uuid.uuid4())


def elapsed_seconds() -> float:
    """Seconds since the current request started."""
    started: float = request.environ[_STARTED]
    return time.perf_counter() - started


def response_status() -> int:
    """Status of the response sent for the current request; 500 when none was started."""
    status: int = request.environ.get(_STATUS, 500)
    return status


class _Lifecycle:
    """WSGI middleware: records the start time, the request id and the status in the
    environ, and adds ``X-Request-ID`` to the response headers."""

    def __init__(self, app: WSGIApplication, *, request_ids: bool) -> None:
        self._app = app
        self._request_ids = request_ids

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ[_STARTED] = time.perf_counter()
        rid: str | None = None
        if self._request_ids:
            incoming = environ.get("HTTP_X_REQUEST_ID", "")
            rid = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
            environ[_REQUEST_ID] = rid

        def record_status(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            environ[_STATUS] = int(status[:3])
            if rid is not None:
                headers.append((REQUEST_ID_HEADER, rid))
            return start_response(status, headers, exc_info)

        return self._app(environ, record_status)
