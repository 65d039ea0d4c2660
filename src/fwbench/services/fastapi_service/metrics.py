"""Prometheus metrics: request count and latency by route template, correct across
worker processes when ``PROMETHEUS_MULTIPROC_DIR`` is set."""

from __future__ import annotations

import os
from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

#: ``route`` label of requests that matched no route.
UNMATCHED_ROUTE = "<unmatched>"

REQUESTS = Counter(
    "fwbench_http_requests_total",
    "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "fwbench_http_request_duration_seconds",
    "HTTP request duration in seconds, by method and route template.",
    ["method", "route"],
)


@cache
def _children(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The labelled series of one kind of request. ``labels()`` validates and looks its
    arguments up under a lock on every call; the children never change, so each is looked
    up once. The keys are bounded as the label values are: methods, route templates and
    statuses."""
    return REQUESTS.labels(method, route, str(status)), DURATION.labels(method, route)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count one request and record its duration."""
    requests, duration = _children(method, route, status)
    requests.inc()
    duration.observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The text exposition and its content type. With several workers each process writes
    its own files and a fresh registry with a MultiProcessCollector aggregates them at
    scrape time (prometheus.github.io/client_python/multiprocess/)."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        # prometheus_client leaves this constructor unannotated.
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
