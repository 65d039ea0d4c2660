"""``fwbench run --hosts`` end to end across stand-in hosts (tests/hosts/netns.py): the
service on one, wrk on two at once, the topology and merged samples in the results file,
and nothing left running on any host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fwbench.harness.results import Results
from tests.harness.test_results import validator
from tests.hosts.netns import namespace_hosts
from tests.hosts.test_remote import guards

#: The ports these tests give fwbench on the service host (hosts tests: 19400-19499).
PORTS = "19440-19449"


def fwbench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "fwbench", *args],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_run_on_hosts_records_topology_and_merged_samples(tmp_path: Path) -> None:
    with namespace_hosts(3, tmp_path) as hosts:
        service, load_1, load_2 = hosts.urls
        hosts_file = hosts.write_hosts_file(tmp_path / "hosts.toml", [service], [load_1, load_2])
        output = tmp_path / "run.json"
        done = fwbench(
            tmp_path, "run", "--hosts", str(hosts_file), "--frameworks", "flask",
            "--scenarios", "json,io", "--connections", "8", "--duration", "2",
            "--warmup", "1", "--repeats", "2", "--downstream-latency", "5",
            "--cold-starts", "2", "--ports", PORTS, "--output", str(output),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert guards() == []
    document = json.loads(output.read_text())
    validator().validate(document)
    results = Results.read(output)
    assert results.status == "complete"
    topology = results.topology
    assert topology is not None
    assert [h.url for h in topology.hosts] == [service, load_1, load_2]
    assert [h.roles for h in topology.hosts] == [("service",), ("load",), ("load",)]
    assert all(h.rtt_ms > 0 for h in topology.hosts)
    assert topology.hosts[0].rtt_to_service_ms is None
    assert all(h.rtt_to_service_ms is not None for h in topology.hosts[1:])
    assert [p.scenario for p in results.points] == ["json", "io"]
    for point in results.points:
        assert point.valid, point.problems
        for repeat in point.repeats:
            assert [g.host for g in repeat.generators] == [load_1, load_2]
            assert [g.connections for g in repeat.generators] == [4, 4]
            assert repeat.requests == sum(g.sample.requests for g in repeat.generators)
    assert results.services[0].command[:3] == ("taskset", "-c", "1")
    # Measured on the service host by `fwbench probe` (flask on gunicorn, one CPU: a
    # master and its workers).
    for point in results.points:
        assert point.memory is not None
        assert point.memory.samples >= 2
        roles = [process.role for process in point.memory.processes]
        assert roles[0] == "master" and set(roles[1:]) == {"worker"}
        assert point.memory.steady.pss > 0
    (cold,) = results.cold_starts
    assert (cold.framework, len(cold.healthz_ms)) == ("flask", 2)
    (imported,) = results.import_times
    assert imported.framework == "flask" and len(imported.samples_us) == 3
    assert not any("memory" in note for note in results.notes)
    # No load host is calibrated here (tests/hosts/test_calibrate_hosts.py calibrates).
    (note,) = results.notes
    assert load_1 in note and load_2 in note and "fwbench calibrate --hosts" in note
    assert all(host.calibration is None for host in topology.hosts)
    assert not any(c.name == "generator_bound" for p in results.points for c in p.sanity)
    assert "flask/gunicorn-sync cold start: first request" in " ".join(done.stdout.split())
    assert "fwbench run on hosts" in done.stdout
