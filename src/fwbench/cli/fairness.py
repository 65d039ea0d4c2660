"""``fwbench fairness``: what the contract's extras cost each framework on the
TechEmpower endpoints."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from fwbench.cli._options import (
    comma_names,
    database_option,
    duration_option,
    frameworks_option,
    interrupted_while_preparing,
    output_option,
    placement_options,
    ports_option,
    repeats_option,
    report_option,
    servers_option,
    warmup_option,
    workers_option,
)
from fwbench.harness.display import format_duration, make_console
from fwbench.harness.errors import FwbenchError
from fwbench.harness.fairness import (
    TECHEMPOWER,
    VARIANTS,
    FairnessRun,
    build_fairness_config,
    print_fairness,
    print_fairness_plan,
    resolve_variants,
)
from fwbench.harness.machine import chosen_placement, describe_machine
from fwbench.harness.process import exit_on_sigterm
from fwbench.harness.runconfig import default_output, preflight
from fwbench.report import write_report


@click.command()
@frameworks_option
@servers_option
@click.option(
    "--extras",
    default=",".join(VARIANTS),
    show_default=True,
    callback=comma_names,
    help="Comma-separated variants: all-on, all-off, or an extra's name for the service "
    "without that extra. all-on, the reference of every cost, is always measured.",
)
@click.option(
    "--scenarios",
    default=",".join(TECHEMPOWER),
    show_default=True,
    callback=comma_names,
    help="Comma-separated TechEmpower scenarios.",
)
@click.option(
    "--connections",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="wrk connections.",
)
@duration_option(3)
@warmup_option(1, "a scenario's repeats, for each variant")
@repeats_option(3, "per variant, run round-robin across the variants")
@workers_option
@database_option("embedded SQLite")
@output_option("fairness")
@placement_options
@ports_option
@report_option
def fairness(
    frameworks: tuple[str, ...],
    servers: str,
    extras: tuple[str, ...],
    scenarios: tuple[str, ...],
    connections: int,
    duration: int,
    warmup: int,
    repeats: int,
    workers: int | None,
    database: str | None,
    output: Path | None,
    ports: range | None,
    report: Path | None,
    service_cpus: tuple[int, ...] | None,
    load_cpus: tuple[int, ...] | None,
) -> None:
    """Measure what each of the contract's extras (request id, metrics, audit, body-size
    check) costs each framework on the TechEmpower endpoints.

    One server per variant runs at once, pinned to the service CPUs; the repeats run
    round-robin across the variants, so drift hits them alike. A cost is only claimed
    when it clears the spread of the repeats. With no options: 3 pairs x 6 scenarios x
    6 variants x 3 repeats of 3 s, about 21 minutes on 2 cores.
    """
    exit_on_sigterm()
    console = make_console()
    try:
        placement = chosen_placement(service_cpus, load_cpus)
        variants = resolve_variants(extras)
        config = build_fairness_config(
            frameworks=frameworks,
            servers=servers,
            scenarios=scenarios,
            connections=connections,
            duration_s=duration,
            warmup_s=warmup,
            repeats=repeats,
            workers=workers,
            database=database,
            placement=placement,
        )
        output = output if output is not None else default_output("fairness")
        preflight(config, database, output)
        benchmark = FairnessRun(
            config,
            variants,
            placement,
            describe_machine(),
            output,
            command=["fwbench", *sys.argv[1:]],
            database=database,
            console=console,
            ports=ports,
        )
        print_fairness_plan(console, benchmark, output)
    except KeyboardInterrupt:
        interrupted_while_preparing(console)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    started = time.monotonic()
    try:
        document = benchmark.execute()
    except KeyboardInterrupt:
        console.print(
            "[bold]Interrupted[/]; every server fwbench started is stopped, and what was "
            f"measured is kept in {output}."
        )
        sys.exit(130)
    except FwbenchError as error:
        raise click.ClickException(f"{error} (what was measured is kept in {output})") from None
    print_fairness(console, document)
    console.print(f"Measured in {format_duration(time.monotonic() - started)}; results: {output}")
    if report is not None:
        for written in write_report(output, html=report):
            console.print(f"Report written to {written}")
