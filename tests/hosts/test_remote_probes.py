"""The probes of a run across hosts, on a stand-in service host (tests/hosts/netns.py):
the memory of a remote service's process tree sampled there and streamed back, its cold
starts and import time measured there, its CPU-time counters read there on request
(``model --hosts``), nothing left running even when the driver is killed, errors in one
sentence."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import astuple
from pathlib import Path

import psutil
import pytest

from fwbench.harness import http
from fwbench.harness.cputime import tree_cpu_s
from fwbench.harness.probes import MemoryRecord, PidTree, ProbeFailed
from fwbench.harness.remote import Remote, start_remote_service
from fwbench.harness.remote_probes import (
    RemoteCpuCounters,
    RemoteMemorySampler,
    parse_memory_line,
    remote_cold_starts,
)
from fwbench.harness.results import MemoryUse
from fwbench.harness.servers import configure
from tests.hosts.netns import Hosts, namespace_hosts
from tests.hosts.test_remote import guards
from tests.processes import snapshot, still_running

#: TCP ports of these tests (the hosts tests' range is 19400-19499).
SERVICE_PORT = 19480
COLD_PORTS = range(19481, 19486)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    with namespace_hosts(1, tmp_path_factory.mktemp("netns")) as made:
        yield made


def test_memory_of_the_remote_tree_is_sampled_on_its_host(hosts: Hosts) -> None:
    with Remote(hosts.urls[0], hosts.identity_file) as remote:
        config = configure("flask", "gunicorn-sync", 1, workers=2)
        with start_remote_service(remote, config, SERVICE_PORT, cpus=(1,)) as service:
            master = psutil.Process(service.pid)
            tree = {master.pid, *(child.pid for child in master.children(recursive=True))}
            with RemoteMemorySampler(service, cpus=(0,), interval_s=0.2) as sampler:
                time.sleep(1.5)
                sampler.steady()
                time.sleep(1.5)
            probes = [p for p in guards() if "probe" in p.cmdline()]
            assert probes == []  # the probe stopped with the block
            profile = sampler.profile()
        assert sampler.error is None
    assert profile is not None
    assert profile.samples >= 6
    assert profile.interval_s == 0.2
    assert {p.pid for p in profile.processes} == tree
    assert [p.role for p in profile.processes] == ["master", "worker", "worker"]
    assert profile.processes[0].pid == master.pid
    assert all(p.steady.pss > 0 and p.steady.rss >= p.steady.pss for p in profile.processes)
    assert profile.steady.pss == pytest.approx(sum(p.steady.pss for p in profile.processes), 0.2)
    assert guards() == []


def test_cold_starts_and_import_time_are_measured_on_the_service_host(hosts: Hosts) -> None:
    with Remote(hosts.urls[0], hosts.identity_file) as remote:
        config = configure("flask", "gunicorn-sync", 1, workers=1)
        with start_remote_service(remote, config, SERVICE_PORT, cpus=(1,)) as service:
            service.halt()
            cold, imported = remote_cold_starts(
                service, 2, workers=1, downstream_url=None, ports=COLD_PORTS
            )
    assert (cold.framework, cold.server) == ("flask", "gunicorn-sync")
    assert len(cold.healthz_ms) == 2
    assert all(0 < h <= r for h, r in zip(cold.healthz_ms, cold.first_request_ms, strict=True))
    assert imported.module == config.app.partition(":")[0]
    assert len(imported.samples_us) == 3 and min(imported.samples_us) > 0
    assert "flask" in dict(imported.heaviest)
    assert guards() == []


def cpu_probes(pid: int) -> list[psutil.Process]:
    """The ``fwbench probe cpu`` processes reading the tree of ``pid``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "fwbench.harness.hostprobe" in cmdline and cmdline[-4:-2] == ["--pid", str(pid)]:
            found.append(process)
    return found


def test_cpu_counters_of_the_remote_tree_are_read_on_its_host(hosts: Hosts) -> None:
    with Remote(hosts.urls[0], hosts.identity_file) as remote:
        config = configure("flask", "gunicorn-sync", 1, workers=2)
        with start_remote_service(remote, config, SERVICE_PORT, cpus=(1,)) as service:
            with RemoteCpuCounters(service, cpus=(0,)) as counters:
                before = counters.read()
                for _ in range(300):
                    assert http.request("GET", f"{service.url}/json", timeout_s=5).ok
                after = counters.read()
                # The same tree read here (the namespaces share the process table), after.
                here = tree_cpu_s(PidTree(service.pid))
                assert len(cpu_probes(service.pid)) == 1
            assert cpu_probes(service.pid) == []  # the probe ended with the block
    assert after.at_s > before.at_s
    used = after.tree_s - before.tree_s
    assert used > 0.05  # 300 requests on the service host's tree
    assert before.tree_s < after.tree_s <= here
    # The service is pinned to CPU 1: its busy time holds the tree's (clock ticks: 10 ms).
    assert after.busy_s - before.busy_s >= used - 0.02
    assert guards() == []


CPU_DRIVER = textwrap.dedent(
    """
    import sys, time
    from fwbench.harness.remote import Remote, start_remote_service
    from fwbench.harness.remote_probes import RemoteCpuCounters
    from fwbench.harness.servers import configure

    url, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Remote(url, key) as remote:
        config = configure("flask", "gunicorn-sync", 1, workers=1)
        with start_remote_service(remote, config, port, cpus=(1,)) as service:
            with RemoteCpuCounters(service, cpus=(0,)) as counters:
                counters.read()
                print(service.pid, flush=True)
                time.sleep(120)
    """
)


def test_the_cpu_probe_ends_with_a_driver_that_is_killed(hosts: Hosts, tmp_path: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text(CPU_DRIVER)
    driver = subprocess.Popen(
        [sys.executable, str(script), hosts.urls[0], hosts.identity_file, str(SERVICE_PORT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert driver.stdout is not None
        pid = int(driver.stdout.readline())
        master = psutil.Process(pid)
        started = snapshot([master, *cpu_probes(pid)])
        assert len(started) == 2
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
        # sshd ends the sessions: the probe reads the end of its input, the guard stops
        # the service (SIGTERM, then up to GRACE_S of grace).
        deadline = time.monotonic() + 30
        while still_running(started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert still_running(started) == []
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()


def test_a_probe_of_no_process_is_one_sentence() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    done = subprocess.run(
        [sys.executable, "-m", "fwbench", "probe", "memory", "--pid", str(gone.pid)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: no process {gone.pid} to measure"
    assert done.stdout == ""


def test_a_local_probe_prints_one_sample_per_line_until_the_tree_is_gone() -> None:
    sleeper = subprocess.Popen(["sleep", "120"])
    probe = subprocess.Popen(
        [sys.executable, "-m", "fwbench.harness.hostprobe", "memory", "--pid", str(sleeper.pid),
         "--interval", "0.2"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert probe.stdout is not None
        lines = [probe.stdout.readline() for _ in range(3)]
        sleeper.kill()
        sleeper.wait()
        # The tree is gone: the probe ends by itself.
        assert probe.wait(timeout=30) == 0
    finally:
        for process in (sleeper, probe):
            if process.poll() is None:
                process.kill()
                process.wait()
    for line in lines:
        sample = parse_memory_line(line)
        assert list(sample) == [sleeper.pid]
        name, use = sample[sleeper.pid]
        assert name == "sleep" and use.rss >= use.pss > 0


def test_streamed_samples_give_the_profile_a_local_sampler_computes() -> None:
    record = MemoryRecord(root=10, interval_s=0.5)
    mib = 1024 * 1024

    def use(n: int) -> MemoryUse:
        return MemoryUse(rss=2 * n * mib, uss=n * mib, pss=n * mib + mib // 2)

    def line(worker: int) -> str:
        processes = {
            "10": ["gunicorn", *astuple(use(50))],
            "11": ["gunicorn", *astuple(use(worker))],
        }
        return json.dumps({"memory": processes})

    # A warm-up sample with a peak, then two steady ones, read back from JSON lines.
    for text in (line(90), line(40), line(60)):
        record.add(parse_memory_line(text))
        record.steady()
    profile = record.profile()
    assert profile is not None
    assert profile.samples == 3 and profile.interval_s == 0.5
    master, worker = profile.processes
    assert (master.pid, master.role, worker.pid, worker.role) == (10, "master", 11, "worker")
    assert worker.steady == use(50)  # the median of the steady 40 and 60, not the warm-up
    assert worker.peak == use(90)  # peaks count every sample
    assert profile.steady.uss == 100 * mib


def test_a_line_that_is_no_sample_is_one_sentence() -> None:
    with pytest.raises(ProbeFailed) as caught:
        parse_memory_line('{"cold_start": {}}')
    assert str(caught.value).startswith("the memory probe printed '{\"cold_start\": {}}'")
    assert "\n" not in str(caught.value)
