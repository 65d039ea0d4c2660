"""``fwbench run``: the article's table, measured on this machine."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from fwbench.cli._options import (
    comma_ints,
    comma_names,
    database_option,
    duration_option,
    frameworks_option,
    hosts_option,
    interrupted_while_preparing,
    output_option,
    placement_options,
    ports_option,
    refuse_cpus_with_hosts,
    repeats_option,
    report_option,
    servers_option,
    warmup_option,
    workers_option,
)
from fwbench.harness.calibrate import calibration_path
from fwbench.harness.display import make_console, print_plan, print_summary
from fwbench.harness.errors import FwbenchError
from fwbench.harness.hosts import HostsFile, read_hosts
from fwbench.harness.hosts_run import HostsRun
from fwbench.harness.machine import chosen_placement, describe_machine
from fwbench.harness.process import exit_on_sigterm
from fwbench.harness.results import RunConfig
from fwbench.harness.runconfig import build_config, default_output, preflight
from fwbench.harness.runner import Run
from fwbench.harness.scenarios import DEFAULT_SCENARIOS, SCENARIOS
from fwbench.harness.servers import configure
from fwbench.report import write_report


@click.command()
@frameworks_option
@servers_option
@click.option(
    "--scenarios",
    default=",".join(DEFAULT_SCENARIOS),
    show_default=True,
    callback=comma_names,
    help=f"Comma-separated scenarios, among: {', '.join(SCENARIOS)}.",
)
@click.option(
    "--connections",
    default="64",
    show_default=True,
    callback=comma_ints,
    help="wrk connections (closed-loop concurrency); a comma-separated list is a sweep.",
)
@duration_option(5)
@warmup_option(2, "each point's repeats")
@repeats_option(3, "median, min, max and CV are reported")
@workers_option
@database_option("embedded SQLite")
@click.option(
    "--downstream-latency",
    type=click.IntRange(min=0, max=10_000),
    default=10,
    show_default=True,
    help="Milliseconds the downstream waits in the io scenario (and /score in transactions).",
)
@output_option("run")
@click.option(
    "--cold-starts",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Spawns timed per framework/server pair for cold start (0 skips cold start and "
    "import time).",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Instances of each configuration, behind HAProxy when more than one (the service "
    "CPUs split among them): does N instances carry N times one?",
)
@placement_options
@hosts_option(
    "run the service and wrk on those hosts over SSH, one wrk per load host at once; "
    "memory, cold starts and import time are measured on the service host."
)
@ports_option
@report_option
def run(
    frameworks: tuple[str, ...],
    servers: str,
    scenarios: tuple[str, ...],
    connections: tuple[int, ...],
    duration: int,
    warmup: int,
    repeats: int,
    workers: int | None,
    database: str | None,
    downstream_latency: int,
    output: Path | None,
    cold_starts: int,
    replicas: int,
    hosts_file: Path | None,
    ports: range | None,
    report: Path | None,
    service_cpus: tuple[int, ...] | None,
    load_cpus: tuple[int, ...] | None,
) -> None:
    """Measure each framework on its server(s), print the article's table beside the
    measured one, and write every measurement to a JSON results file.

    With no options: FastAPI on uvicorn, Flask and Django on gunicorn (sync), scenarios
    io, json and db at 64 connections, 3 repeats of 5 s, plus memory, cold start and
    import time; about 4 minutes on 2 cores.
    """
    exit_on_sigterm()
    console = make_console()
    try:
        if hosts_file is not None:
            refuse_cpus_with_hosts(service_cpus, load_cpus)
        placement = chosen_placement(service_cpus, load_cpus)
        config = build_config(
            frameworks=frameworks,
            servers=servers,
            scenarios=scenarios,
            connections=connections,
            duration_s=duration,
            warmup_s=warmup,
            repeats=repeats,
            workers=workers,
            database=database,
            downstream_latency_ms=downstream_latency,
            cold_starts=cold_starts,
            replicas=replicas,
            placement=placement,
        )
        output = output if output is not None else default_output("run")
        preflight(config, database, output)
        if hosts_file is not None:
            _run_on_hosts(config, read_hosts(hosts_file), output, ports, report)
            return
        benchmark = Run(
            config,
            placement,
            describe_machine(),
            output,
            command=["fwbench", *sys.argv[1:]],
            database=database,
            console=console,
            calibration_file=calibration_path(),
            ports=ports,
        )
        cores = len(placement.service_cpus)
        print_plan(
            console,
            config=config,
            placement=placement,
            machine=benchmark.machine,
            servers=[configure(f, s, cores, workers=workers) for f, s in config.pairs],
            estimate_s=sum(step.seconds for step in benchmark.steps()),
            calibrate=benchmark.needs_calibration,
            output=output,
        )
    except KeyboardInterrupt:
        interrupted_while_preparing(console)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    started = time.monotonic()
    try:
        results = benchmark.execute()
    except KeyboardInterrupt:
        console.print(
            f"[bold]Interrupted[/]; every process fwbench started is stopped, and the "
            f"{len(benchmark.results.points)} points measured are kept in {output}."
        )
        sys.exit(130)
    except FwbenchError as error:
        raise click.ClickException(
            f"{error} (the {len(benchmark.results.points)} points measured are kept in {output})"
        ) from None
    print_summary(console, results, elapsed_s=time.monotonic() - started, output=output)
    if report is not None:
        for written in write_report(output, html=report):
            console.print(f"Report: {written}")


def _run_on_hosts(
    config: RunConfig, hosts: HostsFile, output: Path, ports: range | None, report: Path | None
) -> None:
    """``fwbench run --hosts``: measure on the hosts, then print and report as usual."""
    console = make_console()
    replicas = config.replicas
    service = ", ".join(hosts.service[:replicas])
    if replicas > 1:
        service = f"{replicas} replicas on {service} behind HAProxy on "
        service += hosts.balancer or hosts.service[0]
    console.print(
        f"fwbench run on hosts: service on {service}, wrk on {', '.join(hosts.load)}. "
        f"Results: {output}"
    )
    benchmark = HostsRun(
        config, hosts, output, command=["fwbench", *sys.argv[1:]], console=console, ports=ports
    )
    started = time.monotonic()
    try:
        results = benchmark.execute()
    except KeyboardInterrupt:
        console.print(
            f"[bold]Interrupted[/]; every process fwbench started on every host is stopped, "
            f"and the points measured are kept in {output}."
        )
        sys.exit(130)
    print_summary(console, results, elapsed_s=time.monotonic() - started, output=output)
    if report is not None:
        for written in write_report(output, html=report):
            console.print(f"Report: {written}")
