"""Request count and latency for every response, by route template."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import cast

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.decorators import sync_and_async_middleware
from prometheus_client import Counter, Histogram

from fwbench.services.django_service.ops.metrics import DURATION, REQUESTS, route_of
from fwbench.services.django_service.project.middleware import (
    AsyncGetResponse,
    GetResponse,
    Middleware,
    SyncGetResponse,
)


@lru_cache(maxsize=1024)
def _children(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The request counter and duration histogram of one label set, looked up once: each
    ``labels()`` call takes a lock and rebuilds the label tuple."""
    return REQUESTS.labels(method, route, str(status)), DURATION.labels(method, route)


def _observe(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    """Count ``response`` and record the time since ``started`` (a perf_counter value)."""
    requests, duration = _children(request.method or "", route_of(request), response.status_code)
    requests.inc()
    duration.observe(time.perf_counter() - started)


@sync_and_async_middleware
def prometheus_middleware(get_response: GetResponse) -> Middleware:
    """Record every request in ``fwbench_http_requests_total`` and
    ``fwbench_http_request_duration_seconds``. Runs inline in both modes (no I/O)."""
    if iscoroutinefunction(get_response):
        get_response_async = cast(AsyncGetResponse, get_response)

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            started = time.perf_counter()
            response = await get_response_async(request)
            _observe(request, response, started)
            return response

        return middleware_async

    get_response_sync = cast(SyncGetResponse, get_response)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = get_response_sync(request)
        _observe(request, response, started)
        return response

    return middleware
