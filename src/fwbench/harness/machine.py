"""Describe the machine and the software a run measures (:class:`~.results.Machine`)."""

from __future__ import annotations

import os
import platform
import re
import socket
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Final

import psutil

from fwbench.harness.errors import InvalidOption
from fwbench.harness.load import wrk_version
from fwbench.harness.results import Machine, Placement

#: Distributions whose versions change what is measured: frameworks, servers, drivers,
#: the libraries the implementations are built on, and fwbench's own measuring tools.
PACKAGES: Final[tuple[str, ...]] = (
    "fwbench",
    "fastapi",
    "starlette",
    "pydantic",
    "Flask",
    "APIFlask",
    "Werkzeug",
    "Django",
    "djangorestframework",
    "drf-spectacular",
    "django-extensions",
    "uvicorn",
    "uvloop",
    "httptools",
    "granian",
    "gunicorn",
    "gevent",
    "SQLAlchemy",
    "Flask-SQLAlchemy",
    "asyncpg",
    "aiosqlite",
    "psycopg",
    "psycopg-pool",
    "httpx",
    "urllib3",
    "orjson",
    "Jinja2",
    "prometheus-client",
    "psutil",
    "scipy",
)


#: The highest CPU number Linux can have (``NR_CPUS`` is at most 8192): a bound that keeps
#: a mistyped range from making a huge set.
_LAST_CPU: Final = 8191


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo``, else what :mod:`platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Processor", "cpu model"):
                return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed version of each distribution in ``names`` (default :data:`PACKAGES`);
    ``"not installed"`` for the missing ones."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe_machine() -> Machine:
    """The machine this process runs on, with software versions.

    Raises:
        MissingTool: wrk is not installed (its version is part of the description).
    """
    return Machine(
        hostname=socket.gethostname(),
        cpu_model=cpu_model(),
        logical_cpus=os.cpu_count() or 1,
        usable_cpus=len(os.sched_getaffinity(0)),
        memory_bytes=psutil.virtual_memory().total,
        os=platform.platform(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        wrk=wrk_version(),
        packages=package_versions(),
    )


def default_placement(cpus: Sequence[int] | None = None) -> Placement:
    """Split the usable CPUs: the upper half (at least one) for the service, the rest
    for wrk, the downstream and fwbench (on 2 CPUs: service on CPU 1, load on CPU 0).
    With one CPU both share it, which :attr:`Placement.trustworthy` reports.

    Args:
        cpus: the CPUs to split; None (default): those this process may run on.
    """
    usable = sorted(cpus if cpus is not None else os.sched_getaffinity(0))
    if len(usable) == 1:
        return Placement((usable[0],), (usable[0],))
    half = len(usable) // 2
    return Placement(tuple(usable[-half:]), tuple(usable[:-half]))


def chosen_placement(
    service: Sequence[int] | None,
    load: Sequence[int] | None,
    usable: Sequence[int] | None = None,
) -> Placement:
    """The placement ``--service-cpus`` and ``--load-cpus`` ask for: a side left out gets
    the usable CPUs the other does not name; both left out, :func:`default_placement`.

    Args:
        service: CPUs of the service; None: the rest.
        load: CPUs of wrk, the downstream and fwbench's probes; None: the rest.
        usable: the CPUs fwbench may use; None (default): those this process may run on.

    Raises:
        InvalidOption: a CPU that is not usable, a CPU named by both, or a side left with
            no CPU.
    """
    cpus = sorted(usable if usable is not None else os.sched_getaffinity(0))
    if service is None and load is None:
        return default_placement(cpus)
    named = {"--service-cpus": tuple(service or ()), "--load-cpus": tuple(load or ())}
    for option, chosen in named.items():
        missing = sorted(set(chosen) - set(cpus))
        if missing:
            raise InvalidOption(
                f"{option} names CPU {format_cpu_list(missing)}, which fwbench may not use here",
                f"name CPUs among {format_cpu_list(cpus)}",
            )
    shared = set(named["--service-cpus"]) & set(named["--load-cpus"])
    if shared:
        raise InvalidOption(
            f"--service-cpus and --load-cpus both name CPU {format_cpu_list(shared)}",
            "give the service and the load different CPUs",
        )
    if service is None:
        service = tuple(c for c in cpus if c not in named["--load-cpus"])
    if load is None:
        load = tuple(c for c in cpus if c not in service)
    if not service or not load:
        side = "--service-cpus" if not load else "--load-cpus"
        raise InvalidOption(
            f"{side} takes every CPU fwbench may use here ({format_cpu_list(cpus)}), leaving "
            "none for the other side",
            f"name fewer CPUs in {side}",
        )
    return Placement(tuple(service), tuple(load))


def parse_cpu_list(text: str) -> tuple[int, ...]:
    """The CPUs of a list in taskset's ``--cpu-list`` format: ``"0"``, ``"0,2"``,
    ``"0-3"``, ``"0-3,6"`` (a range includes both ends; spaces around items are allowed).

    Args:
        text: the list as written.

    Returns:
        The distinct CPUs, ascending.

    Raises:
        ValueError: not such a list (one sentence saying why).
    """
    cpus: set[int] = set()
    for item in text.split(","):
        match = re.fullmatch(r"\s*(\d+)(?:-(\d+))?\s*", item, re.ASCII)
        if match is None:
            raise ValueError(f"{text!r} is not a CPU list; write it like 0 or 0,2 or 0-3,6")
        first = int(match[1])
        last = int(match[2]) if match[2] is not None else first
        if last > _LAST_CPU:
            raise ValueError(f"{text!r} names CPU {last}, beyond Linux's last ({_LAST_CPU})")
        if last < first:
            raise ValueError(
                f"{text!r} has a range going down ({first}-{last}); write {last}-{first}"
            )
        cpus.update(range(first, last + 1))
    return tuple(sorted(cpus))


def format_cpu_list(cpus: Iterable[int]) -> str:
    """CPUs in taskset's list format with runs as ranges, ``(0, 1, 2, 3, 6)`` ->
    ``"0-3,6"``: what :func:`parse_cpu_list` reads, short for a host's many CPUs."""
    runs: list[list[int]] = []
    for cpu in sorted(set(cpus)):
        if runs and cpu == runs[-1][-1] + 1:
            runs[-1].append(cpu)
        else:
            runs.append([cpu])
    return ",".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)
