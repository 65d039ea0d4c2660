"""``fwbench claims``: test the article's claims, one experiment each, with verdicts."""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from fwbench.cli._options import (
    database_option,
    interrupted_while_preparing,
    output_option,
    report_option,
    unsupported_hosts_option,
)
from fwbench.experiments._measure import FULL_SWEEP, IO_LATENCY_MS, QUICK_SWEEP
from fwbench.experiments.cold_start import FULL_SPAWNS, QUICK_SPAWNS
from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan
from fwbench.experiments.registry import EXPERIMENTS, select
from fwbench.experiments.render import print_record, print_start, print_summary
from fwbench.experiments.runner import ClaimsReport, ExperimentRecord, run_experiments
from fwbench.harness.documents import dump
from fwbench.harness.errors import FwbenchError
from fwbench.harness.machine import default_placement, describe_machine
from fwbench.harness.process import exit_on_sigterm
from fwbench.harness.results import Results
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
@unsupported_hosts_option(
    "fwbench claims",
    "measure across hosts with `fwbench run --hosts FILE` or `fwbench model --hosts FILE`, "
    "or run `fwbench claims` on one machine without --hosts",
)
def claims(
    quick: bool,
    only: tuple[str, ...],
    output: Path | None,
    database: str | None,
    report: Path | None,
    list_only: bool,
) -> None:
    """Turn each claim of the article into an experiment: measure, then print the evidence
    and a verdict (supported, contradicted, depends on configuration, or inconclusive here)
    computed from the numbers by a written rule. Results go to a JSON results file
    (section "claims")."""
    # Tables are wide: give them 120 columns when the output is not a terminal (a file,
    # a pipe), where rich would otherwise assume 80.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
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
        placement = default_placement()
        sweep = QUICK_SWEEP if quick else FULL_SWEEP
        config = build_config(
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
        preflight(config, database, output)
        notes: tuple[str, ...] = ()
        if not placement.trustworthy:
            notes = (
                "only one CPU is usable, so the load and the service share it: the numbers, "
                "and the verdicts drawn from them, are not trustworthy",
            )
        results = Results.start(
            ["fwbench", *sys.argv[1:]], describe_machine(), placement, config, None, notes
        )
    except KeyboardInterrupt:
        interrupted_while_preparing(console)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    mode = "quick" if quick else "full"
    console.print(
        f"fwbench claims ({mode}): {len(experiments)} experiments; service on CPUs "
        f"{list(placement.service_cpus)}, load on CPUs {list(placement.load_cpus)}; "
        f"results in {output}"
    )
    for note in notes:
        console.print(f"[bold yellow]note:[/] {note}")
    records: list[ExperimentRecord] = []
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="fwbench-claims-") as state:
        context = Context(
            quick=quick,
            state_dir=Path(state),
            database=database,
            placement=placement,
            say=lambda line: console.print(f"  {line}", style="dim"),
        )

        def save(status: str | None = None, error: str | None = None) -> None:
            nonlocal results
            so_far = ClaimsReport(quick, tuple(records), time.monotonic() - started)
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
                    experiments, context, on_start=on_start, on_done=on_done
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
    if report is not None:
        for written in write_report(output, html=report):
            console.print(f"Report: {written}")
