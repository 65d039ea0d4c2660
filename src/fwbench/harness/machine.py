"""Describe the machine and the software a run measures (:class:`~.results.Machine`)."""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Final

import psutil

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
