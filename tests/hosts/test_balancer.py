"""N instances behind HAProxy: the generated configuration, and two real Flask instances
behind a real HAProxy on loopback, each serving its share of a real wrk load."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fwbench.harness import http
from fwbench.harness.balancer import haproxy_config, replicas_behind_balancer
from fwbench.harness.load import LoadSpec, run_load
from fwbench.harness.process import start_service
from fwbench.harness.results import Results
from tests.processes import snapshot, still_running

#: TCP ports of these tests (the hosts tests' range is 19400-19499).
REPLICA_PORTS = (19450, 19451)
BALANCER_PORT = 19452


def test_the_configuration_balances_round_robin_with_keep_alive() -> None:
    text = haproxy_config(("127.0.0.1", 8000), [("127.0.0.1", 8001), ("10.0.0.2", 8002)])
    assert "    bind 127.0.0.1:8000\n" in text
    assert "    balance roundrobin\n" in text
    assert "    option http-keep-alive\n" in text
    assert "    retries 0\n" in text
    assert "    server replica1 127.0.0.1:8001\n    server replica2 10.0.0.2:8002\n" in text


def served_json(url: str) -> float:
    """How many GET /json the instance at ``url`` answered, from its own metrics."""
    metrics = http.request("GET", f"{url}/metrics", timeout_s=5).body.decode()
    found = re.search(
        r'fwbench_http_requests_total\{method="GET",route="/json",status="200"\} (\S+)', metrics
    )
    return float(found.group(1)) if found else 0.0


def test_two_instances_behind_haproxy_share_a_real_load(tmp_path: Path) -> None:
    replicas = [
        start_service("flask", port=port, server="gunicorn-sync", workers=1, cpus=(1,),
                      state_dir=tmp_path / f"replica{i}")
        for i, port in enumerate(REPLICA_PORTS)
    ]  # fmt: skip
    try:
        trees = snapshot([p for r in replicas for p in r.processes()])
        with replicas_behind_balancer(
            replicas, ("127.0.0.1", BALANCER_PORT), cpus=(0,)
        ) as balancer:
            haproxy = snapshot(balancer.processes())
            sample = run_load(
                LoadSpec(url=balancer.url, path="/json", script="get", connections=4,
                         duration_s=2, threads=1, timeout_s=5, cpus=(0,))
            )  # fmt: skip
            served = [served_json(r.url) for r in replicas]
        assert still_running(haproxy) == []
    finally:
        for replica in replicas:
            replica.stop()
    assert still_running(trees) == []
    assert sample.errors.total == 0 and set(sample.statuses) == {200}
    # Round robin: each instance served about half; together, every response wrk got
    # (plus the few that were in flight when wrk stopped, and the readiness checks).
    assert all(n > sample.requests * 0.3 for n in served), (served, sample.requests)
    assert sample.requests <= sum(served) <= sample.requests + 50


def test_run_measures_two_replicas_as_one_service(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    done = subprocess.run(
        [sys.executable, "-m", "fwbench", "run", "--replicas", "2", "--frameworks", "flask",
         "--scenarios", "json", "--connections", "8", "--duration", "2", "--warmup", "0",
         "--repeats", "1", "--cold-starts", "0", "--ports", "19460-19469",
         "--output", str(output)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "160"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = Results.read(output)
    assert results.config.replicas == 2
    assert [(s.framework, s.server) for s in results.services] == [("flask", "gunicorn-sync")] * 2
    assert len({s.command for s in results.services}) == 2  # two ports
    (point,) = results.points
    assert point.valid, point.problems
    assert point.memory is None  # one instance's memory is not the service's
