"""``fwbench prepare --hosts FILE``: copy this checkout to every host and set it up."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fwbench.cli._options import hosts_option
from fwbench.harness.display import count, make_console
from fwbench.harness.errors import FwbenchError
from fwbench.harness.hosts import read_hosts
from fwbench.harness.prepare import REQUIRED_TOOLS, Prepared, prepare_hosts


@click.command()
@hosts_option(
    "every host in it is prepared, its checkout where the file's `checkout` says.",
    required=True,
)
def prepare(hosts_file: Path) -> None:
    """Copy this checkout's files (those git tracks, as they are in the working tree) to
    every host of a hosts file and run the README's set-up there (scripts/bootstrap.sh:
    a .venv with requirements.lock's versions). When a host's Python matches this
    machine's, the wheels are built here and shipped, so the host needs no index or
    internet. Only what differs is copied or installed: an up-to-date host costs one
    command and an import check. Debian packages (wrk, taskset, haproxy) stay the
    host's administrator's: those missing are named."""
    console = make_console()
    try:
        hosts = read_hosts(hosts_file)
        with console.status("Preparing the hosts...") as status:
            prepared = prepare_hosts(hosts, on_step=lambda step: status.update(step))
    except KeyboardInterrupt:
        console.print(
            "[bold]Interrupted[/]; the hosts prepared before are ready, the one being "
            "prepared is set up again by the next `fwbench prepare`."
        )
        sys.exit(130)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None
    for host in prepared:
        console.print(f"{host.url} {host.checkout}: {_summary(host)}", highlight=False)
    lacking = [host for host in prepared if set(host.missing) & set(REQUIRED_TOOLS)]
    if lacking:
        named = "; ".join(f"{host.url} lacks {', '.join(host.missing)}" for host in lacking)
        raise click.ClickException(
            f"{named}; install them there (apt-get install ...) before `fwbench run --hosts`"
        )


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
    return f"{copied}; venv {host.venv}{missing} ({host.seconds:.1f} s)"
