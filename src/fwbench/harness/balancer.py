"""N instances of one configuration behind HAProxy, measured as one service.

The capacity plan of ``fwbench advise`` speaks of "N instances behind a load balancer";
:func:`start_replicas` makes that measurable: N instances of one framework/server
configuration, each on a port of its own and pinned to a CPU set of its own, behind
HAProxy (the Debian package) with a generated configuration (:func:`haproxy_config`):
HTTP mode, round-robin, keep-alive on both sides, no retries or health-check traffic
during the measurement. wrk then loads HAProxy's address like any service's, so "do N
instances carry N times one instance, and at what p99?" is a comparison of two points.

HAProxy runs in the foreground (``-db``) as a process fwbench owns, with the same
watchdog and stop as every server (:class:`~.process.ServiceProcess`).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from fwbench.harness.errors import MissingTool
from fwbench.harness.process import ServiceProcess, start_server

#: Seconds HAProxy keeps an idle keep-alive connection, on both sides: longer than any
#: measurement's pause between requests, so connections are reused as wrk's are.
_KEEPALIVE_S: Final = 60


def find_haproxy() -> str:
    """The path of the haproxy executable.

    Raises:
        MissingTool: haproxy is not installed.
    """
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise MissingTool(
            "haproxy is not installed, and --replicas puts the instances behind it",
            "install it (apt-get install haproxy)",
        )
    return haproxy


def haproxy_config(bind: tuple[str, int], backends: Sequence[tuple[str, int]]) -> str:
    """HAProxy's configuration: ``bind`` in front of ``backends``, round-robin, keep-alive.

    Args:
        bind: the address and port HAProxy listens on.
        backends: the address and port of each instance.
    """
    host, port = bind
    servers = "\n".join(
        f"    server replica{i} {address}:{backend_port}"
        for i, (address, backend_port) in enumerate(backends, start=1)
    )
    return f"""\
global
    # Two descriptors per proxied connection: 4096 connections fit the common open-file
    # limits (HAProxy refuses to start when it cannot raise its limit that far), and far
    # exceed the connections a point uses.
    maxconn 4096

defaults
    mode http
    # Keep-alive on both sides, as wrk keeps its connections, and idle server
    # connections reused by any client connection.
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client {_KEEPALIVE_S}s
    timeout server {_KEEPALIVE_S}s
    timeout http-keep-alive {_KEEPALIVE_S}s
    # A failed request is an error to count, not to hide behind a retry.
    retries 0

frontend fwbench
    bind {host}:{port}
    default_backend replicas

backend replicas
    balance roundrobin
{servers}
"""


def start_balancer(
    bind: tuple[str, int],
    backends: Sequence[tuple[str, int]],
    *,
    cpus: Sequence[int] | None = None,
) -> ServiceProcess:
    """Start HAProxy in front of ``backends`` and wait until it answers ``/healthz``
    (through a replica).

    Args:
        bind: the address and port to listen on (checked free first).
        backends: the instances, each ``(address, port)``, already answering.
        cpus: CPUs to pin HAProxy to; None: not pinned.

    Raises:
        MissingTool: haproxy is not installed.
        FwbenchError: the port is taken, or HAProxy did not answer in time.
    """
    haproxy = find_haproxy()
    workdir = Path(tempfile.mkdtemp(prefix="fwbench-haproxy-"))
    config = workdir / "haproxy.cfg"
    config.write_text(haproxy_config(bind, backends), encoding="utf-8")
    command = [haproxy, "-db", "-f", str(config)]
    return start_server("haproxy", command, host=bind[0], port=bind[1], cpus=cpus, workdir=workdir)


@contextlib.contextmanager
def replicas_behind_balancer(
    replicas: Sequence[ServiceProcess],
    bind: tuple[str, int],
    *,
    cpus: Sequence[int] | None = None,
) -> Iterator[ServiceProcess]:
    """HAProxy in front of running ``replicas`` for the block; stopped on exit.

    Args:
        replicas: the instances (framework services already answering).
        bind: where HAProxy listens.
        cpus: CPUs to pin HAProxy to; None: not pinned.
    """
    backends = []
    for replica in replicas:
        address, _, port = replica.url.removeprefix("http://").rpartition(":")
        backends.append((address, int(port)))
    with start_balancer(bind, backends, cpus=cpus) as balancer:
        yield balancer
