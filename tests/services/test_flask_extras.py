"""``FWBENCH_EXTRAS_OFF`` on the Flask implementation, over real HTTP against gunicorn.

Each extra the variable names really disappears from a served app, the others stay, and
an unset variable keeps all of them (what the contract suite relies on).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fwbench.contract import EXTRAS, EXTRAS_OFF_FLAG, MAX_BODY_BYTES, extras_off
from fwbench.harness.process import (
    DEFAULT_TOKENS,
    ServiceProcess,
    free_port,
    start_downstream,
    start_service,
)

#: This module's share of the fwbench_fl port range (18200-18299).
_PORTS = iter(range(18250, 18270))

API_HEADERS = {"Authorization": f"Bearer {DEFAULT_TOKENS['API_TOKEN']}"}
ADMIN_HEADERS = {"Authorization": f"Bearer {DEFAULT_TOKENS['ADMIN_TOKEN']}"}
_JSON_COUNTER = re.compile(
    r'^fwbench_http_requests_total\{method="GET",route="/json",status="200"\} (\S+)$', re.M
)


@pytest.fixture(scope="module")
def downstream() -> Iterator[ServiceProcess]:
    with start_downstream(port=free_port(_PORTS)) as service:
        yield service


@pytest.fixture(scope="module", params=["", *EXTRAS])
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    downstream: ServiceProcess,
) -> Iterator[tuple[httpx.Client, frozenset[str]]]:
    """The service with one extra off (or none: ``""``), on SQLite under gunicorn."""
    raw: str = request.param
    with (
        start_service(
            "flask",
            port=free_port(_PORTS),
            workers=1,
            state_dir=tmp_path_factory.mktemp("flask-extras"),
            downstream_url=downstream.url,
            extra_env={EXTRAS_OFF_FLAG: raw},
        ) as service,
        httpx.Client(base_url=service.url, timeout=30) as client,
    ):
        yield client, extras_off(raw)


def _json_requests_counted(client: httpx.Client) -> float:
    match = _JSON_COUNTER.search(client.get("/metrics").text)
    return float(match.group(1)) if match else 0.0


def _audit_rows(client: httpx.Client) -> int:
    page = client.get("/audit-log", headers=ADMIN_HEADERS, params={"limit": 100})
    assert page.status_code == 200, page.text
    return len(page.json()["items"])


def test_request_id_header(served: tuple[httpx.Client, frozenset[str]]) -> None:
    client, off = served
    response = client.get("/json", headers={"X-Request-ID": "extras-test-1"})
    if "request-id" in off:
        assert "x-request-id" not in response.headers
    else:
        assert response.headers["x-request-id"] == "extras-test-1"


def test_metrics_count_requests(served: tuple[httpx.Client, frozenset[str]]) -> None:
    client, off = served
    before = _json_requests_counted(client)
    assert client.get("/json").status_code == 200
    assert _json_requests_counted(client) == (before if "metrics" in off else before + 1)


def test_audit_rows(served: tuple[httpx.Client, frozenset[str]]) -> None:
    client, off = served
    before = _audit_rows(client)
    assert client.get("/transactions", headers=API_HEADERS).status_code == 200
    assert _audit_rows(client) == (before if "audit" in off else before + 1)


def test_body_limit(served: tuple[httpx.Client, frozenset[str]]) -> None:
    client, off = served
    body = {"account_id": "extras", "amount": "1.00", "currency": "EUR", "merchant": "m"}
    compact = json.dumps(body).encode()
    # Valid JSON, one byte over the limit: whitespace padding.
    oversized = b"{" + b" " * (MAX_BODY_BYTES + 1 - len(compact)) + compact[1:]
    response = client.post(
        "/transactions",
        content=oversized,
        headers={**API_HEADERS, "Content-Type": "application/json"},
    )
    assert response.status_code == (201 if "body-limit" in off else 413), response.text


def test_an_unknown_extra_stops_the_start_with_one_sentence(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import fwbench.services.flask_service.wsgi"],
        env={
            **os.environ,
            **DEFAULT_TOKENS,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite3'}",
            EXTRAS_OFF_FLAG: "metrics,tracing",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    with pytest.raises(ValueError) as expected:
        extras_off("metrics,tracing")
    assert result.stderr.rstrip().endswith(str(expected.value)), result.stderr
