"""The audit log: exactly one row for every request to /transactions* and /accounts*,
whatever its outcome, written once the response status is known.

The row is its own short transaction (autocommit, outside any transaction of the view), so a
request whose work was rolled back is still audited. Under ASGI it is written with the async
ORM, so the middleware itself stays on the event loop. A view whose writes must not commit
without their row saves it in its own transaction instead (:func:`audit_entry`), and the
middleware then writes none.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final, cast

from asgiref.sync import iscoroutinefunction
from django.db import DatabaseError
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from fwbench.services.django_service.payments.authentication import actor_for
from fwbench.services.django_service.payments.models import AuditEntry
from fwbench.services.django_service.project.middleware import (
    AsyncGetResponse,
    GetResponse,
    Middleware,
    SyncGetResponse,
    request_id,
)

AUDITED_PREFIXES = ("/transactions", "/accounts")

# Where the middleware leaves the request's start time, and a view the row it saved itself,
# in request.META (a WSGI-environ style key, like the request id's).
_STARTED: Final = "fwbench.audit.started"
_ENTRY: Final = "fwbench.audit.entry"

logger = logging.getLogger(__name__)


def _fields(request: HttpRequest, status: int) -> dict[str, Any]:
    """The audit row's fields for ``request`` answered ``status``. The actor comes from the
    token itself, so that requests that never reach a view (404, 405, 413) are attributed
    too."""
    return {
        "request_id": request_id(request),
        "method": request.method or "",
        "path": request.path,
        "status": status,
        "duration_ms": (time.perf_counter() - request.META[_STARTED]) * 1000,
        "actor": actor_for(request.headers.get("Authorization")),
    }


def audit_entry(request: HttpRequest, status: int) -> AuditEntry | None:
    """The unsaved audit row of ``request`` answered ``status``, for a view to save in the
    same database transaction as its own writes, so that neither commits without the other.

    Returns None when the audit log is off or the request is not audited. The middleware
    writes no row of its own once this one has been saved (it has a primary key), whether
    or not its transaction then committed; if it was never saved (the transaction failed
    first), the middleware writes the row as usual.
    """
    if _STARTED not in request.META:
        return None
    entry = AuditEntry(**_fields(request, status))
    request.META[_ENTRY] = entry
    return entry


def _saved_by_view(request: HttpRequest) -> bool:
    entry: AuditEntry | None = request.META.get(_ENTRY)
    return entry is not None and entry.pk is not None


@sync_and_async_middleware
def audit_middleware(get_response: GetResponse) -> Middleware:
    """Write one ``audit_log`` row per audited request (see the module docstring). A failed
    write is logged and the response still goes out: the client gets the real outcome of
    its request."""
    if iscoroutinefunction(get_response):
        get_response_async = cast(AsyncGetResponse, get_response)

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            if not request.path.startswith(AUDITED_PREFIXES):
                return await get_response_async(request)
            request.META[_STARTED] = time.perf_counter()
            response = await get_response_async(request)
            if not _saved_by_view(request):
                fields = _fields(request, response.status_code)
                try:
                    await AuditEntry.objects.acreate(**fields)
                except DatabaseError:
                    logger.exception("could not write the audit row of %s", fields["request_id"])
            return response

        return middleware_async

    get_response_sync = cast(SyncGetResponse, get_response)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(AUDITED_PREFIXES):
            return get_response_sync(request)
        request.META[_STARTED] = time.perf_counter()
        response = get_response_sync(request)
        if not _saved_by_view(request):
            fields = _fields(request, response.status_code)
            try:
                AuditEntry.objects.create(**fields)
            except DatabaseError:
                logger.exception("could not write the audit row of %s", fields["request_id"])
        return response

    return middleware
