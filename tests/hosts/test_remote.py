"""Services and wrk on other hosts over SSH, on stand-in hosts (network namespaces with a
real sshd, tests/hosts/netns.py): a merged load from two load hosts, one-sentence errors,
and nothing left running after a clean end, Ctrl-C or SIGKILL of the driver."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from fwbench.harness import http
from fwbench.harness.generators import run_generators
from fwbench.harness.load import LoadSpec
from fwbench.harness.remote import (
    CHECKOUT,
    Remote,
    RemoteError,
    remote_generator,
    start_remote_service,
)
from fwbench.harness.servers import configure
from fwbench.harness.watchdog import GRACE_S
from tests.hosts.netns import Hosts, namespace_hosts
from tests.processes import snapshot, still_running

#: TCP ports of these tests (the hosts tests' range is 19400-19499).
SERVICE_PORT = 19420
#: One per way of dying, so that one case's server never meets the next one's.
DRIVER_PORTS = {signal.SIGKILL: 19421, signal.SIGINT: 19422}


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    with namespace_hosts(3, tmp_path_factory.mktemp("netns")) as made:
        yield made


def guards() -> list[psutil.Process]:
    """The guards this checkout's fwbench started, on any stand-in host."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "fwbench.harness.guard" in cmdline and cmdline[0].startswith(str(CHECKOUT)):
            found.append(process)
    return found


def test_two_load_hosts_measure_a_service_host_and_leave_nothing(hosts: Hosts) -> None:
    service_url, *load_urls = hosts.urls
    key = hosts.identity_file
    with (
        Remote(service_url, key) as service_host,
        Remote(load_urls[0], key) as load_1,
        Remote(load_urls[1], key) as load_2,
    ):
        for remote in (service_host, load_1, load_2):
            remote.check_ready()
        config = configure("flask", "gunicorn-sync", 1, workers=2)
        with start_remote_service(service_host, config, SERVICE_PORT, cpus=(1,)) as service:
            assert service.url == f"http://{hosts.addresses[0]}:{SERVICE_PORT}"
            master = psutil.Process(service.pid)
            started = snapshot([master, *master.children(recursive=True)])
            assert len(started) == 3  # gunicorn's master and its two workers
            merged = run_generators(
                LoadSpec(url=service.url, path="/json", script="get", connections=6,
                         duration_s=2, threads=1, timeout_s=5),
                [remote_generator(load_1, cpus=(0,)), remote_generator(load_2, cpus=(0,))],
            )  # fmt: skip
            assert service.service_run().command[:3] == ("taskset", "-c", "1")
        assert still_running(started) == []
    first, second = merged.generators
    assert (first.host, second.host) == tuple(load_urls)
    assert first.sample.requests > 0 and second.sample.requests > 0
    assert merged.statuses == {200: merged.requests}
    assert merged.errors.total == 0
    assert merged.requests == first.sample.requests + second.sample.requests
    assert guards() == []


def test_django_answers_requests_addressed_to_its_host(hosts: Hosts) -> None:
    # Django answers only the Host names it allows (loopback by default); a client of a
    # service host addresses it by the host's address.
    config = configure("django", "gunicorn-sync", 1, workers=1)
    with (
        Remote(hosts.urls[0], hosts.identity_file) as remote,
        start_remote_service(remote, config, SERVICE_PORT, cpus=(1,)) as service,
    ):
        assert service.url == f"http://{hosts.addresses[0]}:{SERVICE_PORT}"
        response = http.request("GET", f"{service.url}/transactions?limit=1", timeout_s=10)
        assert response.status == 401  # past the Host check: it asks for the token
    assert guards() == []


def test_an_unreachable_host_is_one_sentence(hosts: Hosts) -> None:
    nobody = hosts.nobody
    with pytest.raises(RemoteError) as caught:
        Remote(nobody, hosts.identity_file)
    assert str(caught.value).startswith(f"cannot reach {nobody} over SSH (")
    assert "\n" not in str(caught.value)


def test_a_host_without_the_checkout_is_one_sentence(hosts: Hosts) -> None:
    with (
        Remote(hosts.urls[1], hosts.identity_file, checkout="/nonexistent/fwbench") as remote,
        pytest.raises(RemoteError) as caught,
    ):
        remote.check_ready()
    message = str(caught.value)
    assert message.startswith(f"{hosts.urls[1]} is not set up for fwbench: no /nonexistent")
    assert "README" in message


DRIVER = textwrap.dedent(
    """
    import sys, time
    from fwbench.harness.remote import Remote, start_remote_service
    from fwbench.harness.servers import configure

    url, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Remote(url, key) as remote:
        config = configure("flask", "gunicorn-sync", 1, workers=2)
        with start_remote_service(remote, config, port, cpus=(1,)) as service:
            print(service.pid, flush=True)
            time.sleep(120)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT])
def test_nothing_outlives_a_driver_that_dies(
    hosts: Hosts, tmp_path: Path, signum: signal.Signals
) -> None:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    argv = [str(script), hosts.urls[0], hosts.identity_file, str(DRIVER_PORTS[signum])]
    driver = subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert driver.stdout is not None
        pid = int(driver.stdout.readline())
        master = psutil.Process(pid)
        tree = snapshot([master, *master.children(recursive=True)])
        guard = snapshot([master.parent()])  # type: ignore[list-item]
        assert len(tree) == 3
        driver.send_signal(signum)
        # Interrupted, it stops the service itself (SIGTERM, then up to GRACE_S of grace).
        driver.wait(timeout=2 * GRACE_S + 30)
        deadline = time.monotonic() + GRACE_S + 10
        while (still_running(tree) or still_running(guard)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert still_running(tree) == []
        assert still_running(guard) == []
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
