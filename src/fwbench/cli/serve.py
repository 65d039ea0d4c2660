"""``fwbench serve``: run one service in the foreground under a production server."""

from __future__ import annotations

import os
import shlex
import signal

import click

from fwbench.harness.databases import redacted
from fwbench.harness.errors import FwbenchError, InvalidOption
from fwbench.harness.process import (
    DEFAULT_TOKENS,
    ServiceProcess,
    exit_on_sigterm,
    start_downstream,
    start_service,
)
from fwbench.harness.servers import DEFAULT_PORTS, FRAMEWORKS, SERVERS
from fwbench.services.downstream.faults import MAX_LATENCY_MS

#: Seconds ``serve`` waits for the first ``/healthz`` answer: generous, because on a
#: loaded machine several workers importing Django at once can take tens of seconds.
_READY_TIMEOUT = 120


def parse_cpus(text: str) -> set[int]:
    """Parse a CPU list in taskset's format: ``0``, ``0,2``, ``0-3``, ``0-1,4``."""
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            cpus.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a CPU list; write it like 0 or 0,1 or 0-3", param_hint="--cpus"
        ) from None
    if not cpus:
        raise click.BadParameter(f"{text!r} names no CPU", param_hint="--cpus")
    return cpus


@click.command()
@click.argument("service", type=click.Choice([*FRAMEWORKS, "downstream"]))
@click.option(
    "--server",
    type=click.Choice(SERVERS),
    help="Production server. Default: the framework's canonical one (fastapi: uvicorn; "
    "flask, django: gunicorn-sync; downstream: granian, its only server).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes. Default: the server's documented rule for the cores used "
    "(gunicorn: 2 x cores + 1; uvicorn, granian: one per core).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="Threads per worker, for gunicorn-gthread, granian (WSGI) and FastAPI (the size "
    "of anyio's thread limiter, which runs its def routes). Default: gthread 2 x cores, "
    "granian its own default, FastAPI anyio's 40.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="TCP port. Default: fastapi 8001, flask 8002, django 8003, downstream 8900.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--database",
    metavar="URL",
    help="postgresql://user@host:port/NAME (the service uses NAME_<service>, created when "
    "missing) or sqlite:///path. Default: $DATABASE_URL, else a SQLite file per service in "
    "$XDG_CACHE_HOME/fwbench, else ~/.cache/fwbench.",
)
@click.option(
    "--downstream-url",
    metavar="URL",
    help="Base URL of the downstream service. Default: $DOWNSTREAM_URL, else "
    "http://127.0.0.1:8900, where `fwbench serve downstream` listens.",
)
@click.option(
    "--cpus",
    metavar="LIST",
    help="Pin the server and all its workers to these CPUs, e.g. 0 or 0,1 or 0-3. "
    "Default: not pinned; the worker rule then uses every CPU available.",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(0, MAX_LATENCY_MS),
    help="downstream only: extra milliseconds before every /delay and /score answer. Default: 0.",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    help="downstream only: fraction of /delay and /score calls answered 500 "
    "(deterministically, every 1/rate-th call). Default: 0.",
)
def serve(
    service: str,
    server: str | None,
    workers: int | None,
    threads: int | None,
    port: int | None,
    host: str,
    database: str | None,
    downstream_url: str | None,
    cpus: str | None,
    latency_ms: int | None,
    error_rate: float | None,
) -> None:
    """Run SERVICE in the foreground under a production server.

    For fastapi, flask and django it first creates and seeds the database when empty.
    It prints the exact server command line, then serves until Ctrl-C or SIGTERM, which
    stop the server and all its workers.
    """
    pinned = parse_cpus(cpus) if cpus is not None else None
    port = port if port is not None else DEFAULT_PORTS[service]
    # From here on SIGTERM unwinds like Ctrl-C: a server started a moment later is
    # still stopped (by the with block below or the atexit safety net).
    exit_on_sigterm()
    try:
        if service == "downstream":
            _reject_options(
                "downstream",
                {
                    "--workers": workers,
                    "--threads": threads,
                    "--database": database,
                    "--downstream-url": downstream_url,
                },
            )
            if server not in (None, "granian"):
                raise InvalidOption(
                    f"the downstream runs on granian only, not {server}",
                    "leave --server out or pass --server granian",
                )
            process = start_downstream(
                port=port,
                host=host,
                cpus=pinned,
                latency_ms=latency_ms or 0,
                error_rate=error_rate or 0.0,
                wait=False,
                inherit_output=True,
            )
        else:
            _reject_options(service, {"--latency-ms": latency_ms, "--error-rate": error_rate})
            # The 12-factor habit the services follow: an exported DATABASE_URL counts
            # unless --database overrides it (--downstream-url works the same way).
            source = "--database"
            if database is None and os.environ.get("DATABASE_URL"):
                database, source = os.environ["DATABASE_URL"], "$DATABASE_URL"
            elif database is None:
                source = "the default"
            process = start_service(
                service,
                port=port,
                server=server,
                host=host,
                workers=workers,
                threads=threads,
                database_url=database,
                downstream_url=downstream_url,
                cpus=pinned,
                wait=False,
                inherit_output=True,
                announce=lambda message: click.echo(f"fwbench: {message}"),
            )
            click.echo(f"fwbench: database {redacted(process.env['DATABASE_URL'])} (from {source})")
        _run_in_foreground(process)
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None


def _reject_options(service: str, options: dict[str, object]) -> None:
    given = [name for name, value in options.items() if value is not None]
    if given:
        raise InvalidOption(
            f"{', '.join(given)} does not apply to {service}",
            "leave it out (see fwbench serve --help)",
        )


def _run_in_foreground(process: ServiceProcess) -> None:
    """Announce the server, wait until it answers, then until Ctrl-C or SIGTERM."""
    with process:
        click.echo(
            f"fwbench: serving {process.name} at {process.url} with: {shlex.join(process.argv)}"
        )
        if process.config is not None:
            config = process.config
            threads = f", {config.threads} threads each" if config.threads else ""
            click.echo(f"fwbench: {config.workers} worker(s){threads}: {config.advice}")
            for name, token in DEFAULT_TOKENS.items():
                if name not in os.environ:
                    click.echo(f"fwbench: {name} is not set, using {token!r}")
        try:
            seconds = process.wait_ready(timeout=_READY_TIMEOUT)
            click.echo(f"fwbench: ready after {seconds:.2f} s; Ctrl-C stops it")
            code = process.wait()
        except KeyboardInterrupt:
            # A second Ctrl-C or SIGTERM must not abort the stop half-way.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            click.echo("fwbench: stopping")
            process.stop()
            click.echo("fwbench: stopped")
            return
    raise click.ClickException(f"the {process.name} server exited by itself with code {code}")
