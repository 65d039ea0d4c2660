"""``fwbench prepare --hosts`` on a stand-in host (tests/hosts/netns.py) with no route
out of its namespace: this checkout copied to another path and set up there from
wheels built on the driver, then a real run from that checkout; a second prepare that
only checks; a file edited on the host put back; and one-sentence errors."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from fwbench.harness import checkout_state
from fwbench.harness.checkout_state import SHIPPED, file_hash
from fwbench.harness.prepare import PythonFacts, tracked_files, wheels_misfit
from fwbench.harness.remote import CHECKOUT, Remote
from fwbench.harness.results import Results
from fwbench.harness.watchdog import GRACE_S
from tests.hosts.netns import Hosts, namespace_hosts

#: The ports these tests give fwbench on the host (hosts tests: 19400-19499).
PORTS = "19470-19479"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    with namespace_hosts(1, tmp_path_factory.mktemp("netns")) as made:
        yield made


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """fwbench's state directory for these tests: the wheels are built once for all,
    and removed at the end (about 150 MB)."""
    directory = tmp_path_factory.mktemp("cache")
    yield directory
    shutil.rmtree(directory)


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    """A checkout path on the stand-in host (which shares this file system), other than
    this checkout's, removed at the end (its venv is over 600 MB)."""
    path = tmp_path / "elsewhere" / "fwbench"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write_hosts_file(path: Path, hosts: Hosts, checkout: Path, url: str | None = None) -> Path:
    """A hosts file with one stand-in host (or ``url``) as service and load host and
    ``checkout`` as the checkout."""
    url = url or hosts.urls[0]
    path.write_text(
        f'service = ["{url}"]\nload = ["{url}"]\n'
        f'identity_file = "{hosts.identity_file}"\ncheckout = "{checkout}"\n'
    )
    return path


def fwbench(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "fwbench", *args],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip


def processes_of(checkout: Path) -> list[psutil.Process]:
    """Processes running a program of ``checkout`` (its venv's Python, above all)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(part.startswith(str(checkout)) for part in cmdline):
            found.append(process)
    return found


@pytest.mark.slow
def test_prepare_sets_up_another_checkout_offline_and_it_runs(
    host: Hosts, cache: Path, checkout: Path, tmp_path: Path
) -> None:
    assert checkout != CHECKOUT
    hosts_file = write_hosts_file(tmp_path / "hosts.toml", host, checkout)
    with Remote(host.urls[0], host.identity_file, str(checkout)) as remote:
        # The host has no route beyond the stand-in subnet: no index, no internet.
        assert remote.run("ip route show default").strip() == ""
        assert remote.run("ip route").split()[0] == f"{host.subnet}.0/24"

        started = time.monotonic()
        first = fwbench(cache, "prepare", "--hosts", str(hosts_file))
        first_s = time.monotonic() - started
        assert first.returncode == 0, first.stderr
        assert first.stderr == ""  # no traceback, not even an ignored one
        print(f"first prepare: {first_s:.1f} s\n{first.stdout}")
        assert "wheels built here" in first.stdout
        assert (checkout / "requirements.lock").read_bytes() == (
            CHECKOUT / "requirements.lock"
        ).read_bytes()
        assert (checkout / "scripts" / "fwbench").stat().st_mode & 0o100
        assert (checkout / ".venv" / ".fwbench-lock").exists()

        # The prepared checkout's own fwbench answers on the host.
        imported = remote.run(f"{remote.python} -c 'import fwbench; print(fwbench.__file__)'")
        assert imported.strip() == str(checkout / "src" / "fwbench" / "__init__.py")
        facts = json.loads(remote.run(f"{remote.python} -m fwbench.harness.hostinfo"))
        assert facts["machine"]["python"].startswith("CPython 3.")

        started = time.monotonic()
        second = fwbench(cache, "prepare", "--hosts", str(hosts_file))
        second_s = time.monotonic() - started
        assert second.returncode == 0, second.stderr
        print(f"second prepare: {second_s:.1f} s\n{second.stdout}")
        assert "files up to date; venv up to date" in second.stdout
        assert second_s < first_s / 3

        # A file changed on the host is put back, and only it is copied.
        readme = checkout / "README.md"
        readme.write_text("edited on the host\n")
        third = fwbench(cache, "prepare", "--hosts", str(hosts_file))
        assert third.returncode == 0, third.stderr
        assert "copied 1 file (" in third.stdout and "venv up to date" in third.stdout
        assert readme.read_bytes() == (CHECKOUT / "README.md").read_bytes()
        assert json.loads((checkout / SHIPPED).read_text()) == sorted(tracked_files())

    # A real run whose service, wrk and probes run from the prepared checkout.
    output = tmp_path / "run.json"
    done = fwbench(
        cache, "run", "--hosts", str(hosts_file), "--frameworks", "flask",
        "--scenarios", "json", "--connections", "4", "--duration", "1", "--warmup", "0",
        "--repeats", "1", "--cold-starts", "0", "--ports", PORTS, "--output", str(output),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = Results.read(output)
    assert results.status == "complete"
    (point,) = results.points
    assert point.valid, point.problems
    assert str(checkout / ".venv" / "bin" / "python") in results.services[0].command
    assert processes_of(checkout) == []


@pytest.mark.slow
def test_nothing_outlives_a_prepare_killed_while_pip_installs(
    host: Hosts, cache: Path, checkout: Path, tmp_path: Path
) -> None:
    hosts_file = write_hosts_file(tmp_path / "hosts.toml", host, checkout)
    argv = [sys.executable, "-m", "fwbench", "prepare", "--hosts", str(hosts_file)]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    driver = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not any("pip" in process.info["cmdline"] for process in processes_of(checkout)):
            assert driver.poll() is None, driver.communicate()[1]
            assert time.monotonic() < deadline, "pip never started on the host"
            time.sleep(0.1)
        driver.kill()
    finally:
        driver.kill()
        driver.communicate()
    # The guard reads the end of its session and stops pip's whole group.
    deadline = time.monotonic() + GRACE_S + 10
    while processes_of(checkout) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of(checkout) == []
    # pip was stopped, not left to finish: ensure_venv writes its stamp last, and the
    # next prepare finishes the venv.
    assert not (checkout / ".venv" / ".fwbench-lock").exists()
    done = fwbench(cache, "prepare", "--hosts", str(hosts_file))
    assert done.returncode == 0, done.stderr
    assert "venv installed from the" in done.stdout


def test_an_unreachable_host_is_one_sentence(host: Hosts, cache: Path, tmp_path: Path) -> None:
    nobody = host.nobody
    hosts_file = write_hosts_file(tmp_path / "hosts.toml", host, tmp_path / "c", url=nobody)
    done = fwbench(cache, "prepare", "--hosts", str(hosts_file))
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: cannot reach {nobody} over SSH (")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@contextlib.contextmanager
def mounted_on_host(host: Hosts, directory: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted with ``options`` at ``directory`` as the stand-in host sees it (in
    its sshd's mount namespace, which SSH sessions inherit), unmounted on exit."""
    (sshd,) = [
        process
        for process in psutil.process_iter(["cmdline"])
        if "-D" in (process.info["cmdline"] or [])
        and f"sshd_config_{host.addresses[0]}" in " ".join(process.info["cmdline"])
    ]
    enter = ["nsenter", "-t", str(sshd.pid), "-m"]
    directory.mkdir()
    subprocess.run([*enter, "mount", "-t", "tmpfs", "-o", options, "fwbench-test", str(directory)],
                   check=True, timeout=10)  # fmt: skip
    try:
        yield directory
    finally:
        subprocess.run([*enter, "umount", str(directory)], check=True, timeout=10)


def test_a_read_only_checkout_is_one_sentence(host: Hosts, cache: Path, tmp_path: Path) -> None:
    with mounted_on_host(host, tmp_path / "ro", "ro,size=1m") as directory:
        checkout = directory / "fwbench"
        hosts_file = write_hosts_file(tmp_path / "hosts.toml", host, checkout)
        done = fwbench(cache, "prepare", "--hosts", str(hosts_file))
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"Error: {host.urls[0]} cannot create {checkout} (Read-only file system); "
    )
    assert done.stderr.count("\n") == 1


def test_a_checkout_without_space_is_one_sentence(host: Hosts, cache: Path, tmp_path: Path) -> None:
    with mounted_on_host(host, tmp_path / "small", "size=1m") as directory:
        checkout = directory / "fwbench"
        hosts_file = write_hosts_file(tmp_path / "hosts.toml", host, checkout)
        done = fwbench(cache, "prepare", "--hosts", str(hosts_file))
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {host.urls[0]} has 1 MB free in {checkout}, and ")
    assert done.stderr.count("\n") == 1


def test_wheels_built_here_fit_only_a_matching_python() -> None:
    here = PythonFacts(version="3.11.7", tag="cpython-311", platform="linux-x86_64",
                       libc="glibc 2.36")  # fmt: skip
    newer_libc = PythonFacts("3.11.9", "cpython-311", "linux-x86_64", "glibc 2.41")
    assert wheels_misfit(here, here) is None
    assert wheels_misfit(here, newer_libc) is None
    other = PythonFacts("3.12.3", "cpython-312", "linux-x86_64", "glibc 2.36")
    assert wheels_misfit(here, other) == (
        "its Python is 3.12.3 on linux-x86_64, this machine's 3.11.7 on linux-x86_64"
    )
    older = PythonFacts("3.11.2", "cpython-311", "linux-x86_64", "glibc 2.31")
    assert wheels_misfit(here, older) == "its C library is glibc 2.31, this machine's glibc 2.36"
    arm = PythonFacts("3.11.7", "cpython-311", "linux-aarch64", "glibc 2.36")
    assert wheels_misfit(here, arm) is not None


def test_the_state_script_needs_only_the_standard_library(tmp_path: Path) -> None:
    # -I -S: no site-packages, no environment: what a host has before its venv.
    checkout = tmp_path / "new" / "checkout"
    source = Path(checkout_state.__file__).read_text()
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", source, str(checkout)],
        input=json.dumps(["README.md"]), capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert checkout.is_dir() and report["error"] is None
    assert report["hashes"] == {"README.md": None} and report["lock"] is None
    (checkout / "README.md").write_text("hello\n")
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", source, str(checkout)],
        input=json.dumps(["README.md"]), capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout)["hashes"] == {
        "README.md": file_hash(str(checkout / "README.md"))
    }
