"""``fwbench run --hosts`` end to end across stand-in hosts (tests/hosts/netns.py): the
service on one, wrk on two at once, the topology and merged samples in the results file,
and nothing left running on any host."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from fwbench.harness.machine import format_cpu_list
from fwbench.harness.results import Placement, Results
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


def _pinned_processes(until: subprocess.Popen[str]) -> dict[str, dict[int, set[int]]]:
    """Until ``until`` ends, every process this checkout's guards started, by part
    (``service``: gunicorn; ``downstream``: granian; ``probe``; ``wrk``), its pid and the
    CPUs it may run on, read with psutil (stand-in hosts share this machine's pids)."""
    seen: dict[str, dict[int, set[int]]] = {}
    while until.poll() is None:
        for guard in guards():
            with contextlib.suppress(psutil.Error):
                for process in guard.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        argv = process.cmdline()
                        # taskset pins itself, then becomes the command: skip it before.
                        if not argv or Path(argv[0]).name == "taskset":
                            continue
                        line = " ".join(argv)
                        part = next((name for key, name in _PARTS if key in line), None)
                        if part is not None:
                            seen.setdefault(part, {})[process.pid] = set(process.cpu_affinity())
        time.sleep(0.1)
    return seen


#: What in a command line tells which part of a run a process is.
_PARTS = (
    ("gunicorn", "service"),
    ("granian", "downstream"),
    ("fwbench.harness.hostprobe", "probe"),
    ("wrk ", "wrk"),
)


@pytest.mark.slow
def test_run_on_hosts_pins_each_part_where_the_hosts_file_says(tmp_path: Path) -> None:
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        pytest.skip("needs 2 CPUs: the service's and the rest's")
    # The reverse of the halves (which put the service on the upper CPU), so the test
    # fails if the setting is ignored.
    service_cpu, load_cpu = usable[0], usable[-1]
    lacking = usable[-1] + 1
    with namespace_hosts(2, tmp_path) as hosts:
        service, load = hosts.urls
        hosts_file = hosts.write_hosts_file(tmp_path / "hosts.toml", [service], [load])
        listed = hosts_file.read_text()
        options = (
            "--hosts", str(hosts_file), "--frameworks", "flask", "--scenarios", "io",
            "--connections", "4", "--duration", "2", "--warmup", "1", "--repeats", "1",
            "--downstream-latency", "5", "--cold-starts", "0", "--ports", PORTS,
        )  # fmt: skip
        # A CPU the host lacks: one sentence, found on surveying, before anything starts.
        hosts_file.write_text(listed + f'[cpus."{service}"]\nservice = "{lacking}"\n')
        refused = fwbench(tmp_path, "run", *options, "--output", str(tmp_path / "no.json"))
        assert refused.returncode == 1
        (line,) = refused.stderr.strip().splitlines()
        assert line == (
            f"Error: {service} has no CPU {lacking}, which cpus.service of the hosts file "
            f"names; name CPUs among {format_cpu_list(usable)}, those fwbench may use there"
        )
        assert not (tmp_path / "no.json").exists()
        hosts_file.write_text(
            listed + f'[cpus."{service}"]\nservice = "{service_cpu}"\nload = "{load_cpu}"\n'
            f'[cpus."{load}"]\nload = "{load_cpu}"\n'
        )
        output = tmp_path / "run.json"
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "160"}
        with (tmp_path / "stderr").open("w+") as stderr:
            run = subprocess.Popen(
                [sys.executable, "-m", "fwbench", "run", *options, "--output", str(output)],
                stdout=subprocess.DEVNULL, stderr=stderr, env=env, text=True,
            )  # fmt: skip
            seen = _pinned_processes(run)
            stderr.seek(0)
            assert run.wait() == 0, stderr.read()
        assert guards() == []
    # gunicorn-sync on one CPU: a master and 3 workers, every one on the service's CPU.
    assert len(seen["service"]) >= 2, seen
    assert all(cpus == {service_cpu} for cpus in seen["service"].values()), seen
    for part in ("downstream", "probe", "wrk"):
        assert seen[part] and all(cpus == {load_cpu} for cpus in seen[part].values()), seen
    results = Results.read(output)
    assert results.status == "complete"
    (started,) = results.services
    assert started.cpus == (service_cpu,)
    assert started.command[:3] == ("taskset", "-c", str(service_cpu))
    # The service host's service CPUs and the (first) load host's wrk CPUs.
    assert results.placement == Placement((service_cpu,), (load_cpu,))
    topology = results.topology
    assert topology is not None
    by_url = {host.url: host for host in topology.hosts}
    assert (by_url[service].service_cpus, by_url[service].load_cpus) == (
        (service_cpu,),
        (load_cpu,),
    )
    assert (by_url[load].service_cpus, by_url[load].load_cpus) == (None, (load_cpu,))
    assert results.points[0].valid, results.points[0].problems
    # No calibration of wrk on those CPUs is stored here, so the check is left out.
    (note,) = results.notes
    assert load in note and "fwbench calibrate --hosts FILE" in note
