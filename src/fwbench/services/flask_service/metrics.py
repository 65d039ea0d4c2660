"""Prometheus metrics (prometheus_client), identical in name and labels in all three
implementations. With ``PROMETHEUS_MULTIPROC_DIR`` set (several worker processes), each
process writes its samples to that directory and ``/metrics`` aggregates all of them.
"""

from __future__ import annotations

import os
import re
from functools import cache
from typing import Final

from flask import Flask, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from werkzeug.routing import Rule

from . import lifecycle

UNMATCHED_ROUTE: Final = "<unmatched>"

REQUESTS: Final = Counter(
    "fwbench_http_requests_total",
    "HTTP requests by method, route template and response status.",
    ("method", "route", "status"),
)
DURATION: Final = Histogram(
    "fwbench_http_request_duration_seconds",
    "HTTP request duration in seconds by method and route template.",
    ("method", "route"),
)

_CONVERTER: Final = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")

# The labelled children per (method, route, status), kept here: ``labels()`` takes a lock
# and builds its key on every call, and the set of keys is small and bounded (route
# templates, not paths).
_CHILDREN: Final[dict[tuple[str, str, int], tuple[Counter, Histogram]]] = {}


def init_app(app: Flask) -> None:
    """Count and time every request of ``app`` (``/metrics`` included)."""
    app.teardown_request(_observe)


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric and its content type."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        # A fresh registry per scrape, as prometheus_client's multiprocess docs prescribe
        # (https://prometheus.github.io/client_python/multiprocess/).
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _observe(_exc: BaseException | None) -> None:
    key = (request.method, route_template(request.url_rule), lifecycle.response_status())
    children = _CHILDREN.get(key)
    if children is None:
        method, route, status = key
        children = _CHILDREN[key] = (
            REQUESTS.labels(method, route, str(status)),
            DURATION.labels(method, route),
        )
    children[0].inc()
    children[1].observe(lifecycle.elapsed_seconds())


def route_template(rule: Rule | None) -> str:
    """The OpenAPI-style template of a Werkzeug rule (``/transactions/<id>`` becomes
    ``/transactions/{id}``), or ``<unmatched>`` when routing found no rule (404, 405)."""
    return UNMATCHED_ROUTE if rule is None else _template(rule.rule)


@cache
def _template(rule: str) -> str:
    return _CONVERTER.sub(r"{\1}", rule)
