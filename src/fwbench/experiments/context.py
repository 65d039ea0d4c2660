"""What an experiment runs with: options, CPU placement, ports, the downstream, and a
log of every service it started.

Every server an experiment needs is started through :meth:`Context.service` (the
harness's :func:`~fwbench.harness.process.start_service`, with the lab endpoints on and
pinned to the service CPUs), so the command lines of everything measured end up in the
results file. One downstream serves the whole ``fwbench claims`` run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final, TypeVar, cast

from fwbench.contract import LAB_FLAG
from fwbench.harness.errors import FwbenchError
from fwbench.harness.machine import default_placement
from fwbench.harness.process import (
    PortRotation,
    ServiceProcess,
    service_run,
    start_downstream,
    start_service,
)
from fwbench.harness.results import Placement, ServiceRun

if TYPE_CHECKING:
    from fwbench.experiments._hosts import HostsSite

T = TypeVar("T")

#: TCP ports the experiments use (fwbench claims' own range, away from `fwbench serve`'s).
PORTS: Final = range(18800, 18900)
#: TCP ports of the service host for the services ``fwbench claims --hosts`` loads from
#: the load hosts: away from :data:`PORTS`, which the experiments it runs whole on that
#: host use there.
HOSTS_PORTS: Final = range(19000, 19100)


class Context:
    """The environment experiments run in. A context manager: leaving it stops the
    downstream (here, or on the service host across hosts).

    Args:
        quick: run the short ``--quick`` variant of every experiment.
        state_dir: directory for the SQLite files of the default database.
        database: base PostgreSQL URL (``--database``), None for SQLite per service.
        placement: CPUs of the service and of the load; None: the harness's default
            (:func:`~fwbench.harness.machine.default_placement`).
        say: prints one line of progress (default: discard it).
        ports: the TCP ports to use, default :data:`PORTS`.
        hosts: where to measure across hosts (``--hosts``); None (default): here. With
            hosts, the io sessions' services and cold starts run on its service host
            (:func:`~._running.start_setup`), and the experiments that need the service's
            own processes run whole there (:meth:`~._hosts.HostsSite.run_whole`).
    """

    def __init__(
        self,
        *,
        quick: bool,
        state_dir: Path,
        database: str | None = None,
        placement: Placement | None = None,
        say: Callable[[str], None] = lambda line: None,
        ports: range = PORTS,
        hosts: HostsSite | None = None,
    ) -> None:
        self.quick = quick
        self.state_dir = state_dir
        self.database = database
        self.placement = placement if placement is not None else default_placement()
        self.say = say
        #: A free port of the range for each call, rotating (:class:`PortRotation`).
        self.port = PortRotation(ports)
        self._stack = ExitStack()
        self._downstream: ServiceProcess | None = None
        self.hosts = hosts
        if hosts is not None:
            self._stack.push(hosts)  # leaving the context stops the downstream on the host
        #: Every service start, in order, as the results file records it.
        self.services: list[ServiceRun] = hosts.services if hosts is not None else []
        #: Measurements shared between experiments, by a key naming what was measured.
        self.shared: dict[tuple[object, ...], object] = {}

    def __enter__(self) -> Context:
        return self

    def measure_once(self, key: tuple[object, ...], measure: Callable[[], T]) -> T:
        """``measure()`` the first time this run asks for ``key``; later, its result or
        the :class:`FwbenchError` it raised, so the experiments that share a measurement
        neither repeat nor retry it. ``key`` names what is measured and how."""
        if key in self.shared:
            found = self.shared[key]
            if isinstance(found, FwbenchError):
                raise found
            return cast(T, found)
        try:
            result = measure()
        except FwbenchError as error:
            self.shared[key] = error
            raise
        self.shared[key] = result
        return result

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    @property
    def service_cores(self) -> int:
        """Cores the service runs on: what server configurations are sized for."""
        return len(self.placement.service_cpus)

    def downstream_url(self) -> str:
        """The URL of the run's downstream, started on the load CPUs on first use."""
        if self._downstream is None:
            self._downstream = self._stack.enter_context(
                start_downstream(port=self.port(), cpus=self.placement.load_cpus)
            )
        return self._downstream.url

    @contextlib.contextmanager
    def service(
        self,
        framework: str,
        server: str | None = None,
        *,
        workers: int | None = None,
        threads: int | None = None,
        env: Mapping[str, str] | None = None,
        bootstrap: bool = True,
    ) -> Iterator[ServiceProcess]:
        """Start ``framework`` under ``server`` with the lab endpoints on, pinned to the
        service CPUs; stop it (and every worker) on leaving the block.

        Args:
            framework: ``fastapi``, ``flask`` or ``django``.
            server: server name; None (default): the framework's canonical server.
            workers: worker processes; None (default): the server's documented rule.
            threads: threads per worker; None (default): the documented rule.
            env: more environment variables for the service (default none).
            bootstrap: create and seed the database first (default True).
        """
        process = start_service(
            framework,
            port=self.port(),
            server=server,
            workers=workers,
            threads=threads,
            cores=self.service_cores,
            database_url=self.database,
            downstream_url=self.downstream_url(),
            extra_env={LAB_FLAG: "1", **(env or {})},
            cpus=self.placement.service_cpus,
            bootstrap=bootstrap,
            state_dir=self.state_dir,
        )
        with process:
            self.services.append(service_run(process, self.placement.service_cpus))
            yield process
