"""Prepare the hosts of a hosts file for ``--hosts``: this checkout's files copied to
each host's ``checkout``, and the README's set-up run there.

For every host at once, one thread each (``fwbench prepare --hosts FILE``), each
holding its host's checkout while it works on it (a lock there: hosts that share a file
system take turns on a checkout they share; docs/hosts.md says why):

1. one command on the host (:mod:`fwbench.harness.checkout_state`, standard library
   only) creates the checkout directory and reports the hash of every file this
   checkout tracks in git, the venv's lock, the wheels already there, the free space,
   the host's Python and the Debian tools it lacks;
2. the files that differ (from the working tree, so uncommitted edits go too) go over
   as one tar stream (:meth:`Remote.unpack`), and the files an earlier
   prepare shipped that this checkout no longer has are removed;
3. unless the host's venv already has this ``requirements.lock``, ``scripts/bootstrap.sh``'s
   ``ensure_venv`` runs there, the README's own set-up. When the host's Python can
   install the wheels this machine's Python installs (same version tag and platform, a
   C library at least as new), the lock's wheels are built here once per lock
   (``pip wheel``, which reuses pip's cache), when the first host needs them, for every
   host; the missing ones are shipped, and the host's pip installs from them alone
   (``--no-index --find-links``): the host needs no index and no internet. Otherwise
   the host's pip uses its own index, as the README's set-up does, and the result says
   why;
4. the host's venv must import fwbench from the shipped ``src``.

A second prepare of an up-to-date host is one command and a check.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fwbench.harness import checkout_state
from fwbench.harness.checkout_state import SHIPPED, WHEELS, file_hash, python_facts
from fwbench.harness.databases import default_state_dir
from fwbench.harness.display import count
from fwbench.harness.errors import FwbenchError
from fwbench.harness.guard import STARTED
from fwbench.harness.hosts import HostsFile
from fwbench.harness.remote import CHECKOUT, Remote

#: The pinned set-up every host gets.
LOCK: Final = CHECKOUT / "requirements.lock"

#: Seconds the README's set-up may take on a host (creating a venv, installing the lock).
SETUP_TIMEOUT_S: Final = 1800

#: Disk space a venv takes for each byte of the wheels it is installed from, rounded up:
#: unpacked wheels and compiled bytecode (4.3 measured with this project's lock: 627 MB
#: of venv from 147 MB of wheels).
VENV_PER_WHEEL_BYTE: Final = 5

#: The Debian tools every host needs: wrk (a load host's generator, and part of the
#: machine description) and taskset (pinning). haproxy is needed on the balancer only.
REQUIRED_TOOLS: Final = ("wrk", "taskset")

#: Seconds a host waits for its checkout while another prepare holds it (a host sharing
#: its file system, or another fwbench): that one's set-up, and its copies.
LOCK_WAIT_S: Final = SETUP_TIMEOUT_S + 600

#: How the host's shell finds the Python that reports the checkout's state and holds
#: it: the checkout's venv, else the first Python 3.11 or newer in scripts/bootstrap.sh's
#: order (``find_python``), which is the one ``ensure_venv`` makes the venv with. It
#: sets ``py``, empty when there is none.
_FIND_PYTHON: Final = """\
py=
if [ -x {venv_python} ]; then py={venv_python}; else
  for c in python3.13 python3.12 python3.11 python3; do
    if command -v $c >/dev/null 2>&1 &&
       $c -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      py=$c; break
    fi
  done
fi
"""

#: The state report: :mod:`checkout_state` run by that Python.
_REPORT_STATE: Final = (
    _FIND_PYTHON
    + """[ -n "$py" ] || {{ echo {no_python}; exit 0; }}
exec "$py" -c {source} {checkout}
"""
)

#: The checkout's holder, :func:`_hold` run by that Python. Its first line is the
#: guard's with its own process id, as ``Remote.start(..., guarded=False)`` expects of a
#: command that starts nothing. Without a Python it holds nothing: the state report then
#: says there is none, in one sentence.
_HOLD: Final = (
    "echo {started}$$\n"
    + _FIND_PYTHON
    + """[ -n "$py" ] || {{ echo unlocked; exit 0; }}
exec "$py" -c {source} {checkout}
"""
)

_NO_PYTHON: Final = "fwbench-prepare: no Python"


class PrepareError(FwbenchError):
    """A host cannot be prepared (no Python, no space, a directory it cannot write...)."""


@dataclass(frozen=True)
class PythonFacts:
    """What decides which wheels a Python can install (:func:`checkout_state.python_facts`).

    Attributes:
        version: e.g. ``3.11.7``.
        tag: the implementation and version, e.g. ``cpython-311``.
        platform: e.g. ``linux-x86_64``.
        libc: e.g. ``glibc 2.36``; "" when unknown.
    """

    version: str
    tag: str
    platform: str
    libc: str


def wheels_misfit(driver: PythonFacts, host: PythonFacts) -> str | None:
    """Why the wheels ``driver``'s Python installs may not install on ``host``'s; None
    when they do: the same tag and platform, and a C library of the same kind at least
    as new (a wheel built here links against this machine's)."""
    if (host.tag, host.platform) != (driver.tag, driver.platform):
        return (
            f"its Python is {host.version} on {host.platform}, this machine's "
            f"{driver.version} on {driver.platform}"
        )
    if driver.libc and not _at_least(host.libc, driver.libc):
        return f"its C library is {host.libc or 'unknown'}, this machine's {driver.libc}"
    return None


def _at_least(libc: str, wanted: str) -> bool:
    def parts(text: str) -> tuple[str, tuple[int, ...]]:
        name, _, version = text.partition(" ")
        numbers = tuple(int(n) for n in version.split(".") if n.isdigit())
        return name, numbers

    (name, version), (wanted_name, wanted_version) = parts(libc), parts(wanted)
    return name == wanted_name and version >= wanted_version


def tracked_files(root: Path = CHECKOUT) -> dict[str, str]:
    """Every file git tracks in ``root`` that exists in its working tree, with its hash
    (:func:`checkout_state.file_hash`), by path relative to ``root``.

    Raises:
        PrepareError: git cannot list them (not a git checkout, or no git).
    """
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z"],
            capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        raise PrepareError(
            f"`git ls-files` failed in {root}, and it names the files a host gets",
            "prepare hosts from a git checkout of fwbench",
        ) from None
    files = {}
    for name in listed.decode().split("\0"):
        digest = file_hash(str(root / name)) if name else None
        if digest is not None:  # deleted in the working tree: not shipped
            files[name] = digest
    return files


@dataclass(frozen=True)
class Wheelhouse:
    """The wheels of requirements.lock (and of the project's build backend) for this
    machine's Python.

    Attributes:
        directory: where they are.
        files: the wheels.
    """

    directory: Path
    files: tuple[Path, ...]

    @property
    def size(self) -> int:
        """Their bytes."""
        return sum(path.stat().st_size for path in self.files)


def collect_wheels(state_dir: Path | None = None) -> Wheelhouse:
    """Build or download the wheels of requirements.lock and of the build backend named
    in pyproject.toml with this Python's pip, once per lock: kept in
    ``STATE_DIR/wheels/TAG-PLATFORM/LOCKHASH`` (earlier locks' directories are removed).

    Args:
        state_dir: None (default) is fwbench's state directory (``~/.cache/fwbench``).

    Raises:
        PrepareError: pip failed (its last line of error output).
    """
    build = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["build-system"]["requires"]
    key = hashlib.sha256(LOCK.read_bytes() + json.dumps(build).encode()).hexdigest()[:16]
    facts = python_facts()
    base = (state_dir or default_state_dir()) / "wheels" / f"{facts['tag']}-{facts['platform']}"
    directory = base / key
    complete = directory / ".complete"
    if not complete.exists():
        shutil.rmtree(base, ignore_errors=True)  # earlier locks, or an interrupted build
        directory.mkdir(parents=True)
        command = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
        done = subprocess.run(
            [*command, "-w", str(directory), "-r", str(LOCK), *build],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            shutil.rmtree(directory, ignore_errors=True)
            lines = done.stderr.strip().splitlines()
            raise PrepareError(
                "pip could not collect the wheels of requirements.lock on this machine: "
                + (lines[-1] if lines else f"exit status {done.returncode}"),
                "check that this machine's pip reaches its index (the README's set-up)",
            )
        complete.touch()
    return Wheelhouse(directory, tuple(sorted(directory.glob("*.whl"))))


@dataclass(frozen=True)
class Prepared:
    """What preparing one host did.

    Attributes:
        url: the host.
        checkout: the checkout there.
        shipped: files copied (those that differed).
        shipped_bytes: their size.
        removed: files an earlier prepare shipped that this checkout no longer has.
        wheels_shipped: wheels copied for the host's pip.
        venv: what happened to the venv, a phrase (``up to date``, ``installed from ...``).
        missing: the Debian tools the host needs and lacks.
        seconds: how long it took.
        waited: how much of that it waited for another prepare of its checkout (a host
            sharing its file system, or another fwbench), in seconds.
    """

    url: str
    checkout: str
    shipped: int
    shipped_bytes: int
    removed: int
    wheels_shipped: int
    venv: str
    missing: tuple[str, ...]
    seconds: float
    waited: float


def prepare_host(
    remote: Remote,
    files: Mapping[str, str],
    wheels: Callable[[], Wheelhouse],
    *,
    balancer: bool = False,
    on_step: Callable[[str], None] = lambda step: None,
) -> Prepared:
    """Make ``remote``'s checkout this checkout, and its venv the pinned set-up.

    Args:
        remote: the host, its checkout where the hosts file says.
        files: this checkout's files and hashes (:func:`tracked_files`).
        wheels: the wheelhouse, called only when a host can install from it.
        balancer: the host runs HAProxy for ``--replicas`` (it should have haproxy).
        on_step: told what happens next, for a progress display.

    Raises:
        PrepareError: the checkout cannot be written, has too little space, no Python,
            another prepare held it too long, or its set-up failed (one sentence each).
        RemoteError: the host failed a command or the connection was lost.
    """
    started = time.monotonic()
    with _checkout_held(remote, on_step) as waited:
        return _prepare_held(remote, files, wheels, balancer, on_step, started, waited)


def _prepare_held(
    remote: Remote,
    files: Mapping[str, str],
    wheels: Callable[[], Wheelhouse],
    balancer: bool,
    on_step: Callable[[str], None],
    started: float,
    waited: float,
) -> Prepared:
    """:func:`prepare_host`'s work once the checkout is held, which began at ``started``
    (``time.monotonic()``) and waited ``waited`` seconds for it."""
    checkout = str(remote.checkout)
    on_step(f"comparing {checkout} with this checkout...")
    state = _host_state(remote, sorted(files))
    changed = sorted(path for path, digest in files.items() if state.hashes.get(path) != digest)
    stale = sorted(set(state.shipped) - set(files))
    current = state.lock == file_hash(str(LOCK), mode=False)
    misfit = None if current else wheels_misfit(PythonFacts(**python_facts()), state.python)
    if not current and misfit is None:
        on_step("collecting the wheels of requirements.lock on this machine, once for all hosts...")
    house = wheels() if not current and misfit is None else None
    new_wheels = [w for w in house.files if w.name not in state.wheels] if house else []
    shipped_bytes = sum((CHECKOUT / path).lstat().st_size for path in changed)
    needed = shipped_bytes + sum(w.stat().st_size for w in new_wheels)
    needed += VENV_PER_WHEEL_BYTE * house.size if house else 0
    if needed > state.free_bytes:
        raise PrepareError(
            f"{remote.url} has {_mb(state.free_bytes)} free in {checkout}, and preparing "
            f"it needs about {_mb(needed)}",
            "free some space there or name another checkout in the hosts file",
        )
    if changed or stale or set(state.shipped) != set(files):
        on_step(f"copying {count(len(changed), 'file')} to {checkout}...")
        listing = json.dumps(sorted(files)).encode()
        remote.unpack(
            checkout,
            [*((path, CHECKOUT / path) for path in changed), (SHIPPED, listing)],
        )
        _remove(remote, checkout, stale)
    if current:
        venv = "up to date"
    else:
        on_step(f"setting up {checkout}/.venv (scripts/bootstrap.sh)...")
        env: dict[str, str] = {}
        if house is not None:
            wheel_dir = f"{checkout}/{WHEELS}"
            remote.unpack(wheel_dir, [(w.name, w) for w in new_wheels])
            _remove(remote, wheel_dir, sorted(set(state.wheels) - {w.name for w in house.files}))
            # Only the shipped wheels: no index, and no pip configuration of the host's
            # that could add one.
            env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": wheel_dir, "PIP_CONFIG_FILE": os.devnull}
            venv = f"installed from the {len(house.files)} wheels built here"
        else:
            venv = f"installed by the host's pip from its index ({misfit})"
        # Under the guard, so that Ctrl-C or the death of fwbench stops pip on the host
        # too; the guard is run by the host's Python from the shipped src.
        setup = ["bash", "-c", 'source "$1/scripts/bootstrap.sh"; ensure_venv', "-", checkout]
        process = remote.start(
            ["env", "-u", "PYTHONPATH", *setup],
            {**env, "PYTHONPATH": f"{checkout}/src"},
            python=state.executable,
        )
        status, stdout, stderr = process.finish(SETUP_TIMEOUT_S)
        if status != 0:
            lines = (stderr or stdout).strip().splitlines()
            raise PrepareError(
                f"setting up {checkout}/.venv on {remote.url} failed: "
                + (lines[-1] if lines else f"exit status {status}"),
                "fix that on the host and rerun `fwbench prepare`",
            )
    _check_import(remote, checkout)
    needs = (*REQUIRED_TOOLS, *(("haproxy",) if balancer else ()))
    return Prepared(
        url=remote.url,
        checkout=checkout,
        shipped=len(changed),
        shipped_bytes=shipped_bytes,
        removed=len(stale),
        wheels_shipped=len(new_wheels),
        venv=venv,
        missing=tuple(tool for tool in needs if tool in state.missing),
        seconds=time.monotonic() - started,
        waited=waited,
    )


@dataclass(frozen=True)
class HostState:
    """A host's checkout as :mod:`checkout_state` reported it.

    Attributes:
        python: the Python that makes (or made) its venv.
        executable: that Python's path.
        hashes: the hash of each file asked about; None: missing.
        shipped: the files the last prepare shipped.
        lock: the hash of the lock its venv was made with; None: no venv.
        wheels: the wheels shipped there.
        free_bytes: free space in the checkout's file system.
        missing: the Debian tools (:data:`checkout_state.TOOLS`) it lacks.
    """

    python: PythonFacts
    executable: str
    hashes: Mapping[str, str | None]
    shipped: tuple[str, ...]
    lock: str | None
    wheels: tuple[str, ...]
    free_bytes: int
    missing: tuple[str, ...]


def _host_state(remote: Remote, paths: list[str]) -> HostState:
    """Run :mod:`checkout_state` on the host; its report.

    Raises:
        PrepareError: no Python 3.11 or newer on the host, or the checkout directory
            cannot be written.
    """
    checkout = str(remote.checkout)
    script = _REPORT_STATE.format(
        venv_python=shlex.quote(f"{checkout}/.venv/bin/python"),
        no_python=shlex.quote(_NO_PYTHON),
        source=shlex.quote(Path(checkout_state.__file__).read_text()),
        checkout=shlex.quote(checkout),
    )
    output = remote.run(f"sh -c {shlex.quote(script)}", input=json.dumps(paths)).strip()
    if output == _NO_PYTHON:
        raise PrepareError(
            f"{remote.url} has no Python 3.11 or newer",
            "install it there (e.g. 'apt-get install python3 python3-venv')",
        )
    report = json.loads(output)
    if report["error"] is not None:
        raise PrepareError(
            f"{remote.url} {report['error']}",
            "name a checkout there that fwbench's user may write (checkout in the hosts file)",
        )
    return HostState(
        python=PythonFacts(**report["python"]),
        executable=report["executable"],
        hashes=report["hashes"],
        shipped=tuple(report["shipped"]),
        lock=report["lock"],
        wheels=tuple(report["wheels"]),
        free_bytes=report["free_bytes"],
        missing=tuple(report["missing"]),
    )


def _remove(remote: Remote, directory: str, names: list[str]) -> None:
    """Remove ``names`` (relative paths) under ``directory`` on the host."""
    if names:
        remote.run(f"cd {shlex.quote(directory)} && rm -f -- {shlex.join(names)}")


def _check_import(remote: Remote, checkout: str) -> None:
    """Check that the host's venv imports fwbench from the checkout's ``src``.

    Raises:
        PrepareError: it imports another one (e.g. a venv copied from elsewhere).
    """
    python = shlex.quote(remote.python)
    found = remote.run(f"{python} -c 'import fwbench; print(fwbench.__file__)'").strip()
    if not found.startswith(f"{checkout}/src/"):
        raise PrepareError(
            f"{remote.url}'s {checkout}/.venv imports fwbench from {found}, not from "
            f"{checkout}/src",
            f"remove {checkout}/.venv there and rerun `fwbench prepare`",
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


@contextlib.contextmanager
def _checkout_held(remote: Remote, on_step: Callable[[str], None]) -> Iterator[float]:
    """Hold ``remote``'s checkout for this prepare alone during the ``with`` block
    (:func:`_hold` on the host); yields the seconds it waited for it.

    Hosts may share a file system (an NFS home, or the tests' stand-in hosts, which
    share this machine's), and then the checkout of each is the same directory: two
    hosts unpacking and installing into it at once would break it. Held, the second
    host waits, then finds the first one's work done, as when hosts were prepared one
    after the other. Two fwbench preparing one host take turns the same way.

    Raises:
        PrepareError: another prepare held the checkout for over :data:`LOCK_WAIT_S`.
        RemoteError: the holder did not start on the host.
    """
    checkout = str(remote.checkout)
    script = _HOLD.format(
        started=shlex.quote(STARTED),
        venv_python=shlex.quote(f"{checkout}/.venv/bin/python"),
        source=shlex.quote(inspect.getsource(_hold) + "\nimport sys\n_hold(sys.argv[1])\n"),
        checkout=shlex.quote(checkout),
    )
    started = time.monotonic()
    holder = remote.start(["sh", "-c", script], {}, guarded=False)
    try:
        answer = holder.read_line(timeout=30)
        waited = 0.0
        if answer == "waiting":
            on_step(
                f"waiting for another prepare of {checkout}, which this host shares "
                "(a shared file system) or another fwbench is preparing..."
            )
            answer = holder.read_line(timeout=LOCK_WAIT_S)
            waited = time.monotonic() - started
        if answer not in ("locked", "unlocked"):  # unlocked: the state report says why
            raise PrepareError(
                f"another `fwbench prepare` held {checkout} on {remote.url} for over "
                f"{LOCK_WAIT_S / 60:.0f} minutes ({checkout}/.fwbench/prepare.lock)",
                "wait for it to end (from this machine, another one, or a host sharing "
                "that file system), then rerun",
            )
        yield waited
    finally:
        holder.stop()


def _hold(checkout: str) -> None:
    """Run on the host by :data:`_HOLD`, its source sent as ``python -c``: it needs only
    the standard library and nothing else of this module. Takes an exclusive lock on
    ``CHECKOUT/.fwbench/prepare.lock`` (``lockf``: NFS locks it across machines) and
    keeps it until its standard input ends, when the driver closes the session or dies.
    Prints ``waiting`` while another process holds it, then ``locked``; ``unlocked``
    when the file cannot be made (the state report then says why, in one sentence).

    Args:
        checkout: the host's checkout.
    """
    import fcntl
    import os
    import select
    import sys
    from pathlib import Path

    def end_with_input(seconds: float) -> None:
        """Wait up to ``seconds`` for standard input; exit at its end."""
        if select.select([0], [], [], seconds)[0] and not os.read(0, 4096):
            sys.exit()

    directory = Path(checkout, ".fwbench")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = (directory / "prepare.lock").open("a")  # held until the process ends
    except OSError:
        print("unlocked", flush=True)
    else:
        said = False
        while True:
            try:
                fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if not said:
                    print("waiting", flush=True)
                    said = True
            # Polled rather than waited for, so that a driver gone meanwhile ends it.
            end_with_input(0.5)
        print("locked", flush=True)
    while True:
        end_with_input(3600)


@dataclass(frozen=True)
class NotPrepared:
    """A host that could not be prepared.

    Attributes:
        url: the host.
        error: what went wrong and what to do.
    """

    url: str
    error: FwbenchError

    @property
    def sentence(self) -> str:
        """The error, in one sentence that names the host."""
        text = str(self.error)
        return text if self.url in text else f"{self.url}: {text}"


class _Once:
    """:func:`collect_wheels`, run by the first host that needs the wheels while the
    others that need them wait: built once on this machine, shared by every host. (Not
    before starting the hosts: an up-to-date host, or one whose Python cannot install
    them, needs none, and building them costs about 20 s.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._house: Wheelhouse | None = None
        self._error: PrepareError | None = None

    def __call__(self) -> Wheelhouse:
        with self._lock:
            if self._house is None and self._error is None:
                try:
                    self._house = collect_wheels()
                except PrepareError as error:  # told to every host that needs them
                    self._error = error
        if self._error is not None:
            raise PrepareError(self._error.problem, self._error.action)
        assert self._house is not None
        return self._house


class _Connections:
    """The hosts' connections of one prepare, each opened and used by its host's thread.

    Closing them all (:meth:`close_all`, from the main thread when it is interrupted)
    stops what runs on every host, as the end of fwbench does: each guard reads the end
    of its session. Each thread's next use of its connection then fails at once.

    Args:
        hosts: the hosts file (its key and checkout).
    """

    def __init__(self, hosts: HostsFile) -> None:
        self._hosts = hosts
        self._lock = threading.Lock()
        self._open: list[Remote] = []
        self._closed = False

    @contextlib.contextmanager
    def open(self, url: str) -> Iterator[Remote]:
        """Connect to ``url`` for the ``with`` block.

        Raises:
            RemoteError: the host cannot be reached.
            PrepareError: :meth:`close_all` was called.
        """
        remote = Remote(url, self._hosts.identity_file, self._hosts.checkout)
        with self._lock:
            closed = self._closed
            if not closed:
                self._open.append(remote)
        try:
            if closed:
                raise PrepareError("preparing was interrupted", "rerun `fwbench prepare`")
            yield remote
        finally:
            with self._lock:
                if remote in self._open:
                    self._open.remove(remote)
            remote.close()

    def close_all(self) -> None:
        """Close every connection, all at once (each waits for its host's processes to
        stop, up to the guard's grace period); later ones close as they open."""
        with self._lock:
            self._closed = True
            remotes = list(self._open)
        closers = [threading.Thread(target=remote.close) for remote in remotes]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join()


def prepare_hosts(
    hosts: HostsFile,
    on_step: Callable[[str, str], None] = lambda url, step: None,
    on_done: Callable[[Prepared | NotPrepared], None] = lambda outcome: None,
) -> list[Prepared | NotPrepared]:
    """Prepare every host of ``hosts`` at once, one thread each (:func:`prepare_host`);
    a host that fails does not stop the others.

    Args:
        hosts: the hosts file; each host's checkout is its ``checkout``.
        on_step: told ``(url, what happens next on that host)``, for a progress display;
            called from the hosts' threads. Default: nothing.
        on_done: told each host's outcome as soon as it has one, from its thread.
            Default: nothing.

    Returns:
        Each host's outcome, in the order of ``hosts.hosts``.

    Raises:
        PrepareError: this checkout's files cannot be listed (before any host).
        KeyboardInterrupt: Ctrl-C, raised once every host's connection is closed, which
            stops what ran there; the hosts done before stay prepared.
    """
    files = tracked_files()
    wheels = _Once()
    balancer = hosts.balancer or hosts.service[0]
    connections = _Connections(hosts)

    def prepare_one(url: str) -> Prepared | NotPrepared:
        step = functools.partial(on_step, url)
        outcome: Prepared | NotPrepared
        try:
            step("connecting...")
            with connections.open(url) as remote:
                outcome = prepare_host(
                    remote, files, wheels, balancer=url == balancer, on_step=step
                )
        except FwbenchError as error:
            outcome = NotPrepared(url, error)
        on_done(outcome)
        return outcome

    # A thread per host: each waits on its host (the copy, the state report, pip) and
    # has its own connection, so the hosts' work overlaps instead of adding up.
    with ThreadPoolExecutor(len(hosts.hosts), thread_name_prefix="prepare") as pool:
        futures = [pool.submit(prepare_one, url) for url in hosts.hosts]
        try:
            wait(futures)
        except BaseException:  # Ctrl-C, or SIGTERM made into one: stop every host now
            connections.close_all()
            raise
    return [future.result() for future in futures]
