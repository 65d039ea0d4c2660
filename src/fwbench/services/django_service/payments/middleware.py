"""The audit log: exactly one row for every request to /transactions* and /accounts*,
whatever its outcome, written once the response status is known.

The row is its own short transaction (autocommit, outside any transaction of the view), so a
request whose work was rolled back is still audited. Under ASGI it is written with the async
ORM, so the middleware itself stays on the event loop.
"""

from __future__ import annotations

import time
from typing import Any, cast

from asgiref.sync import iscoroutinefunction
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


def _entry(request: HttpRequest, response: HttpResponseBase, started: float) -> dict[str, Any]:
    """The audit row's fields; ``started`` is the perf_counter value when the request came in.
    The actor comes from the token itself, so that requests that never reach a view (404, 405,
    413) are attributed too."""
    return {
        "request_id": request_id(request),
        "method": request.method or "",
        "path": request.path,
        "status": response.status_code,
        "duration_ms": (time.perf_counter() - started) * 1000,
        "actor": actor_for(request.headers.get("Authorization")),
    }


@sync_and_async_middleware
def audit_middleware(get_response: GetResponse) -> Middleware:
    """Write one ``audit_log`` row per audited request (see the module docstring)."""
    if iscoroutinefunction(get_response):
        get_response_async = cast(AsyncGetResponse, get_response)

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            if not request.path.startswith(AUDITED_PREFIXES):
                return await get_response_async(request)
            started = time.perf_counter()
            response = await get_response_async(request)
            await AuditEntry.objects.acreate(**_entry(request, response, started))
            return response

        return middleware_async

    get_response_sync = cast(SyncGetResponse, get_response)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(AUDITED_PREFIXES):
            return get_response_sync(request)
        started = time.perf_counter()
        response = get_response_sync(request)
        AuditEntry.objects.create(**_entry(request, response, started))
        return response

    return middleware
