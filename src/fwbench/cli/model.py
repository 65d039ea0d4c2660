"""``fwbench model``: measure the sweep the performance model needs, fit it, validate it
on points it was not fitted on, and store it; or predict one configuration with it."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from fwbench.advice.sources import find_model
from fwbench.cli._options import (
    comma_names,
    database_option,
    hosts_option,
    interrupted_while_preparing,
    output_option,
    placement_options,
    refuse_cpus_with_hosts,
    refuse_database_with_hosts,
    surveyed_hosts,
)
from fwbench.experiments._hosts import HostsSite
from fwbench.experiments.context import Context
from fwbench.harness.errors import FwbenchError, InvalidOption
from fwbench.harness.hosts import HostsFile, read_hosts
from fwbench.harness.machine import chosen_placement, describe_machine
from fwbench.harness.process import exit_on_sigterm
from fwbench.harness.results import Machine, Placement, Results, RunConfig
from fwbench.harness.runconfig import build_config, default_output, preflight
from fwbench.harness.servers import FRAMEWORKS, SERVERS
from fwbench.model import (
    FULL_PLAN,
    QUICK_PLAN,
    SATURATED_CONNECTIONS,
    HostsStand,
    LocalStand,
    Measured,
    ModelDocument,
    Plan,
    Stand,
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
@placement_options
@hosts_option(
    "measure the sweep with the service on its first service host and wrk on every load "
    "host at once; CPU time, memory, cold starts and import time are read on the service "
    "host."
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
    hosts_file: Path | None,
    service_cpus: tuple[int, ...] | None,
    load_cpus: tuple[int, ...] | None,
) -> None:
    """Fit a performance model of every framework/server pair (slots, CPU cost per
    request, memory, latency growth, start-up) from a bounded sweep, validate it on
    points it was not fitted on, and store it with its raw points."""
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    try:
        if hosts_file is not None:
            _check_hosts_options(query, refit, database)
            refuse_cpus_with_hosts(service_cpus, load_cpus)
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
        output = output if output is not None else default_output("model")
        hosts = read_hosts(hosts_file) if hosts_file is not None else None
        # This machine's CPUs; across hosts, the service host's replace them once
        # connected (_sweep_on_hosts).
        placement = chosen_placement(service_cpus, load_cpus)
        config = _config(chosen, plan, database, placement)
        preflight(config, database, output)
    except KeyboardInterrupt:
        interrupted_while_preparing(console)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    sweep = _Sweep(console, chosen, plan, quick, output)
    if hosts is not None:
        _sweep_on_hosts(sweep, hosts, database)
    else:
        _sweep_here(sweep, config, placement, database)


def _check_hosts_options(query: str | None, refit: Path | None, database: str | None) -> None:
    """Refuse the options that ``--hosts`` does not go with, in one sentence."""
    if query is not None or refit is not None:
        raise InvalidOption(
            f"--hosts says where the sweep measures, and {'--predict' if query else '--refit'} "
            "measures nothing",
            "leave --hosts out",
        )
    refuse_database_with_hosts(database)


def _config(
    chosen: Sequence[Target], plan: Plan, database: str | None, placement: Placement
) -> RunConfig:
    """The run options a model's results file records."""
    return build_config(
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


class _Sweep:
    """One measured ``fwbench model``: its document, saved after every pair.

    Args:
        console: where progress goes.
        chosen: the pairs to measure.
        plan: the sweep's plan.
        quick: ``--quick`` was given.
        output: the results file.
    """

    def __init__(
        self, console: Console, chosen: Sequence[Target], plan: Plan, quick: bool, output: Path
    ) -> None:
        self.console = console
        self.chosen = chosen
        self.plan = plan
        self.quick = quick
        self.output = output
        self.command = ("fwbench", *sys.argv[1:])

    def say(self, line: str) -> None:
        """Print one line of progress, dimmed and indented."""
        self.console.print(f"  {line}", style="dim")

    def measure(
        self,
        stand: Stand,
        results: Results,
        machine: str,
        placement: Placement,
        notes: Sequence[str],
        late_notes: Callable[[Measured], Sequence[str]] = lambda measured: (),
    ) -> None:
        """Measure every pair on ``stand``, saving the document with ``results`` after
        each, then fit, save and print it; Ctrl-C saves what was measured and exits 130.

        Args:
            stand: where the sweep measures (inside its ``with`` block).
            results: the results file started for this sweep.
            machine: the line describing the machine modelled.
            placement: the service's and the load's CPUs.
            notes: the document's notes.
            late_notes: more notes, from what was measured.
        """
        started = time.monotonic()
        document = ModelDocument(
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            command=self.command,
            machine=machine,
            quick=self.quick,
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
                    "notes": (*notes, *late_notes(measured)),
                }
            )

        def save(document: ModelDocument, status: str | None = None) -> None:
            current = replace(results, services=tuple(stand.services))
            save_document(document, self.output, current.finished(status) if status else current)

        so_far = [document]

        def on_target(target: Target, measured: Measured) -> None:
            self.say(f"measured {target.label}")
            so_far[0] = with_measured(measured)
            save(so_far[0])

        try:
            measured = measure(stand, self.chosen, self.plan, on_target)
        except KeyboardInterrupt:
            save(fitted(so_far[0]), "interrupted")
            self.console.print(
                "[bold]Interrupted[/]; every process fwbench started is stopped, and the "
                f"pairs measured so far are kept in {self.output}."
            )
            sys.exit(130)
        result = fitted(with_measured(measured))
        save(result, "complete")
        print_document(self.console, result)
        self.console.print(f"Done in {result.duration_s / 60:.1f} min. Model: {self.output}")
        if not result.pairs:
            raise click.ClickException("no pair could be modelled (see the lines above)")


def _sweep_here(
    sweep: _Sweep, config: RunConfig, placement: Placement, database: str | None
) -> None:
    """``fwbench model`` on this machine."""
    machine = describe_machine()
    notes = [
        f"1-minute load average when the sweep started: {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} CPUs (figures from a shared machine are noisy)"
    ]
    if not placement.trustworthy:
        notes.append("the service and the load share one CPU: the model is not trustworthy")
    sweep.console.print(
        f"fwbench model{' --quick' if sweep.quick else ''}: {len(sweep.chosen)} pairs, about "
        f"{sweep.plan.seconds(sweep.chosen) / 60:.0f} min; service on CPUs "
        f"{list(placement.service_cpus)}, load on {list(placement.load_cpus)}; results in "
        f"{sweep.output}"
    )
    results = Results.start(sweep.command, machine, placement, config, None, notes)
    with tempfile.TemporaryDirectory(prefix="fwbench-model-") as state:
        context = Context(
            quick=sweep.quick,
            state_dir=Path(state),
            database=database,
            placement=placement,
            say=sweep.say,
            ports=PORTS,
        )
        with context:
            sweep.measure(LocalStand(context), results, _machine_line(machine), placement, notes)


def _sweep_on_hosts(sweep: _Sweep, hosts: HostsFile, database: str | None) -> None:
    """``fwbench model --hosts``: connect, survey the hosts and record the topology, then
    measure with the service on the first service host and wrk on every load host."""
    console = sweep.console
    service_url = hosts.service[0]
    with contextlib.ExitStack() as stack:
        remotes, layout = stack.enter_context(surveyed_hosts(console, hosts))
        try:
            load_average = float(remotes[service_url].run("cat /proc/loadavg").split()[0])
        except FwbenchError as error:
            raise click.ClickException(str(error)) from None
        placement = layout.placement
        service_cpus = len(layout.cpus[service_url])
        notes = [
            f"measured across hosts: the service and the downstream on {service_url}, wrk on "
            f"{', '.join(hosts.load)} at once (latencies merged from their histograms); the "
            "CPU time, memory, cold starts and import time of the service were read on "
            f"{service_url} by `fwbench probe`",
            f"1-minute load average of {service_url} when the sweep started: "
            f"{load_average:.2f} on {service_cpus} CPUs (figures from a shared machine are noisy)",
        ]
        if set(layout.spare_cpus) & set(placement.service_cpus):
            notes.append(
                f"{service_url} has one usable CPU, so the downstream and the probes share it "
                "with the service: the model is not trustworthy"
            )
        console.print(
            f"fwbench model{' --quick' if sweep.quick else ''} on hosts: "
            f"{len(sweep.chosen)} pairs, about {sweep.plan.seconds(sweep.chosen) / 60:.0f} min; "
            f"service on {service_url} CPUs {list(placement.service_cpus)}, wrk on "
            f"{', '.join(hosts.load)}; results in {sweep.output}"
        )
        config = _config(sweep.chosen, sweep.plan, hosts.database, placement)
        results = Results.start(
            sweep.command, describe_machine(), placement, config, None, notes
        ).with_topology(layout.topology)
        site = HostsSite(hosts, remotes, layout, ports=PORTS, say=sweep.say)
        stand = stack.enter_context(HostsStand(site))
        machine = f"{service_url}: {_machine_line(layout.service_machine)}"
        try:
            sweep.measure(stand, results, machine, placement, notes, _window_note)
        except FwbenchError as error:
            raise click.ClickException(str(error)) from None


def _window_note(measured: Measured) -> Sequence[str]:
    """How much longer than wrk's runs the CPU windows across hosts were: each is timed on
    the service host from before the load hosts' wrk start over SSH (all at once) to
    after their reports come back, and the CPU utilisations are the service's CPU time
    over that window (docs/model.md, "Across hosts")."""
    excess = [point.window_s - point.duration_s for point in measured.points]
    if not excess:
        return ()
    return (
        "each point's CPU window (timed on the service host from before the load hosts' wrk "
        "were started over SSH to after their reports came back) was "
        f"longer than wrk's run by a median of {statistics.median(excess):.2f} s; what of it "
        "carried no load lowers the CPU utilisations by at most that share of the window",
    )


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
