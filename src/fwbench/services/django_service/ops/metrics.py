"""The Prometheus metrics, named identically in the three implementations.

When PROMETHEUS_MULTIPROC_DIR is set (several worker processes), prometheus_client keeps the
values in files in that directory and the ``/metrics`` view aggregates them.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from django.http import HttpRequest
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

#: The ``route`` label of requests that matched no route.
UNMATCHED = "<unmatched>"

REQUESTS = Counter(
    "fwbench_http_requests_total",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "fwbench_http_request_duration_seconds",
    "HTTP request duration in seconds by method and route template.",
    ["method", "route"],
)

_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


@lru_cache(maxsize=512)
def _template(route: str) -> str:
    """``transactions/<str:id>/fraud-check`` -> ``/transactions/{id}/fraud-check``."""
    return "/" + _CONVERTER.sub(r"{\1}", route)


def route_of(request: HttpRequest) -> str:
    """The route template ``request`` matched, in OpenAPI form, or :data:`UNMATCHED`."""
    match = request.resolver_match
    return UNMATCHED if match is None else _template(match.route)


def exposition() -> bytes:
    """The metrics in Prometheus text format, aggregated over all workers in multiprocess
    mode (prometheus_client docs, "Multiprocess Mode": a fresh registry per scrape)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        # prometheus_client leaves this constructor unannotated.
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
