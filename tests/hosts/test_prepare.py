"""``fwbench prepare --hosts`` on two stand-in hosts (tests/hosts/netns.py) with no route
out of their namespaces, prepared at once: this checkout copied to another path and set
up there from wheels built on the driver, then a real run from those checkouts; a second
prepare that only checks; a file edited on a host put back; hosts sharing a checkout
taking turns; nothing left on either host after the driver is killed; and one-sentence
errors, an unreachable host failing alone."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
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
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    with namespace_hosts(2, tmp_path_factory.mktemp("netns")) as made:
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


def write_hosts_file(
    path: Path, hosts: Hosts, checkout: Path, service: str | None = None, load: Sequence[str] = ()
) -> Path:
    """A hosts file with ``checkout`` as the checkout, ``service`` (default: the first
    stand-in host) as the service host and ``load`` (default: the service host) as the
    load hosts."""
    service = service or hosts.urls[0]
    listed = ", ".join(f'"{url}"' for url in (load or [service]))
    path.write_text(
        f'service = ["{service}"]\nload = [{listed}]\n'
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


def network_of(process: psutil.Process) -> str:
    """The network namespace ``process`` runs in: which stand-in host it is on."""
    with contextlib.suppress(OSError):
        return str(Path(f"/proc/{process.pid}/ns/net").readlink())
    return ""


def on_host(hosts: Hosts, index: int) -> list[str]:
    """The command prefix that runs a command in the mount namespace of stand-in host
    ``index``'s sshd, which its SSH sessions inherit."""
    (sshd,) = [
        process
        for process in psutil.process_iter(["cmdline"])
        if "-D" in (process.info["cmdline"] or [])
        and f"sshd_config_{hosts.addresses[index]}" in " ".join(process.info["cmdline"])
    ]
    return ["nsenter", "-t", str(sshd.pid), "-m"]


@contextlib.contextmanager
def checkouts_of_their_own(hosts: Hosts, checkout: Path, tmp_path: Path) -> Iterator[list[Path]]:
    """Give each stand-in host a directory of its own at ``checkout``, as separate
    machines have (they share this file system otherwise): a bind mount in each host's
    mount namespace. Yields where each host's checkout is seen from here; unmounted and
    removed on exit."""
    checkout.mkdir(parents=True)
    roots = [tmp_path / f"checkout-of-host-{i + 1}" for i in range(len(hosts.urls))]
    mounted = []
    try:
        for index, root in enumerate(roots):
            root.mkdir()
            mount = ["mount", "--bind", str(root), str(checkout)]
            subprocess.run([*on_host(hosts, index), *mount], check=True, timeout=10)
            mounted.append(index)
        yield roots
    finally:
        for index in mounted:
            umount = [*on_host(hosts, index), "umount", str(checkout)]
            subprocess.run(umount, check=True, timeout=10)
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)


def host_lines(output: str, hosts: Sequence[str]) -> list[str]:
    """The summary line of each of ``hosts`` in a prepare's output (not its progress
    lines, which say ``URL: ...``)."""
    lines = output.splitlines()
    return [next(line for line in lines if line.startswith(f"{url} /")) for url in hosts]


def seconds_of(line: str) -> float:
    """The time a host's summary line says its prepare took."""
    found = re.search(r"\(([0-9.]+) s[,)]", line)
    assert found is not None, line
    return float(found.group(1))


@pytest.mark.slow
# Two venvs installed at once on stand-in hosts that share this machine's CPUs, after
# the wheels are built: 145 s here, 289 s with other work on the machine.
@pytest.mark.timeout(600)
def test_prepare_sets_up_two_hosts_at_once_offline_and_they_run(
    hosts: Hosts, cache: Path, checkout: Path, tmp_path: Path
) -> None:
    assert checkout != CHECKOUT
    service, load = hosts.urls
    hosts_file = write_hosts_file(tmp_path / "hosts.toml", hosts, checkout, service, [load])
    with checkouts_of_their_own(hosts, checkout, tmp_path) as roots:
        for url in hosts.urls:
            with Remote(url, hosts.identity_file, str(checkout)) as remote:
                # No route beyond the stand-in subnet: no index, no internet.
                assert remote.run("ip route show default").strip() == ""
                assert remote.run("ip route").split()[0] == f"{hosts.subnet}.0/24"

        started = time.monotonic()
        first = fwbench(cache, "prepare", "--hosts", str(hosts_file))
        first_s = time.monotonic() - started
        assert first.returncode == 0, first.stderr
        assert first.stderr == ""  # no traceback, not even an ignored one
        print(f"first prepare: {first_s:.1f} s\n{first.stdout}")
        lines = host_lines(first.stdout, hosts.urls)
        assert all("venv installed from the" in line for line in lines), lines
        # At once: the command took less than the hosts' times added up.
        assert first_s < sum(seconds_of(line) for line in lines)
        for root in roots:
            assert (root / "requirements.lock").read_bytes() == (
                CHECKOUT / "requirements.lock"
            ).read_bytes()
            assert (root / "scripts" / "fwbench").stat().st_mode & 0o100
            assert (root / ".venv" / ".fwbench-lock").exists()
        # Each host's own checkout's fwbench answers there.
        for url in hosts.urls:
            with Remote(url, hosts.identity_file, str(checkout)) as remote:
                imported = remote.run(
                    f"{remote.python} -c 'import fwbench; print(fwbench.__file__)'"
                )
                assert imported.strip() == str(checkout / "src" / "fwbench" / "__init__.py")
                facts = json.loads(remote.run(f"{remote.python} -m fwbench.harness.hostinfo"))
                assert facts["machine"]["python"].startswith("CPython 3.")

        started = time.monotonic()
        second = fwbench(cache, "prepare", "--hosts", str(hosts_file))
        second_s = time.monotonic() - started
        assert second.returncode == 0, second.stderr
        print(f"second prepare: {second_s:.1f} s\n{second.stdout}")
        for line in host_lines(second.stdout, hosts.urls):
            assert "files up to date; venv up to date" in line
        assert second_s < first_s / 3

        # A file changed on the service host is put back, and only it is copied.
        readme = roots[0] / "README.md"
        readme.write_text("edited on the host\n")
        third = fwbench(cache, "prepare", "--hosts", str(hosts_file))
        assert third.returncode == 0, third.stderr
        edited, untouched = host_lines(third.stdout, hosts.urls)
        assert "copied 1 file (" in edited and "venv up to date" in edited
        assert "files up to date; venv up to date" in untouched
        assert readme.read_bytes() == (CHECKOUT / "README.md").read_bytes()
        assert json.loads((roots[0] / SHIPPED).read_text()) == sorted(tracked_files())

        # A real run: the service and its probes from the service host's prepared
        # checkout, wrk from the load host's.
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
@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_nothing_outlives_a_prepare_stopped_while_pip_installs_on_two_hosts(
    hosts: Hosts, cache: Path, checkout: Path, tmp_path: Path, kill: signal.Signals
) -> None:
    service, load = hosts.urls
    hosts_file = write_hosts_file(tmp_path / "hosts.toml", hosts, checkout, service, [load])
    with checkouts_of_their_own(hosts, checkout, tmp_path) as roots:
        argv = [sys.executable, "-m", "fwbench", "prepare", "--hosts", str(hosts_file)]
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        driver = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 300
            while True:  # until pip runs on both hosts
                pips = [p for p in processes_of(checkout) if "pip" in p.info["cmdline"]]
                if len({network_of(pip) for pip in pips} - {""}) == 2:
                    break
                assert driver.poll() is None, driver.communicate()[1]
                assert time.monotonic() < deadline, "pip never ran on both hosts at once"
                time.sleep(0.1)
            driver.send_signal(kill)
            stdout, stderr = driver.communicate(timeout=GRACE_S + 30)
        finally:
            driver.kill()
            driver.communicate()
        if kill == signal.SIGTERM:
            # Made into Ctrl-C: every host's connection closed, and the command says so.
            assert driver.returncode == 130, stderr
            assert b"Interrupted; the next `fwbench prepare` finishes every host." in stdout
        # Each guard reads the end of its session and stops pip's whole group.
        deadline = time.monotonic() + GRACE_S + 10
        while processes_of(checkout) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_of(checkout) == []
        # pip was stopped, not left to finish: ensure_venv writes its stamp last.
        for root in roots:
            assert not (root / ".venv" / ".fwbench-lock").exists()
        if kill == signal.SIGKILL:  # the next prepare finishes both venvs
            done = fwbench(cache, "prepare", "--hosts", str(hosts_file))
            assert done.returncode == 0, done.stderr
            lines = host_lines(done.stdout, hosts.urls)
            assert all("venv installed from the" in line for line in lines), lines


@pytest.mark.slow
def test_an_unreachable_host_fails_alone_and_hosts_sharing_a_checkout_take_turns(
    hosts: Hosts, cache: Path, checkout: Path, tmp_path: Path
) -> None:
    # The two stand-in hosts share this file system, so their checkouts are one
    # directory (as an NFS home would be): one prepares it while the other waits, then
    # finds it done. The third host does not answer.
    service, load = hosts.urls
    nobody = hosts.nobody
    hosts_file = write_hosts_file(tmp_path / "hosts.toml", hosts, checkout, service, [load, nobody])
    done = fwbench(cache, "prepare", "--hosts", str(hosts_file))
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: cannot reach {nobody} over SSH (")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    lines = host_lines(done.stdout, hosts.urls)
    installed = [line for line in lines if "venv installed from the" in line]
    waited = [line for line in lines if "files up to date; venv up to date" in line]
    assert len(installed) == len(waited) == 1, lines
    assert "s of it waiting for another prepare of this checkout)" in waited[0]
    assert not any(line.startswith(f"{nobody} /") for line in done.stdout.splitlines())
    assert (checkout / ".venv" / ".fwbench-lock").exists()
    for url in hosts.urls:
        with Remote(url, hosts.identity_file, str(checkout)) as remote:
            remote.check_ready()
    assert processes_of(checkout) == []


@contextlib.contextmanager
def mounted_on_host(hosts: Hosts, directory: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted with ``options`` at ``directory`` as the first stand-in host sees
    it (in its sshd's mount namespace, which SSH sessions inherit), unmounted on exit."""
    enter = on_host(hosts, 0)
    directory.mkdir()
    subprocess.run([*enter, "mount", "-t", "tmpfs", "-o", options, "fwbench-test", str(directory)],
                   check=True, timeout=10)  # fmt: skip
    try:
        yield directory
    finally:
        subprocess.run([*enter, "umount", str(directory)], check=True, timeout=10)


def test_a_read_only_checkout_is_one_sentence(hosts: Hosts, cache: Path, tmp_path: Path) -> None:
    with mounted_on_host(hosts, tmp_path / "ro", "ro,size=1m") as directory:
        checkout = directory / "fwbench"
        hosts_file = write_hosts_file(tmp_path / "hosts.toml", hosts, checkout)
        done = fwbench(cache, "prepare", "--hosts", str(hosts_file))
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"Error: {hosts.urls[0]} cannot create {checkout} (Read-only file system); "
    )
    assert done.stderr.count("\n") == 1


def test_a_checkout_without_space_is_one_sentence(
    hosts: Hosts, cache: Path, tmp_path: Path
) -> None:
    with mounted_on_host(hosts, tmp_path / "small", "size=1m") as directory:
        checkout = directory / "fwbench"
        hosts_file = write_hosts_file(tmp_path / "hosts.toml", hosts, checkout)
        done = fwbench(cache, "prepare", "--hosts", str(hosts_file))
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {hosts.urls[0]} has 1 MB free in {checkout}, and ")
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
