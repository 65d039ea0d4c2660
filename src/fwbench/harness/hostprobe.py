"""``fwbench probe``: the measurements beside the load, taken on the host that runs the
service and printed as JSON lines, for ``fwbench run --hosts`` to read over SSH
(:mod:`fwbench.harness.remote_probes`, docs/hosts.md). The measurement code is the one a
local ``fwbench run`` uses (:mod:`fwbench.harness.probes`).

The driver runs it as ``python -m fwbench.harness.hostprobe ...`` (the same commands as
``fwbench probe ...``): it imports only what it measures with, so it starts in a fraction
of the time the whole command line takes to import, and the memory probe's first sample
comes before the warm-up ends.

* ``fwbench probe memory --pid PID``: one line per sample of the memory of PID's process
  tree, ``{"memory": {"PID": ["name", rss, uss, pss], ...}}``, until the tree is gone or
  the probe is stopped;
* ``fwbench probe start --framework F --server S``: cold starts, then import time, one
  line each: ``{"cold_start": {...}}`` and ``{"import_time": {...}}`` as the results file
  records them;
* ``fwbench probe cpu --pid PID --cpus C``: for each line read on standard input, one line
  ``{"cpu": [at_s, tree_s, busy_s]}`` with the CPU-time counters of PID's tree and of the
  CPUs C (:mod:`fwbench.harness.cputime`), for ``fwbench model --hosts``; it ends at the
  end of its input.
"""

from __future__ import annotations

import json
import os
import sys
import time

import click

from fwbench.harness.cputime import read_counters
from fwbench.harness.databases import database_url_for
from fwbench.harness.documents import dump
from fwbench.harness.errors import FwbenchError
from fwbench.harness.guard import STARTED
from fwbench.harness.probes import (
    MEMORY_INTERVAL_S,
    MemorySampler,
    PidTree,
    TreeSample,
    measure_cold_starts,
    measure_import_time,
)
from fwbench.harness.process import PortRotation, exit_on_sigterm, service_env
from fwbench.harness.servers import configure


def _ports(ctx: click.Context, param: click.Parameter, value: str | None) -> range | None:
    """``"18600-18699"`` -> ``range(18600, 18700)``; None stays None."""
    if value is None:
        return None
    start, _, end = value.partition("-")
    if not (start.isdigit() and end.isdigit() and 1024 <= int(start) <= int(end) <= 65535):
        raise click.BadParameter(f"{value!r} is not a range of ports like 18600-18699")
    return range(int(start), int(end) + 1)


def _cpus(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    """``"0,2"`` -> ``(0, 2)``; None stays None."""
    if value is None:
        return None
    try:
        cpus = tuple(sorted({int(item) for item in value.split(",") if item.strip()}))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of CPUs") from None
    if not cpus or min(cpus) < 0:
        raise click.BadParameter(f"{value!r} must list CPU numbers of 0 or more")
    return cpus


@click.group()
def probe() -> None:
    """Measure beside a service on the host that runs it, printing JSON lines (what
    `fwbench run --hosts` runs on the service host over SSH)."""


@probe.command()
@click.option("--pid", type=click.IntRange(min=1), required=True, help="The root process.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.01),
    default=MEMORY_INTERVAL_S,
    show_default=True,
    help="Seconds between samples.",
)
def memory(pid: int, interval: float) -> None:
    """Print the RSS, USS and PSS of every process of PID's tree, one JSON line per
    sample, until the tree is gone (or Ctrl-C, SIGTERM)."""
    exit_on_sigterm()
    tree = PidTree(pid)
    if not tree.processes():
        raise click.ClickException(f"no process {pid} to measure")

    def emit(sample: TreeSample) -> None:
        line = {str(p): [name, use.rss, use.uss, use.pss] for p, (name, use) in sample.items()}
        try:
            print(json.dumps({"memory": line}), flush=True)
        except BrokenPipeError:
            # Nobody reads the samples any more (the sampling thread cannot end the
            # command by raising): end at once, quietly.
            os._exit(0)

    try:
        with MemorySampler(tree, interval_s=interval, on_sample=emit):
            while tree.processes():
                time.sleep(interval)
    except KeyboardInterrupt:
        sys.exit(0)  # stopped, as fwbench stops it: what was printed is the measurement


@probe.command()
@click.option("--framework", required=True, help="fastapi, flask or django.")
@click.option("--server", required=True, help="The server, as `fwbench run --servers` names it.")
@click.option(
    "--count", type=click.IntRange(min=1), default=5, show_default=True, help="Spawns timed."
)
@click.option(
    "--cpus",
    required=True,
    callback=_cpus,
    help="Comma-separated CPUs the service is pinned to (it is sized for their count).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: the server's documented rule].",
)
@click.option(
    "--database",
    metavar="URL",
    default=None,
    help="Base database URL, already prepared [default: embedded SQLite in fwbench's "
    "state directory].",
)
@click.option("--downstream-url", default=None, help="The downstream the service calls.")
@click.option(
    "--ports",
    default=None,
    callback=_ports,
    help="TCP port range START-END for the spawns [default: free ports chosen by the OS].",
)
def start(
    framework: str,
    server: str,
    count: int,
    cpus: tuple[int, ...],
    workers: int | None,
    database: str | None,
    downstream_url: str | None,
    ports: range | None,
) -> None:
    """Time COUNT cold starts of a service whose database is already prepared (as
    `fwbench run --cold-starts` does), then its import time; print each as a JSON line."""
    exit_on_sigterm()
    try:
        config = configure(framework, server, len(cpus), workers=workers)
        cold = measure_cold_starts(
            framework,
            config.server,
            count=count,
            port=PortRotation(ports),
            cpus=cpus,
            workers=workers,
            database_url=database,
            downstream_url=downstream_url,
        )
        print(json.dumps({"cold_start": dump(cold)}), flush=True)
        # The environment of the service, as a local run imports it (no metrics directory:
        # a single import needs no shared metrics).
        env = {
            **os.environ,
            **service_env(config, database_url_for(framework, database), downstream_url),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        imported = measure_import_time(framework, config.app.partition(":")[0], env, cpus=cpus)
        print(json.dumps({"import_time": dump(imported)}), flush=True)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None


@probe.command()
@click.option("--pid", type=click.IntRange(min=1), required=True, help="The root process.")
@click.option(
    "--cpus",
    required=True,
    callback=_cpus,
    help="Comma-separated CPUs the service is pinned to, whose busy time is read.",
)
def cpu(pid: int, cpus: tuple[int, ...]) -> None:
    """Each time a line arrives on standard input, print the CPU time of PID's process
    tree and the busy time of CPUS as one JSON line {"cpu": [at_s, tree_s, busy_s]}
    (at_s: this host's monotonic clock); end at the end of the input.

    It first prints the guard's line with its own process id: it starts nothing and ends
    with its input, so it is its own guard (fwbench runs it over SSH without one, keeping
    the session's input to ask it)."""
    exit_on_sigterm()
    tree = PidTree(pid)
    if not tree.processes():
        raise click.ClickException(f"no process {pid} to measure")
    print(f"{STARTED}{os.getpid()}", flush=True)
    try:
        for _ in sys.stdin:
            reading = read_counters(tree, cpus)
            print(json.dumps({"cpu": [reading.at_s, reading.tree_s, reading.busy_s]}), flush=True)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(0)  # stopped, or nobody reads any more: nothing left to answer


if __name__ == "__main__":
    probe()
