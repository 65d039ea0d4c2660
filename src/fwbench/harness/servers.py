"""Which production server runs which framework, and how it is configured.

This module is the one place where server settings are decided. Every supported
framework/server pair is listed in ``_PAIRS``; every server's sizing rule is a row of
``_RULES``, derived from that server's own documentation for the number of cores
given to the service, with the source quoted next to it (and copied into
``ServerConfig.advice`` so that results files and reports show it). Nothing here
starts a process: :mod:`fwbench.harness.process` does that with ``ServerConfig.command``.

Settings shared by every command line, and why:

* Access logs are off: writing a log line per request costs throughput and is not
  what a production benchmark measures.
* Every server binds the host it is given (``127.0.0.1`` by default in the callers).
* gunicorn: ``--timeout 30`` is the documented default ("Generally, the default of
  thirty seconds should suffice", settings > timeout) and exceeds the longest request
  the contract allows (``/io?ms=10000``); ``--graceful-timeout 10`` bounds how long a
  stop waits for in-flight requests. ``--no-control-socket`` because gunicorn >= 25
  otherwise opens one fixed control socket path per user, shared by every instance.
* uvicorn: uvloop + httptools, the fast implementations of its ``standard`` extra,
  named explicitly so the command line shows what was measured.
* granian: ``--loop uvloop`` on async interfaces for the same reason.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, TypeGuard, get_args

from fwbench.harness.errors import InvalidOption, UnknownServer

#: The three frameworks compared; the order of the Literal is the report order.
Framework = Literal["fastapi", "flask", "django"]

#: Every server name fwbench knows.
Server = Literal["uvicorn", "granian", "gunicorn-sync", "gunicorn-gthread", "gunicorn-gevent"]

#: How a server calls the application.
Interface = Literal["asgi", "wsgi"]


@dataclass(frozen=True)
class FrameworkFacts:
    """What fwbench knows about one framework's implementation (docs/architecture.md).

    Attributes:
        name: display name, as written in tables, reports and recommendations.
        package: the implementation's package under ``fwbench.services``.
        entry_points: the ``module:attribute`` import target, by interface.
        env: variables the framework needs besides the 12-factor ones.
        allowed_hosts_env: the variable listing the host names it answers besides
            loopback, for a framework that checks the ``Host`` header (Django's
            ``ALLOWED_HOSTS``); None: it answers any.
    """

    name: str
    package: str
    entry_points: Mapping[Interface, str]
    env: Mapping[str, str] = field(default_factory=dict)
    allowed_hosts_env: str | None = None


#: The one table of framework facts; every other mapping below is derived from it.
FRAMEWORK_FACTS: Final[dict[Framework, FrameworkFacts]] = {
    "fastapi": FrameworkFacts(
        "FastAPI",
        "fwbench.services.fastapi_service",
        {"asgi": "fwbench.services.fastapi_service.app:app"},
    ),
    "flask": FrameworkFacts(
        "Flask",
        "fwbench.services.flask_service",
        {"wsgi": "fwbench.services.flask_service.wsgi:app"},
    ),
    "django": FrameworkFacts(
        "Django",
        "fwbench.services.django_service",
        {
            "wsgi": "fwbench.services.django_service.project.wsgi:application",
            "asgi": "fwbench.services.django_service.project.asgi:application",
        },
        {"DJANGO_SETTINGS_MODULE": "fwbench.services.django_service.project.settings"},
        allowed_hosts_env="DJANGO_ALLOWED_HOSTS",
    ),
}

#: Human names of the servers, as written in tables and recommendations.
SERVER_NAMES: Final[dict[Server, str]] = {
    "uvicorn": "uvicorn",
    "granian": "granian",
    "gunicorn-sync": "gunicorn sync",
    "gunicorn-gthread": "gunicorn gthread",
    "gunicorn-gevent": "gunicorn gevent",
}

FRAMEWORKS: Final[tuple[Framework, ...]] = get_args(Framework)
SERVERS: Final[tuple[Server, ...]] = get_args(Server)

#: Display names of the frameworks, looked up by the plain strings results files hold.
FRAMEWORK_NAMES: Final[Mapping[str, str]] = {
    framework: facts.name for framework, facts in FRAMEWORK_FACTS.items()
}

#: Ports ``fwbench serve`` uses when ``--port`` is not given: distinct, so the three
#: services and the downstream can run side by side. 8900 is the downstream address
#: every implementation defaults to (``DOWNSTREAM_URL``, docs/architecture.md).
DEFAULT_PORTS: Final[dict[str, int]] = {
    "fastapi": 8001,
    "flask": 8002,
    "django": 8003,
    "downstream": 8900,
}


def is_framework(name: str) -> TypeGuard[Framework]:
    """True when ``name`` is one of :data:`FRAMEWORKS` (narrows it for the type checker)."""
    return name in FRAMEWORK_FACTS


def is_server(name: str) -> TypeGuard[Server]:
    """True when ``name`` is one of :data:`SERVERS` (narrows it for the type checker)."""
    return name in SERVER_NAMES


def server_name(server: str) -> str:
    """The human name of a server (``gunicorn gthread``), or ``server`` itself when unknown."""
    return SERVER_NAMES[server] if is_server(server) else server


#: Supported pairs as ``framework -> ((server, interface), ...)``, canonical server
#: first. The canonical server is what each framework's documentation deploys with:
#: FastAPI on uvicorn; Flask and Django on gunicorn's default sync worker. Django runs
#: under granian through WSGI, its synchronous ORM's native interface.
_PAIRS: Final[dict[Framework, tuple[tuple[Server, Interface], ...]]] = {
    "fastapi": (("uvicorn", "asgi"), ("granian", "asgi")),
    "flask": (
        ("gunicorn-sync", "wsgi"),
        ("gunicorn-gthread", "wsgi"),
        ("gunicorn-gevent", "wsgi"),
        ("granian", "wsgi"),
    ),
    "django": (
        ("gunicorn-sync", "wsgi"),
        ("gunicorn-gthread", "wsgi"),
        ("uvicorn", "asgi"),
        ("granian", "wsgi"),
    ),
}

_GUNICORN_WORKERS = (
    "workers = 2 x cores + 1, per gunicorn's docs (Design, 'How many workers?'): "
    '"Start with (2 * num_cores) + 1 and adjust under load"'
)


@dataclass(frozen=True)
class _Rule:
    """How one server is sized for a core budget."""

    workers: Callable[[int], int]
    #: Threads per worker, or None when the server has no thread setting we size.
    threads: Callable[[int], int] | None
    #: Simultaneous connections per worker, for servers that have the setting.
    connections: int | None
    advice: str


_RULES: Final[dict[Server, _Rule]] = {
    # gunicorn docs, Design > How many workers?: "Start with `(2 * num_cores) + 1`".
    "gunicorn-sync": _Rule(
        workers=lambda cores: 2 * cores + 1,
        threads=None,
        connections=None,
        advice=f"{_GUNICORN_WORKERS}; sync workers serve one request at a time.",
    ),
    # Same worker rule; gunicorn settings > threads: "A positive integer generally in
    # the ``2-4 x $(NUM_CORES)`` range" -> the low end, 2 x cores threads per worker,
    # since the worker count already multiplies them.
    "gunicorn-gthread": _Rule(
        workers=lambda cores: 2 * cores + 1,
        threads=lambda cores: 2 * cores,
        connections=None,
        advice=(
            f"{_GUNICORN_WORKERS}; threads = 2 x cores per worker, the low end of the "
            'settings\' "2-4 x $(NUM_CORES)" range for --threads.'
        ),
    ),
    # Same worker rule; gunicorn settings > worker_connections: "The maximum number of
    # simultaneous clients", default 1000, kept.
    "gunicorn-gevent": _Rule(
        workers=lambda cores: 2 * cores + 1,
        threads=None,
        connections=1000,
        advice=(
            f"{_GUNICORN_WORKERS}; worker_connections = 1000 per worker, the documented "
            'default ("The maximum number of simultaneous clients").'
        ),
    ),
    # One uvicorn worker is one single-threaded event loop, so one process per core
    # uses every core without oversubscribing it. uvicorn's docs give no number
    # ("for example --workers 4"); FastAPI's docs replicate processes "to take
    # advantage of multiple cores" (Deployment > Server Workers).
    "uvicorn": _Rule(
        workers=lambda cores: cores,
        threads=None,
        connections=None,
        advice=(
            "workers = cores: each uvicorn worker is one event loop on one core; FastAPI's "
            'docs (Deployment, Server Workers) run several "to take advantage of multiple '
            "cores\", uvicorn's docs give no number."
        ),
    ),
    # granian README, "Workers and threads": "matching the amount of CPU cores for the
    # workers is generally the best starting point"; on WSGI, blocking threads: "you
    # should avoid to tune this threadpool size and configure a backpressure value that
    # suits your needs instead", and "you should generally avoid to configure workers and
    # threads based on numbers suggested for other servers". Backpressure keeps its
    # default (backlog / workers) as well: it limits connections, not requests, and the
    # README ("Backpressure") warns that a value below the number of kept-alive
    # connections stops granian accepting new ones, and wrk's connections are kept alive.
    "granian": _Rule(
        workers=lambda cores: cores,
        threads=None,
        connections=None,
        advice=(
            "workers = cores, per granian's README (Workers and threads): \"matching the "
            'amount of CPU cores for the workers is generally the best starting point"; '
            "threads and backpressure at granian's defaults, as it advises."
        ),
    ),
}

#: ``(server, interface)`` pairs whose threads per worker ``--threads`` may set:
#: gunicorn's ``--threads`` and granian's WSGI ``--blocking-threads``.
_THREADED: Final[tuple[tuple[Server, Interface], ...]] = (
    ("gunicorn-gthread", "wsgi"),
    ("granian", "wsgi"),
)

#: FastAPI on an ASGI server: ``--threads`` sizes anyio's thread limiter (its default is
#: 40 tokens), which caps how many plain-``def`` routes and dependencies run at once per
#: worker. FastAPI's docs ("Concurrency and async / await", "Very Technical Details")
#: send ``def`` path operations to that thread pool; Starlette's docs
#: ("Thread Pool") show raising ``total_tokens`` as the way to grow it. The service
#: applies it at start-up from this variable (``fastapi_service.settings``).
SYNC_ROUTE_THREADS_ENV: Final = "SYNC_ROUTE_THREADS"


def _threads_setting(framework: Framework, server: Server, interface: Interface) -> bool:
    """Whether ``--threads`` means something for this configuration."""
    return (server, interface) in _THREADED or (framework == "fastapi" and interface == "asgi")


@dataclass(frozen=True)
class ServerConfig:
    """One server configuration: what was measured, recorded in results and reports.

    Attributes:
        framework: one of :data:`FRAMEWORKS`.
        server: one of :data:`SERVERS`.
        interface: ``"asgi"`` or ``"wsgi"``: how the server calls the application.
        app: the ``module:attribute`` import target the server loads.
        cores: the core budget the configuration was derived for.
        workers: worker processes.
        threads: threads per worker (FastAPI: its thread limiter's tokens), or None when
            the server's default applies.
        connections: simultaneous connections per worker (gevent), else None.
        advice: the documented rule behind these numbers and its source, or a note
            that the user overrode them.
    """

    framework: Framework
    server: Server
    interface: Interface
    app: str
    cores: int
    workers: int
    threads: int | None
    connections: int | None
    advice: str

    @property
    def multiprocess(self) -> bool:
        """True when several worker processes serve requests (metrics must be shared)."""
        return self.workers > 1

    @property
    def env(self) -> dict[str, str]:
        """Environment the service needs for this configuration: FastAPI's thread
        limiter size when ``threads`` is set (see :data:`SYNC_ROUTE_THREADS_ENV`)."""
        if self.framework == "fastapi" and self.threads is not None:
            return {SYNC_ROUTE_THREADS_ENV: str(self.threads)}
        return {}

    def command(self, host: str, port: int) -> list[str]:
        """The full argv that runs this configuration, ``sys.executable -m <server> ...``.

        Args:
            host: address to bind, e.g. ``"127.0.0.1"``.
            port: TCP port to bind.
        """
        base = [sys.executable, "-m"]
        if self.server == "uvicorn":
            return [
                *base, "uvicorn", self.app,
                "--host", host, "--port", str(port),
                "--workers", str(self.workers),
                "--loop", "uvloop", "--http", "httptools",
                "--no-access-log",
                "--timeout-graceful-shutdown", "10",
            ]  # fmt: skip
        if self.server == "granian":
            argv = [
                *base, "granian", "--interface", self.interface,
                "--host", host, "--port", str(port),
                "--workers", str(self.workers),
            ]  # fmt: skip
            if self.threads is not None and self.interface == "wsgi":
                argv += ["--blocking-threads", str(self.threads)]
            if self.interface == "asgi":
                argv += ["--loop", "uvloop"]
            return [*argv, "--no-access-log", "--workers-kill-timeout", "10", self.app]
        worker_class = self.server.removeprefix("gunicorn-")
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        argv = [
            *base, "gunicorn", "--bind", bind,
            "--workers", str(self.workers), "--worker-class", worker_class,
        ]  # fmt: skip
        if self.threads is not None:
            argv += ["--threads", str(self.threads)]
        if self.connections is not None:
            argv += ["--worker-connections", str(self.connections)]
        return [
            *argv,
            "--timeout", "30", "--graceful-timeout", "10",
            "--no-control-socket",
            self.app,
        ]  # fmt: skip


def _known(framework: str) -> Framework:
    if not is_framework(framework):
        raise UnknownServer(
            f"unknown framework {framework!r}",
            f"use one of: {', '.join(FRAMEWORKS)}",
        )
    return framework


def servers_for(framework: str) -> tuple[Server, ...]:
    """The server names ``framework`` runs on, canonical first.

    Raises:
        UnknownServer: ``framework`` is not one of :data:`FRAMEWORKS`.
    """
    return tuple(server for server, _ in _PAIRS[_known(framework)])


def canonical_server(framework: str) -> Server:
    """The server a framework is measured on by default (fastapi: uvicorn, flask and
    django: gunicorn-sync).

    Raises:
        UnknownServer: ``framework`` is not one of :data:`FRAMEWORKS`.
    """
    return servers_for(framework)[0]


def all_pairs() -> tuple[tuple[Framework, Server], ...]:
    """Every supported ``(framework, server)`` pair, frameworks in report order."""
    return tuple(
        (framework, server) for framework in FRAMEWORKS for server in servers_for(framework)
    )


def configure(
    framework: str,
    server: str,
    cores: int,
    workers: int | None = None,
    threads: int | None = None,
) -> ServerConfig:
    """Size ``server`` for ``framework`` on ``cores`` cores, following the server's docs.

    Args:
        framework: one of :data:`FRAMEWORKS`.
        server: one of :func:`servers_for` ``(framework)``.
        cores: cores given to the service (>= 1); the documented rules scale with it.
        workers: worker processes; None (default) applies the documented rule.
        threads: threads per worker, only for gunicorn-gthread, granian on WSGI
            (``--blocking-threads``) and FastAPI (anyio's thread limiter, which runs its
            ``def`` routes); None (default) applies the documented rule.

    Raises:
        UnknownServer: unknown framework, or a server that framework does not run on.
        InvalidOption: ``cores``/``workers``/``threads`` below 1, or ``threads`` for a
            server without a thread setting.
    """
    known = _known(framework)
    interfaces = dict(_PAIRS[known])
    if not is_server(server) or server not in interfaces:
        raise UnknownServer(
            f"{framework} does not run on server {server!r}",
            f"use one of: {', '.join(servers_for(framework))}",
        )
    interface = interfaces[server]
    for name, value in (("cores", cores), ("workers", workers), ("threads", threads)):
        if value is not None and value < 1:
            raise InvalidOption(
                f"--{name} must be at least 1, not {value}", f"pass --{name} 1 or more"
            )
    if threads is not None and not _threads_setting(known, server, interface):
        servers = ", ".join(f"{name} ({iface.upper()})" for name, iface in _THREADED)
        raise InvalidOption(
            f"{framework} on {server} has no threads-per-worker setting",
            f"leave --threads out, or use a threaded server: {servers}, or FastAPI on any "
            "server (its thread limiter)",
        )
    rule = _RULES[server]
    advice = rule.advice
    overrides = [
        f"--{name} {value}" for name, value in (("workers", workers), ("threads", threads)) if value
    ]
    if overrides:
        advice = f"set by the user ({', '.join(overrides)}); documented rule: {advice}"
    return ServerConfig(
        framework=known,
        server=server,
        interface=interface,
        app=FRAMEWORK_FACTS[known].entry_points[interface],
        cores=cores,
        workers=workers if workers is not None else rule.workers(cores),
        threads=threads if threads is not None else rule.threads(cores) if rule.threads else None,
        connections=rule.connections,
        advice=advice,
    )
