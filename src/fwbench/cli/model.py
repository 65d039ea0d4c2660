"""``fwbench model``: measure the sweep the performance model needs, fit it, validate it
on points it was not fitted on, and store it; or predict one configuration with it."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from fwbench.advice.sources import find_model
from fwbench.cli._options import (
    comma_names,
    database_option,
    interrupted_while_preparing,
    output_option,
    unsupported_hosts_option,
)
from fwbench.experiments.context import Context
from fwbench.harness.errors import FwbenchError, InvalidOption
from fwbench.harness.machine import default_placement, describe_machine
from fwbench.harness.process import exit_on_sigterm
from fwbench.harness.results import Machine, Results
from fwbench.harness.runconfig import build_config, default_output, preflight
from fwbench.harness.servers import FRAMEWORKS, SERVERS
from fwbench.model import (
    FULL_PLAN,
    QUICK_PLAN,
    SATURATED_CONNECTIONS,
    Measured,
    ModelDocument,
    Target,
    choose,
    fitted,
    measure,
    parse_query,
    predict,
    print_document,
    print_prediction,
    read_model_file,
    save_document,
    targets,
)

#: TCP ports of ``fwbench model``'s services (away from claims' and serve's).
PORTS = range(18900, 19000)


def _predict(console: Console, text: str, model_file: Path | None) -> None:
    query = parse_query(text)
    # The same model `fwbench advise` would use: --model, the newest of results/, or the
    # shipped reference.
    source = find_model(model_file)
    if source.document is None:
        raise InvalidOption(
            "there is no model file to predict with", "run `fwbench model` first or pass --model"
        )
    model = choose(source.document, query.pair, str(model_file or "the model found"))
    print_prediction(console, predict(model, query), source.notice)


def _machine_line(machine: Machine) -> str:
    return (
        f"{machine.cpu_model}, {machine.usable_cpus} usable CPUs, "
        f"{machine.memory_bytes / 2**30:.1f} GiB, {machine.os}, {machine.python}"
    )


@click.command()
@click.option("--quick", is_flag=True, help="2 s points, fewer pairs and scenarios: a few minutes.")
@click.option(
    "--frameworks",
    callback=comma_names,
    default=",".join(FRAMEWORKS),
    show_default=True,
    help="Comma-separated frameworks to model.",
)
@click.option(
    "--servers",
    default="all",
    show_default=True,
    help=f"Comma-separated servers to model, or all: {', '.join(SERVERS)}.",
)
@output_option("model")
@database_option("SQLite files in a temporary directory")
@click.option(
    "--predict",
    "query",
    metavar="QUERY",
    help='Predict one configuration instead of measuring, e.g. "flask/gunicorn-gthread '
    'workers=5 threads=16 cores=2 latency=80ms rps=400" (keys: scenario, workers, threads, '
    "cores, latency, connections or rps).",
)
@click.option(
    "--model",
    "model_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Model file for --predict [default: the newest results/fwbench-model-*.json, "
    "else the shipped reference].",
)
@click.option(
    "--refit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fit again from the raw points stored in this model file (no measuring), rewrite "
    "it and print it.",
)
@unsupported_hosts_option(
    "fwbench model",
    "fit the model on one machine without --hosts (on the service host itself, to model "
    "that machine)",
)
def model(
    quick: bool,
    frameworks: tuple[str, ...],
    servers: str,
    output: Path | None,
    database: str | None,
    query: str | None,
    model_file: Path | None,
    refit: Path | None,
) -> None:
    """Fit a performance model of every framework/server pair (slots, CPU cost per
    request, memory, latency growth, start-up) from a bounded sweep, validate it on
    points it was not fitted on, and store it with its raw points."""
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    try:
        if query is not None:
            _predict(console, query, model_file)
            return
        if refit is not None:
            stored, document = read_model_file(refit)
            when = datetime.now(UTC).isoformat(timespec="seconds")
            note = f"fitted again from the stored points by `fwbench model --refit` at {when}"
            again = fitted(
                document.model_copy(
                    update={"pairs": (), "checks": (), "notes": (*document.notes, note)}
                )
            )
            save_document(again, refit, stored)
            print_document(console, again)
            return
        # From here on a sweep may start processes: SIGTERM stops it like Ctrl-C.
        exit_on_sigterm()
        chosen = _targets(frameworks, servers, quick)
        plan = QUICK_PLAN if quick else FULL_PLAN
        placement = default_placement()
        output = output if output is not None else default_output("model")
        config = build_config(
            frameworks=tuple(dict.fromkeys(t.framework for t in chosen)),
            servers=",".join(dict.fromkeys(t.server for t in chosen)),
            scenarios=plan.scenarios,
            connections=(SATURATED_CONNECTIONS,),
            duration_s=plan.duration_s,
            warmup_s=plan.warmup_s,
            repeats=1,
            database=database,
            cold_starts=plan.spawns,
            placement=placement,
        )
        preflight(config, database, output)
        machine = describe_machine()
    except KeyboardInterrupt:
        interrupted_while_preparing(console)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    notes = [
        f"1-minute load average when the sweep started: {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} CPUs (figures from a shared machine are noisy)"
    ]
    if not placement.trustworthy:
        notes.append("the service and the load share one CPU: the model is not trustworthy")
    console.print(
        f"fwbench model{' --quick' if quick else ''}: {len(chosen)} pairs, about "
        f"{plan.seconds(chosen) / 60:.0f} min; service on CPUs {list(placement.service_cpus)}, "
        f"load on {list(placement.load_cpus)}; results in {output}"
    )
    started = time.monotonic()
    command = ("fwbench", *sys.argv[1:])
    results = Results.start(command, machine, placement, config, None, notes)
    document = ModelDocument(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        command=command,
        machine=_machine_line(machine),
        quick=quick,
        service_cpus=placement.service_cpus,
        load_cpus=placement.load_cpus,
        notes=tuple(notes),
        points=(),
        memory=(),
        startup=(),
    )

    def with_measured(measured: Measured) -> ModelDocument:
        return document.model_copy(
            update={
                "points": tuple(measured.points),
                "memory": tuple(measured.memory),
                "startup": tuple(measured.startup),
                "failures": tuple(measured.failures),
                "duration_s": time.monotonic() - started,
            }
        )

    def save(document: ModelDocument, status: str | None = None) -> None:
        current = replace(results, services=tuple(context.services))
        save_document(document, output, current.finished(status) if status else current)

    so_far = [document]

    def on_target(target: Target, measured: Measured) -> None:
        console.print(f"  measured {target.label}", style="dim")
        so_far[0] = with_measured(measured)
        save(so_far[0])

    with tempfile.TemporaryDirectory(prefix="fwbench-model-") as state:
        context = Context(
            quick=quick,
            state_dir=Path(state),
            database=database,
            placement=placement,
            say=lambda line: console.print(f"  {line}", style="dim"),
            ports=PORTS,
        )
        try:
            with context:
                measured = measure(context, chosen, plan, on_target)
        except KeyboardInterrupt:
            save(fitted(so_far[0]), "interrupted")
            console.print(
                "[bold]Interrupted[/]; every process fwbench started is stopped, and the "
                f"pairs measured so far are kept in {output}."
            )
            sys.exit(130)
    result = fitted(with_measured(measured))
    save(result, "complete")
    print_document(console, result)
    console.print(f"Done in {result.duration_s / 60:.1f} min. Model: {output}")
    if not result.pairs:
        raise click.ClickException("no pair could be modelled (see the lines above)")


def _targets(frameworks: tuple[str, ...], servers: str, quick: bool) -> tuple[Target, ...]:
    unknown = [name for name in frameworks if name not in FRAMEWORKS]
    if unknown:
        raise InvalidOption(
            f"unknown framework {unknown[0]!r}", f"use some of: {', '.join(FRAMEWORKS)}"
        )
    names = None if servers == "all" else [s.strip() for s in servers.split(",") if s.strip()]
    bad = [name for name in names or () if name not in SERVERS]
    if bad or names == []:
        raise InvalidOption(
            f"unknown server {bad[0]!r}" if bad else "--servers names no server",
            f"use all or some of: {', '.join(SERVERS)}",
        )
    chosen = targets(frameworks, names, quick)
    if not chosen:
        raise InvalidOption(
            "no supported framework/server pair matches --frameworks and --servers",
            "see `fwbench serve --help` for the pairs",
        )
    return chosen
