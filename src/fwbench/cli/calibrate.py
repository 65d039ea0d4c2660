"""``fwbench calibrate``: measure the load generator's and the downstream's ceilings."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from fwbench.cli._options import (
    comma_ints,
    hosts_option,
    placement_options,
    port_range,
    refuse_cpus_with_hosts,
)
from fwbench.harness.calibrate import calibrate as measure_ceilings
from fwbench.harness.calibrate import calibration_path, store_calibration
from fwbench.harness.calibrate_hosts import calibrate_host, host_calibration_path, host_shares
from fwbench.harness.display import make_console
from fwbench.harness.errors import FwbenchError, InvalidOption
from fwbench.harness.hosts import read_hosts
from fwbench.harness.load import find_wrk
from fwbench.harness.machine import chosen_placement, describe_machine
from fwbench.harness.process import exit_on_sigterm, free_port
from fwbench.harness.remote import connect_all


@click.command()
@click.option(
    "--connections",
    default="64",
    show_default=True,
    callback=comma_ints,
    help="wrk connections to calibrate (those `fwbench run --connections` will use).",
)
@click.option(
    "--duration",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Seconds per measurement.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Calibration file [default: ~/.cache/fwbench/calibration.json, which "
    "`fwbench run` reads].",
)
@click.option(
    "--ports",
    default=None,
    callback=port_range,
    help="TCP port range START-END for the trivial servers [default: chosen by the OS].",
)
@placement_options
@hosts_option(
    "calibrate wrk on every load host instead, at the connections each gets of "
    "--connections, for `fwbench run --hosts`."
)
def calibrate(
    connections: tuple[int, ...],
    duration: int,
    output: Path | None,
    ports: range | None,
    hosts_file: Path | None,
    service_cpus: tuple[int, ...] | None,
    load_cpus: tuple[int, ...] | None,
) -> None:
    """Measure what wrk reaches against a trivial server on this machine's CPUs (the
    load generator's ceiling) and against the downstream on the load CPUs (the
    downstream's ceiling). `fwbench run` marks figures close to them as generator- or
    downstream-bound, and calibrates by itself when no stored calibration holds.
    With --hosts, the same calibration runs on each load host over SSH, one after the
    other, and `fwbench run --hosts` checks each generator against its own."""
    exit_on_sigterm()
    console = make_console()
    if hosts_file is not None:
        try:
            refuse_cpus_with_hosts(service_cpus, load_cpus)
        except FwbenchError as error:
            raise click.ClickException(str(error)) from None
        _calibrate_hosts(console, hosts_file, connections, duration, output, ports)
        return
    path = output if output is not None else calibration_path()
    try:
        find_wrk()
        placement = chosen_placement(service_cpus, load_cpus)
        threads = len(placement.load_cpus)
        if min(connections) < threads:
            raise InvalidOption(
                f"--connections must be at least {threads} (one per wrk thread)",
                f"pass --connections {threads} or more",
            )

        def port() -> int:
            return free_port(ports)

        with console.status("Calibrating (wrk against a trivial server)...") as status:
            measured = measure_ceilings(
                describe_machine(),
                placement,
                connections,
                threads=threads,
                duration_s=duration,
                port=port,
                on_step=lambda step: status.update(step),
            )
        stored = store_calibration(measured, path)
    except KeyboardInterrupt:
        # The file is written once, whole, at the end: an interrupted calibration leaves
        # the previous one as it was.
        console.print(
            f"[bold]Interrupted[/]; every process fwbench started is stopped, and {path} "
            "is as it was."
        )
        sys.exit(130)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    table = Table(title=f"Load-side ceilings on {stored.cpu_model}")
    table.add_column("Connections", justify="right")
    table.add_column(f"Generator (wrk on CPUs {list(placement.load_cpus)}) req/s", justify="right")
    table.add_column("Downstream (with wrk) req/s", justify="right")
    for level in stored.levels:
        table.add_row(
            str(level.connections),
            f"{level.generator.throughput:,.0f}",
            f"{level.downstream.throughput:,.0f}",
        )
    console.print(table)
    console.print(f"Stored in {path}; `fwbench run` uses it while this machine and wrk match.")


def _calibrate_hosts(
    console: Console,
    hosts_file: Path,
    connections: tuple[int, ...],
    duration: int,
    output: Path | None,
    ports: range | None,
) -> None:
    """``fwbench calibrate --hosts``: calibrate every load host, store each one's ceiling."""
    try:
        if output is not None:
            raise InvalidOption(
                "--output names this machine's calibration file, and --hosts stores each load "
                "host's under fwbench's state directory",
                "leave --output out",
            )
        hosts = read_hosts(hosts_file)
        table = Table(title="Load hosts' own ceilings (wrk against a trivial server there)")
        table.add_column("Load host")
        table.add_column("Connections", justify="right")
        table.add_column("Generator req/s", justify="right")
        remotes = connect_all(hosts)
        try:
            for index, url in enumerate(hosts.load):
                shares = host_shares(connections, len(hosts.load), index)
                with console.status(f"Calibrating wrk on {url}...") as status:
                    measured = calibrate_host(
                        remotes[url],
                        shares,
                        hosts.load_cpus(url, remotes[url].describe().cpus),
                        duration_s=duration,
                        ports=ports,
                        on_step=lambda step: status.update(step),
                    )
                stored = store_calibration(measured, host_calibration_path(url))
                for level in stored.levels:
                    if level.connections in shares:
                        table.add_row(
                            url, str(level.connections), f"{level.generator.throughput:,.0f}"
                        )
        finally:
            for remote in remotes.values():
                remote.close()
    except KeyboardInterrupt:
        console.print(
            "[bold]Interrupted[/]; every process fwbench started on every host is stopped, "
            "and the load hosts calibrated before are stored."
        )
        sys.exit(130)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    console.print(table)
    console.print(
        f"Stored in {host_calibration_path('ssh://HOST').parent.parent}; `fwbench run --hosts` "
        "uses each while its host and wrk match."
    )
