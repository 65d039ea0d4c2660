"""``fwbench claims``: test the article's claims, one experiment each, with verdicts."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from fwbench.cli._options import (
    database_option,
    hosts_option,
    interrupted_while_preparing,
    output_option,
    placement_options,
    refuse_cpus_with_hosts,
    refuse_database_with_hosts,
    report_option,
    surveyed_hosts,
)
from fwbench.experiments._hosts import HostsSite
from fwbench.experiments._measure import FULL_SWEEP, IO_LATENCY_MS, QUICK_SWEEP
from fwbench.experiments.cold_start import FULL_SPAWNS, QUICK_SPAWNS
from fwbench.experiments.context import HOSTS_PORTS, Context
from fwbench.experiments.model import Experiment, Plan
from fwbench.experiments.registry import EXPERIMENTS, select
from fwbench.experiments.render import print_record, print_start, print_summary
from fwbench.experiments.runner import ClaimsReport, ExperimentRecord, run_experiments
from fwbench.harness.documents import dump
from fwbench.harness.errors import FwbenchError
from fwbench.harness.hosts import HostsFile, read_hosts
from fwbench.harness.machine import chosen_placement, describe_machine, format_cpu_list
from fwbench.harness.process import exit_on_sigterm
from fwbench.harness.results import Placement, Results, RunConfig
from fwbench.harness.runconfig import build_config, default_output, preflight
from fwbench.report import write_report


@click.command()
@click.option(
    "--quick",
    is_flag=True,
    help="Short variant of every experiment (fewer configurations, 1-2 s points, smaller "
    "tables): under 10 minutes on 2 cores.",
)
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    help=f"Run only this experiment; repeat for several. One of: "
    f"{', '.join(e.name for e in EXPERIMENTS)}.",
)
@output_option("claims")
@database_option("SQLite files in a temporary directory")
@report_option
@click.option("--list", "list_only", is_flag=True, help="List the experiments and exit.")
@click.option(
    "--progress-only",
    is_flag=True,
    help="Print only the lines of progress, not the plans, evidence, verdicts and summary "
    "(they are in the results file); `claims --hosts` runs an experiment on the service host "
    "this way and prints its record itself.",
)
@placement_options
@hosts_option(
    "the services of the experiments that load them start on the first service host and "
    "wrk runs on every load host at once; the experiments that read the service's own "
    "processes run whole on the service host"
)
def claims(
    quick: bool,
    only: tuple[str, ...],
    output: Path | None,
    database: str | None,
    report: Path | None,
    list_only: bool,
    progress_only: bool,
    hosts_file: Path | None,
    service_cpus: tuple[int, ...] | None,
    load_cpus: tuple[int, ...] | None,
) -> None:
    """Turn each claim of the article into an experiment: measure, then print the evidence
    and a verdict (supported, contradicted, depends on configuration, or inconclusive here)
    computed from the numbers by a written rule. Results go to a JSON results file
    (section "claims")."""
    # Tables are wide: give them 120 columns when the output is not a terminal (a file,
    # a pipe), where rich would otherwise assume 80.
    width = None if sys.stdout.isatty() else 120
    console = Console(highlight=False, width=width, quiet=progress_only)
    progress = Console(highlight=False, width=width)
    try:
        experiments = select(only)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    if list_only:
        for experiment in experiments:
            console.print(f"[bold]{experiment.name}[/]: {experiment.title}")
            for claim in experiment.claims:
                console.print(f'  "{claim}"', style="italic")
        return
    exit_on_sigterm()
    output = output if output is not None else default_output("claims")
    try:
        if hosts_file is not None:
            refuse_database_with_hosts(database)
            refuse_cpus_with_hosts(service_cpus, load_cpus)
        hosts = read_hosts(hosts_file) if hosts_file is not None else None
        # This machine's CPUs; across hosts, the service host's replace them once
        # connected (_claims_on_hosts).
        placement = chosen_placement(service_cpus, load_cpus)
        config = _config(quick, database, placement)
        preflight(config, database, output)
        if hosts is None:
            notes: tuple[str, ...] = ()
            if not placement.trustworthy:
                notes = (
                    "only one CPU is usable, so the load and the service share it: the "
                    "numbers, and the verdicts drawn from them, are not trustworthy",
                )
            results = Results.start(
                ["fwbench", *sys.argv[1:]], describe_machine(), placement, config, None, notes
            )
    except KeyboardInterrupt:
        interrupted_while_preparing(console)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    run = _Claims(console, progress, experiments, quick, output, report)
    if hosts is not None:
        _claims_on_hosts(run, hosts)
        return
    run.announce(
        f"service on CPUs {list(placement.service_cpus)}, load on CPUs {list(placement.load_cpus)}",
        notes,
    )
    with tempfile.TemporaryDirectory(prefix="fwbench-claims-") as state:
        context = Context(
            quick=quick, state_dir=Path(state), database=database, placement=placement, say=run.say
        )
        run.execute(context, results)


def _config(quick: bool, database: str | None, placement: Placement) -> RunConfig:
    """The run options a claims results file records."""
    sweep = QUICK_SWEEP if quick else FULL_SWEEP
    return build_config(
        servers="all",
        scenarios=("io",),
        connections=sweep.connections,
        duration_s=sweep.duration_s,
        warmup_s=sweep.warmup_s,
        repeats=sweep.repeats,
        database=database,
        downstream_latency_ms=IO_LATENCY_MS,
        cold_starts=QUICK_SPAWNS if quick else FULL_SPAWNS,
        placement=placement,
    )


def _claims_on_hosts(run: _Claims, hosts: HostsFile) -> None:
    """``fwbench claims --hosts``: connect, survey the hosts and record the topology, then
    run the experiments with the services on the first service host and wrk on every load
    host, those that read the service's own processes whole on the service host."""
    service_url = hosts.service[0]
    with contextlib.ExitStack() as stack:
        remotes, layout = stack.enter_context(surveyed_hosts(run.console, hosts))
        placement = layout.placement
        whole = [e.name for e in run.experiments if e.whole_on_service_host]
        notes = [
            f"measured across hosts: the io sessions' services, the downstream and the cold "
            f"starts on {service_url}, wrk on {', '.join(hosts.load)} at once (latencies "
            f"merged from their histograms), the services' memory read on {service_url} by "
            "`fwbench probe`",
        ]
        if whole:
            they = "it reads" if len(whole) == 1 else "they read"
            notes.append(
                f"{', '.join(whole)} ran whole on {service_url} (`fwbench claims --only NAME` "
                f"there, its services on CPUs {format_cpu_list(placement.service_cpus)} and "
                f"its wrk on {format_cpu_list(layout.spare_cpus)} of that host): {they} the "
                "service's own processes, which the load hosts cannot"
            )
        if set(layout.spare_cpus) & set(placement.service_cpus):
            notes.append(
                f"{service_url} has one usable CPU, so the downstream and the probes share it "
                "with the service: the numbers, and the verdicts drawn from them, are not "
                "trustworthy"
            )
        results = Results.start(
            ["fwbench", *sys.argv[1:]],
            describe_machine(),
            placement,
            _config(run.quick, hosts.database, placement),
            None,
            tuple(notes),
        ).with_topology(layout.topology)
        run.announce(
            f"services on {service_url} CPUs {list(placement.service_cpus)}, wrk on "
            f"{', '.join(hosts.load)}",
            notes,
        )
        site = HostsSite(hosts, remotes, layout, ports=HOSTS_PORTS, say=run.say)
        state = stack.enter_context(tempfile.TemporaryDirectory(prefix="fwbench-claims-"))
        context = Context(
            quick=run.quick,
            state_dir=Path(state),
            database=hosts.database,
            placement=placement,
            say=run.say,
            hosts=site,
        )
        run.execute(context, results)


class _Claims:
    """One ``fwbench claims`` run: its experiments, progress and results file, saved after
    every experiment.

    Args:
        console: where the plans, evidence, verdicts and summary go.
        progress: where the lines of progress go.
        experiments: what to run, in order.
        quick: ``--quick`` was given.
        output: the results file.
        report: the HTML report to write at the end; None: none.
    """

    def __init__(
        self,
        console: Console,
        progress: Console,
        experiments: Sequence[Experiment[Any]],
        quick: bool,
        output: Path,
        report: Path | None,
    ) -> None:
        self.console = console
        self.progress = progress
        self.experiments = experiments
        self.quick = quick
        self.output = output
        self.report = report

    def say(self, line: str) -> None:
        """Print one line of progress, dimmed and indented."""
        self.progress.print(f"  {line}", style="dim")

    def announce(self, where: str, notes: Sequence[str]) -> None:
        """Print what runs where and the run's notes."""
        mode = "quick" if self.quick else "full"
        self.console.print(
            f"fwbench claims ({mode}): {len(self.experiments)} experiments; {where}; "
            f"results in {self.output}"
        )
        for note in notes:
            self.console.print(f"[bold yellow]note:[/] {note}")

    def execute(self, context: Context, results: Results) -> None:
        """Run the experiments in ``context`` (stopping what it started when they end),
        saving ``results`` after each; print the summary (and write the report) at the end.
        Exits 130 on Ctrl-C and 1 on a failure that stops the run, keeping what was
        measured."""
        console, output = self.console, self.output
        records: list[ExperimentRecord] = []
        started = time.monotonic()

        def save(status: str | None = None, error: str | None = None) -> None:
            so_far = ClaimsReport(self.quick, tuple(records), time.monotonic() - started)
            current = replace(results, services=tuple(context.services))
            current = current.with_section("claims", dump(so_far))
            if status is not None:
                current = current.finished(status, error)
            current.write(output)

        def on_start(experiment: Experiment[Any], plan: Plan) -> None:
            print_start(console, experiment.title, experiment.claims, experiment.setup, plan)

        def on_done(record: ExperimentRecord) -> None:
            records.append(record)
            print_record(console, record)
            save()

        try:
            with context:
                claims_report = run_experiments(
                    self.experiments, context, on_start=on_start, on_done=on_done
                )
        except KeyboardInterrupt:
            save("interrupted")
            console.print(
                f"[bold]Interrupted[/]; every process fwbench started is stopped, and the "
                f"{len(records)} experiments done are kept in {output}."
            )
            sys.exit(130)
        except FwbenchError as error:
            save("failed", str(error))
            raise click.ClickException(
                f"{error} (the {len(records)} experiments done are kept in {output})"
            ) from None
        save("complete")
        print_summary(console, claims_report)
        console.print(f"Results: {output}")
        if self.report is not None:
            for written in write_report(output, html=self.report):
                console.print(f"Report: {written}")
