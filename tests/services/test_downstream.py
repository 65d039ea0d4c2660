"""The downstream service over real HTTP: /delay, /score, /healthz and the fault knobs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from fwbench.harness.process import ServiceProcess, free_port, start_downstream
from fwbench.services.downstream.faults import Faults

#: This module's share of the fwbench_sv port range (18400-18499).
_PORTS = iter(range(18440, 18460))

TRANSACTION = {
    "id": 7,
    "account_id": "acc-1",
    "amount": "12.50",
    "currency": "EUR",
    "merchant": "Coffee Corner",
}


def expected_score(body: object) -> float:
    """The documented rule, computed independently: 53 leading bits of the SHA-256 of
    the canonical JSON (sorted keys, no spaces, UTF-8), over 2**53."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / 2**53


@pytest.fixture(scope="module")
def downstream() -> Iterator[ServiceProcess]:
    with start_downstream(port=free_port(_PORTS)) as service:
        yield service


@pytest.fixture
def client(downstream: ServiceProcess) -> Iterator[httpx.Client]:
    """A client of the shared downstream, whose faults are cleared after each test."""
    with httpx.Client(base_url=downstream.url, timeout=10) as http:
        yield http
        assert http.put("/_faults", json={}).status_code == 200


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_delay_waits_then_answers(client: httpx.Client) -> None:
    started = time.monotonic()
    response = client.get("/delay", params={"ms": 120})
    elapsed = time.monotonic() - started
    assert (response.status_code, response.json()) == (200, {"ms": 120})
    assert response.headers["content-type"] == "application/json"
    # A lower bound only (a sleep never ends early, a slow machine only adds to it).
    assert elapsed >= 0.119


def test_delay_zero(client: httpx.Client) -> None:
    assert client.get("/delay?ms=0").json() == {"ms": 0}


@pytest.mark.parametrize("query", ["", "?ms=", "?ms=abc", "?ms=-1", "?ms=600001", "?other=3"])
def test_delay_needs_a_valid_ms(client: httpx.Client, query: str) -> None:
    response = client.get(f"/delay{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 400


def test_score_is_deterministic_and_documented(client: httpx.Client) -> None:
    first = client.post("/score", json=TRANSACTION).json()["score"]
    assert 0 <= first < 1
    assert first == expected_score(TRANSACTION)
    # Key order and formatting do not matter: the canonical JSON is hashed.
    reordered = json.dumps(dict(reversed(TRANSACTION.items())), indent=2)
    headers = {"content-type": "application/json"}
    assert client.post("/score", content=reordered, headers=headers).json()["score"] == first
    other = client.post("/score", json={**TRANSACTION, "amount": "12.51"}).json()["score"]
    assert other != first


def test_score_needs_json(client: httpx.Client) -> None:
    response = client.post("/score", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["detail"] == "the body must be JSON"


def test_unknown_route_and_wrong_method(client: httpx.Client) -> None:
    missing = client.get("/nowhere")
    assert (missing.status_code, missing.headers["content-type"]) == (
        404,
        "application/problem+json",
    )
    wrong = client.get("/score")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")


def test_faults_round_trip(client: httpx.Client) -> None:
    settings = {"latency_ms": 5, "error_rate": 0.25, "score": 0.95, "status": 503}
    assert client.put("/_faults", json=settings).json() == settings
    assert client.get("/_faults").json() == settings
    # A PUT replaces everything: omitted fields return to their defaults.
    assert client.put("/_faults", json={"status": 502}).json() == {
        **Faults().as_json(),
        "status": 502,
    }


def test_forced_score_declines(client: httpx.Client) -> None:
    client.put("/_faults", json={"score": 0.95})
    assert client.post("/score", json=TRANSACTION).json() == {"score": 0.95}


def test_error_rate_is_exact_and_uses_the_status(client: httpx.Client) -> None:
    client.put("/_faults", json={"error_rate": 0.25, "status": 503})
    statuses = [client.get("/delay?ms=0").status_code for _ in range(8)]
    assert statuses == [200, 200, 200, 503] * 2
    client.put("/_faults", json={"error_rate": 1.0})
    failed = client.post("/score", json=TRANSACTION)
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["title"] == "Injected fault"
    # /healthz is never faulted: readiness checks keep working.
    assert client.get("/healthz").status_code == 200


def test_latency_fault_delays_score(client: httpx.Client) -> None:
    client.put("/_faults", json={"latency_ms": 150})
    started = time.monotonic()
    assert client.post("/score", json=TRANSACTION).status_code == 200
    assert time.monotonic() - started >= 0.149  # lower bound only


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"latency_ms": -1}, "latency_ms must be in 0..600000, not -1"),
        ({"error_rate": 1.5}, "error_rate must be in 0..1, not 1.5"),
        ({"score": 2}, "score must be null or in 0..1, not 2.0"),
        ({"status": 200}, "status must be an error status in 400..599, not 200"),
        ({"latency_ms": "5"}, "latency_ms and status must be integers"),
        ({"refuse": True}, "unknown field(s): refuse"),
        ([1, 2], "the body must be a JSON object"),
    ],
)
def test_invalid_faults_are_refused(client: httpx.Client, body: object, detail: str) -> None:
    before = client.get("/_faults").json()
    response = client.put("/_faults", json=body)
    assert (response.status_code, response.json()["detail"]) == (422, detail)
    assert client.get("/_faults").json() == before


def test_start_time_faults() -> None:
    with (
        start_downstream(port=free_port(_PORTS), latency_ms=7, error_rate=0.5) as service,
        httpx.Client(base_url=service.url) as http,
    ):
        assert http.get("/_faults").json() == {
            "latency_ms": 7,
            "error_rate": 0.5,
            "score": None,
            "status": 500,
        }
        assert [http.get("/delay?ms=0").status_code for _ in range(4)] == [200, 500, 200, 500]


def test_stopped_downstream_refuses_connections() -> None:
    """The documented way to simulate a refusing downstream: stop it."""
    service = start_downstream(port=free_port(_PORTS))
    url = service.url
    service.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz")


WRK_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)s")
WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")


def test_serves_delay_zero_under_wrk_on_one_core() -> None:
    """wrk -t1 -c64 -d5s on /delay?ms=0, the downstream pinned to one core and wrk to
    another: every request must succeed. The rate is printed (run with -s to see it);
    the issue's goal is >= 10,000 req/s, checked by reading it, not by asserting."""
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.skip("wrk is not installed (apt-get install wrk)")
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, wrk_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (cpus[0], cpus[0])
    with start_downstream(port=free_port(_PORTS), cpus={server_cpu}) as service:
        result = subprocess.run(
            [
                "taskset",
                "-c",
                str(wrk_cpu),
                wrk,
                "-t1",
                "-c64",
                "-d5s",
                f"{service.url}/delay?ms=0",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    output = result.stdout
    assert "Non-2xx" not in output, output
    assert "Socket errors" not in output, output
    requests = WRK_REQUESTS.search(output)
    rate = WRK_RATE.search(output)
    assert requests is not None and rate is not None, output
    assert int(requests.group(1)) > 0
    shared = " (same core as wrk: only one CPU available)" if server_cpu == wrk_cpu else ""
    print(f"\ndownstream /delay?ms=0 on CPU {server_cpu}: {rate.group(1)} req/s{shared}")
