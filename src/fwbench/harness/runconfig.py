"""``fwbench run``'s and ``fwbench claims``' options, resolved and checked before anything
starts: :func:`build_config` turns them into a :class:`~.results.RunConfig`, and
:func:`preflight` checks what could stop a run part-way (wrk, taskset, the database, the
output path), so a mistake costs one sentence, not a half-done run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from fwbench.harness.balancer import find_haproxy
from fwbench.harness.databases import database_url_for, redacted
from fwbench.harness.errors import InvalidOption, UnknownServer
from fwbench.harness.load import find_taskset, find_wrk
from fwbench.harness.results import Placement, RunConfig
from fwbench.harness.scenarios import DEFAULT_SCENARIOS, SCENARIOS
from fwbench.harness.servers import FRAMEWORKS, all_pairs, canonical_server, servers_for

#: wrk's ``--timeout`` in seconds: far above any latency a healthy point has, so a
#: timeout always means something broke.
TIMEOUT_S: Final = 10


def default_output(command: str, now: datetime | None = None) -> Path:
    """``results/fwbench-COMMAND-YYYYmmdd-HHMMSS.json`` under the current directory.

    Args:
        command: the fwbench command writing the file (``run``, ``claims``).
        now: the time stamped in the name; None (default) is now.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"fwbench-{command}-{stamp}.json"


def resolve_pairs(frameworks: Sequence[str], servers: str) -> tuple[tuple[str, str], ...]:
    """The framework/server pairs a ``--servers`` selection means.

    Args:
        frameworks: frameworks to measure, in order.
        servers: ``canonical`` (each framework's canonical server), ``all`` (every
            supported pair) or a comma-separated list of server names, applied to
            every framework that runs on them.

    Raises:
        UnknownServer: an unknown framework or server, or servers none of the
            frameworks runs on.
    """
    for framework in frameworks:
        servers_for(framework)  # raises UnknownServer with the valid names
    if servers == "canonical":
        return tuple((f, canonical_server(f)) for f in frameworks)
    if servers == "all":
        return tuple(pair for pair in all_pairs() if pair[0] in frameworks)
    wanted = [name.strip() for name in servers.split(",") if name.strip()]
    known = {server for _, server in all_pairs()}
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise UnknownServer(
            f"unknown server {', '.join(unknown) or repr(servers)}",
            f"use canonical, all, or a list of: {', '.join(sorted(known))}",
        )
    pairs = tuple((f, s) for f in frameworks for s in servers_for(f) if s in wanted)
    unused = [s for s in wanted if s not in {server for _, server in pairs}]
    if unused:
        raise UnknownServer(
            f"none of {', '.join(frameworks)} runs on {', '.join(unused)}",
            "see `fwbench serve --help` for the supported framework/server pairs",
        )
    return pairs


def build_config(
    *,
    frameworks: Sequence[str] = FRAMEWORKS,
    servers: str = "canonical",
    scenarios: Sequence[str] = DEFAULT_SCENARIOS,
    connections: Sequence[int] = (64,),
    duration_s: int = 5,
    warmup_s: int = 2,
    repeats: int = 3,
    workers: int | None = None,
    database: str | None = None,
    downstream_latency_ms: int = 10,
    cold_starts: int = 5,
    replicas: int = 1,
    placement: Placement,
) -> RunConfig:
    """Resolve ``fwbench run``'s options (defaults are its defaults) into a RunConfig.

    Args:
        frameworks: frameworks to measure.
        servers: ``canonical``, ``all`` or a comma-separated list of servers.
        scenarios: scenario names (:data:`~.scenarios.SCENARIOS`).
        connections: wrk connections; several make a sweep.
        duration_s: seconds per measured repeat.
        warmup_s: seconds of warm-up per point (0: none).
        repeats: measured repeats per point.
        workers: worker processes for every server; None: each server's documented rule.
        database: None for the embedded SQLite, or a ``postgresql://`` base URL.
        downstream_latency_ms: the downstream's delay for ``io`` (and ``/score``).
        cold_starts: spawns timed per pair (0: no cold start nor import time).
        replicas: instances of each configuration behind HAProxy (1: the service alone).
        placement: the CPU placement (wrk gets one thread per load CPU).

    Raises:
        InvalidOption: a value out of range or an unknown scenario.
        UnknownServer: an unknown framework or server.
    """
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios:
        raise InvalidOption(
            f"unknown scenario {', '.join(unknown) or '(none given)'}",
            f"use a list of: {', '.join(SCENARIOS)}",
        )
    limits = (
        ("--duration", duration_s, 1),
        ("--repeats", repeats, 1),
        ("--warmup", warmup_s, 0),
        ("--cold-starts", cold_starts, 0),
        ("--downstream-latency", downstream_latency_ms, 0),
        ("--replicas", replicas, 1),
    )
    for option, value, minimum in limits:
        if value < minimum:
            raise InvalidOption(
                f"{option} must be at least {minimum}, not {value}",
                f"pass {option} {minimum} or more",
            )
    threads = len(placement.load_cpus)
    if not connections or min(connections) < threads:
        raise InvalidOption(
            f"--connections must be at least {threads} (one per wrk thread), "
            f"not {min(connections, default=0)}",
            f"pass --connections {max(threads, 64)} or more",
        )
    if workers is not None and workers < 1:
        raise InvalidOption(
            f"--workers must be at least 1, not {workers}",
            "pass --workers 1 or more, or leave it out for each server's documented rule",
        )
    return RunConfig(
        pairs=resolve_pairs(frameworks, servers),
        servers=servers,
        scenarios=tuple(dict.fromkeys(scenarios)),
        connections=tuple(dict.fromkeys(connections)),
        duration_s=duration_s,
        warmup_s=warmup_s,
        repeats=repeats,
        workers=workers,
        database=None if database is None else redacted(database),
        downstream_latency_ms=downstream_latency_ms,
        cold_starts=cold_starts,
        wrk_threads=threads,
        timeout_s=TIMEOUT_S,
        replicas=replicas,
    )


def preflight(config: RunConfig, database: str | None, output: Path) -> None:
    """Check what would stop the run part-way, before anything starts.

    Args:
        config: the resolved options.
        database: the ``--database`` URL as given (with its password), or None.
        output: the results file to write.

    Raises:
        FwbenchError: wrk, taskset or (for replicas) haproxy missing, the database
            unreachable, the output not writable.
    """
    find_wrk()
    find_taskset()
    if config.replicas > 1:
        find_haproxy()
    if database is not None:
        for framework in config.frameworks:
            database_url_for(framework, database)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidOption(
            f"cannot create the directory of {output}: {error.strerror}",
            "pass a writable --output path",
        ) from None
    if not os.access(output.parent, os.W_OK) or output.is_dir():
        raise InvalidOption(f"cannot write {output}", "pass a writable --output file path")
