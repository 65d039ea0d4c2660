"""Options and option parsers shared by ``fwbench run``, ``fairness``, ``claims``, ``model``
and ``calibrate``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from fwbench.harness.errors import FwbenchError, InvalidOption
from fwbench.harness.hosts import HostsFile
from fwbench.harness.hosts_run import HostsLayout, survey_hosts
from fwbench.harness.machine import parse_cpu_list
from fwbench.harness.remote import Remote, connect_all
from fwbench.harness.servers import FRAMEWORKS

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


@contextlib.contextmanager
def surveyed_hosts(
    console: Console, hosts: HostsFile
) -> Iterator[tuple[dict[str, Remote], HostsLayout]]:
    """Connect to every host of ``hosts`` and survey them
    (:func:`~fwbench.harness.hosts_run.survey_hosts`: machines, CPU split, round trips) for
    the length of a ``with`` block, which closes every connection (stopping what was
    started through it). A failure is one sentence (click's error); Ctrl-C ends the
    command as :func:`interrupted_while_preparing`."""
    try:
        remotes = connect_all(hosts)
    except KeyboardInterrupt:
        interrupted_while_preparing(console)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    with contextlib.ExitStack() as stack:
        for remote in remotes.values():
            stack.callback(remote.close)
        try:
            console.print("Describing the hosts and measuring round trips")
            layout = survey_hosts(hosts, remotes)
        except KeyboardInterrupt:
            interrupted_while_preparing(console)
        except FwbenchError as error:
            raise click.ClickException(str(error)) from None
        yield remotes, layout


def interrupted_while_preparing(console: Console) -> NoReturn:
    """End a command that Ctrl-C or SIGTERM stopped while it prepared (checked its tools,
    its database and its output, described the machine): nothing is started or written
    yet. It exits 130 like an interruption later on, not with click's "Aborted!" and 1."""
    console.print("[bold]Interrupted[/] before fwbench started anything; nothing was written.")
    sys.exit(130)


def output_option(command: str) -> Decorator:
    """``--output FILE``: where ``fwbench COMMAND`` writes its results file."""
    return click.option(
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Results file [default: results/fwbench-{command}-YYYYmmdd-HHMMSS.json].",
    )


def database_option(default: str) -> Decorator:
    """``--database URL``; ``default`` says what the command uses without one."""
    return click.option(
        "--database",
        metavar="URL",
        default=None,
        help="Base database URL, e.g. postgresql://user@host:5432/fwbench (each framework "
        f"gets NAME_<framework>) [default: {default}].",
    )


#: ``--report FILE``: also write the HTML report of the results.
report_option: Decorator = click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the HTML report of these results to this file [default: no report; "
    "`fwbench report RESULTS.json` writes one later].",
)


def comma_names(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """``"a, b,a"`` -> ``("a", "b")``: names in order, blanks and repeats dropped."""
    names = tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
    if not names:
        raise click.BadParameter("give at least one name")
    return names


def comma_ints(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    """``"16,64"`` -> ``(16, 64)``: positive integers in order, repeats dropped."""
    try:
        numbers = tuple(dict.fromkeys(int(item) for item in value.split(",") if item.strip()))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of integers") from None
    if not numbers or min(numbers) < 1:
        raise click.BadParameter(f"{value!r} must list integers of 1 or more")
    return numbers


def port_range(ctx: click.Context, param: click.Parameter, value: str | None) -> range | None:
    """``"18600-18699"`` -> ``range(18600, 18700)``; None stays None."""
    if value is None:
        return None
    start, _, end = value.partition("-")
    try:
        first, last = int(start), int(end)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a range like 18600-18699") from None
    if not 1024 <= first <= last <= 65535:
        raise click.BadParameter(f"{value!r} must be a range of ports within 1024-65535")
    return range(first, last + 1)


#: ``--frameworks``: the frameworks to measure, all by default.
frameworks_option: Decorator = click.option(
    "--frameworks",
    default=",".join(FRAMEWORKS),
    show_default=True,
    callback=comma_names,
    help="Comma-separated frameworks to measure.",
)

#: ``--workers``: one worker count for every server, else each server's documented rule.
workers_option: Decorator = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for every server [default: each server's documented rule].",
)

#: ``--ports START-END``: the services' TCP ports.
ports_option: Decorator = click.option(
    "--ports",
    default=None,
    callback=port_range,
    help="TCP port range START-END for the services [default: free ports chosen by the OS].",
)


#: ``--servers``: which servers run each framework.
servers_option: Decorator = click.option(
    "--servers",
    default="canonical",
    show_default=True,
    help="canonical (FastAPI on uvicorn, Flask and Django on gunicorn sync), all (every "
    "pair `fwbench serve` supports), or comma-separated server names.",
)


def duration_option(default: int) -> Decorator:
    """``--duration S``: seconds of each measured repeat, ``default`` when not given."""
    return click.option(
        "--duration",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help="Seconds per measured repeat.",
    )


def warmup_option(default: int, before: str) -> Decorator:
    """``--warmup S``: seconds of unmeasured load ``before`` the repeats (e.g. "each
    point's repeats"), ``default`` when not given."""
    return click.option(
        "--warmup",
        type=click.IntRange(min=0),
        default=default,
        show_default=True,
        help=f"Seconds of warm-up before {before} (not measured).",
    )


def repeats_option(default: int, how: str) -> Decorator:
    """``--repeats N``: measured repeats per point; ``how`` says how they are run or
    summarised, ``default`` when not given."""
    return click.option(
        "--repeats",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help=f"Measured repeats per point ({how}).",
    )


def hosts_option(what: str, *, required: bool = False) -> Decorator:
    """``--hosts FILE``: a hosts file (TOML, docs/hosts.md), passed as ``hosts_file`` (None
    when not given, unless ``required``); ``what`` says what the command does with it."""
    return click.option(
        "--hosts",
        "hosts_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        required=required,
        help=f"A hosts file (TOML, docs/hosts.md): {what}",
    )


def _cpu_list(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        return parse_cpu_list(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def placement_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--service-cpus LIST`` and ``--load-cpus LIST`` (taskset's list format), passed as
    ``service_cpus`` and ``load_cpus`` (None when not given), for
    :func:`~fwbench.harness.machine.chosen_placement`."""
    load = click.option(
        "--load-cpus",
        callback=_cpu_list,
        metavar="LIST",
        help="CPUs of wrk, the downstream and fwbench's probes, e.g. 0-3 (default: the lower "
        "half of the CPUs fwbench may use, or those --service-cpus leaves).",
    )
    service = click.option(
        "--service-cpus",
        callback=_cpu_list,
        metavar="LIST",
        help="CPUs the service and its workers are pinned to, e.g. 4-7 (default: the upper "
        "half of the CPUs fwbench may use, or those --load-cpus leaves).",
    )
    return service(load(command))


def refuse_cpus_with_hosts(
    service_cpus: tuple[int, ...] | None, load_cpus: tuple[int, ...] | None
) -> None:
    """Refuse ``--service-cpus``/``--load-cpus`` beside ``--hosts`` in one sentence: across
    hosts the hosts file's ``cpus`` table places things.

    Raises:
        InvalidOption: both were given.
    """
    if service_cpus is not None or load_cpus is not None:
        raise InvalidOption(
            "--service-cpus and --load-cpus place things on this machine, and --hosts runs "
            "them on the hosts",
            "give each host's CPUs in the hosts file's `cpus` table (docs/hosts.md)",
        )


def refuse_database_with_hosts(database: str | None) -> None:
    """Refuse ``--database`` beside ``--hosts`` in one sentence: across hosts the service
    host uses the database the hosts file names.

    Raises:
        InvalidOption: both were given.
    """
    if database is not None:
        raise InvalidOption(
            "--database does not go with --hosts: the service host uses the database the "
            "hosts file names",
            "put it in the hosts file's `database` key (docs/hosts.md)",
        )
