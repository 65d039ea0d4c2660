"""``fwbench prepare --hosts FILE``: copy this checkout to every host and set it up."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from fwbench.cli._options import hosts_option
from fwbench.harness.display import count, make_console
from fwbench.harness.errors import FwbenchError
from fwbench.harness.hosts import read_hosts
from fwbench.harness.prepare import REQUIRED_TOOLS, NotPrepared, Prepared, prepare_hosts
from fwbench.harness.process import exit_on_sigterm


@click.command()
@hosts_option(
    "every host in it is prepared, its checkout where the file's `checkout` says.",
    required=True,
)
def prepare(hosts_file: Path) -> None:
    """Copy this checkout's files (those git tracks, as they are in the working tree) to
    every host of a hosts file and run the README's set-up there (scripts/bootstrap.sh:
    a .venv with requirements.lock's versions), every host at once. When a host's Python
    matches this machine's, the wheels are built here once and shipped, so the host
    needs no index or internet. Only what differs is copied or installed: an up-to-date
    host costs one command and an import check. A host that fails does not stop the
    others. Debian packages (wrk, taskset, haproxy) stay the host's administrator's:
    those missing are named."""
    console = make_console()
    exit_on_sigterm()  # SIGTERM stops the hosts' work as Ctrl-C does, and says which are done
    done: list[Prepared] = []
    try:
        hosts = read_hosts(hosts_file)
        with console.status(f"Preparing {count(len(hosts.hosts), 'host')} at once...") as status:

            def step(url: str, what: str) -> None:
                # The hosts' steps interleave: each is one line prefixed with its host,
                # printed as it happens, rather than buffered per host, because one step
                # (pip on a host) can take minutes and a buffered host would look stuck.
                # Lines, unlike the spinner, stay in a log; unwrapped, each stays one.
                console.print(f"{url}: {what}", style="dim", markup=False, soft_wrap=True)

            def finished(outcome: Prepared | NotPrepared) -> None:
                if isinstance(outcome, Prepared):
                    done.append(outcome)
                status.update(
                    f"Preparing {count(len(hosts.hosts), 'host')} at once: {len(done)} prepared..."
                )

            outcomes = prepare_hosts(hosts, on_step=step, on_done=finished)
    except KeyboardInterrupt:
        _print_summary(console, done)
        left = (
            f"{', '.join(host.url for host in done)} prepared; the next `fwbench prepare` "
            "finishes the others"
            if done
            else "the next `fwbench prepare` finishes every host"
        )
        console.print(f"[bold]Interrupted[/]; {left}.", soft_wrap=True)
        sys.exit(130)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    prepared = [host for host in outcomes if isinstance(host, Prepared)]
    _print_summary(console, prepared)
    problems = [host.sentence for host in outcomes if isinstance(host, NotPrepared)]
    lacking = [host for host in prepared if set(host.missing) & set(REQUIRED_TOOLS)]
    if lacking:
        named = "; ".join(f"{host.url} lacks {', '.join(host.missing)}" for host in lacking)
        problems.append(
            f"{named}; install them there (apt-get install ...) before `fwbench run --hosts`"
        )
    if problems:
        # One line per failed host, each an error of its own.
        raise click.ClickException("\nError: ".join(problems))


def _print_summary(console: Console, prepared: list[Prepared]) -> None:
    """One line per prepared host, in the order given."""
    for host in prepared:
        console.print(f"{host.url} {host.checkout}: {_summary(host)}", markup=False, soft_wrap=True)


def _summary(host: Prepared) -> str:
    """One line: what was copied, what happened to the venv, how long it took."""
    copied = (
        f"copied {count(host.shipped, 'file')} ({host.shipped_bytes / 1e6:.1f} MB)"
        if host.shipped
        else "files up to date"
    )
    if host.removed:
        copied += f", removed {count(host.removed, 'file')} no longer in this checkout"
    if host.wheels_shipped:
        copied += f", shipped {count(host.wheels_shipped, 'wheel')}"
    missing = f"; lacks {', '.join(host.missing)}" if host.missing else ""
    waited = (
        f", {host.waited:.1f} s of it waiting for another prepare of this checkout"
        if host.waited
        else ""
    )
    return f"{copied}; venv {host.venv}{missing} ({host.seconds:.1f} s{waited})"
