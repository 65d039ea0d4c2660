"""``fwbench model --hosts FILE``: the model's sweep with the service and the downstream on
the first service host and wrk on every load host at once (docs/model.md, docs/hosts.md).

The hosts are connected, checked and surveyed as ``fwbench run --hosts`` does
(:func:`~fwbench.harness.hosts_run.survey_hosts`): the service on the upper half of the
service host's CPUs, the downstream and the probes on the rest, each load host's wrk on
the lower half of its own CPUs. Each wrk run is one wrk per load host, all at once,
merged from their histograms (:func:`~fwbench.harness.generators.run_generators`); a run
with fewer connections than load hosts uses the first ones (one connection each). What
the model reads of the service is read on the service host: the CPU-time counters of its
process tree and CPUs (``fwbench probe cpu``), its memory (``fwbench probe memory``), its
cold starts and import time (``fwbench probe start``), by
:mod:`~fwbench.harness.remote_probes`.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager

from fwbench.contract import LAB_FLAG
from fwbench.experiments._measure import (
    DRAIN_TIMEOUT_S,
    MeasurementFailed,
    MemoryFigures,
    memory_figures,
)
from fwbench.harness.cputime import CpuReading
from fwbench.harness.generators import Generator, run_generators
from fwbench.harness.hosts import HostsFile
from fwbench.harness.hosts_run import HostsLayout
from fwbench.harness.load import LoadSpec
from fwbench.harness.process import PortRotation
from fwbench.harness.remote import (
    Remote,
    RemoteService,
    start_remote_downstream,
    start_remote_service,
)
from fwbench.harness.remote_probes import (
    RemoteCpuCounters,
    RemoteMemorySampler,
    remote_cold_starts,
)
from fwbench.harness.results import LoadSample, ServiceRun
from fwbench.harness.servers import ServerConfig, configure
from fwbench.model._document import StartupPoint
from fwbench.model._sweep import Running, Sampler, Target

#: Seconds between memory samples at rest (as :func:`~fwbench.experiments._measure.sample_memory`).
_IDLE_INTERVAL_S = 0.2


class _RemoteRunning:
    """A setup started on the service host (a :class:`~._sweep.Running`)."""

    def __init__(
        self,
        service: RemoteService,
        counters: RemoteCpuCounters,
        generators: list[Generator],
        probe_cpus: tuple[int, ...],
    ) -> None:
        config = service.config
        assert config is not None, "a framework service has its configuration"
        self.config: ServerConfig = config
        self.url = service.url
        self.token = service.env["API_TOKEN"]
        self._service = service
        self._counters = counters
        self._generators = generators
        self._probe_cpus = probe_cpus

    def counters(self) -> CpuReading:
        return self._counters.read()

    def load(self, spec: LoadSpec) -> LoadSample:
        # Each load host's wrk keeps its own CPUs and threads (run_generators).
        return run_generators(spec, self._generators[: spec.connections])

    def drain(self) -> None:
        if not self._service.answers(DRAIN_TIMEOUT_S):
            raise MeasurementFailed(
                f"{self._service.name} did not answer /healthz within {DRAIN_TIMEOUT_S:.0f} s "
                f"after a load on {self._service.remote.url}",
                "check its log on the host; the server may be stuck",
            )

    def idle_memory(self, seconds: float) -> MemoryFigures:
        with RemoteMemorySampler(
            self._service, cpus=self._probe_cpus, interval_s=_IDLE_INTERVAL_S
        ) as sampler:
            sampler.steady()
            time.sleep(seconds)
        profile = sampler.profile()
        if sampler.error is not None:
            raise sampler.error
        if profile is None:
            raise MeasurementFailed(
                f"could not read the memory of {self._service.name}'s processes on "
                f"{self._service.remote.url}",
                "check that /proc is readable there (psutil memory_full_info)",
            )
        return memory_figures(profile)

    def memory(self) -> AbstractContextManager[Sampler]:
        return self._sampling()

    @contextlib.contextmanager
    def _sampling(self) -> Iterator[Sampler]:
        with RemoteMemorySampler(self._service, cpus=self._probe_cpus) as sampler:
            yield sampler
        if sampler.error is not None:
            raise sampler.error


class HostsStand:
    """The sweep across hosts (a :class:`~._sweep.Stand`): every setup on the first
    service host of ``hosts``, the downstream beside it, wrk on every load host.

    Use it in a ``with`` block: leaving it stops the downstream; the services of the
    setups stop with their own blocks.

    Args:
        hosts: the hosts file.
        remotes: a connection to every host (:func:`~fwbench.harness.remote.connect_all`).
        layout: what :func:`~fwbench.harness.hosts_run.survey_hosts` found.
        ports: TCP ports to use on the service host; None: ones free here.
        say: prints one line of progress.
    """

    def __init__(
        self,
        hosts: HostsFile,
        remotes: Mapping[str, Remote],
        layout: HostsLayout,
        *,
        ports: range | None,
        say: Callable[[str], None],
    ) -> None:
        self.hosts = hosts
        self.layout = layout
        self.ports = ports
        self._say = say
        self._host = remotes[hosts.service[0]]
        self._port = PortRotation(ports)
        self._generators = layout.generators(remotes)
        self._stack = contextlib.ExitStack()
        self._downstream: RemoteService | None = None
        self._services: list[ServiceRun] = []

    def __enter__(self) -> HostsStand:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def service_cores(self) -> int:
        return len(self.layout.placement.service_cpus)

    @property
    def services(self) -> Sequence[ServiceRun]:
        return self._services

    def say(self, line: str) -> None:
        self._say(line)

    def _downstream_url(self) -> str:
        """The downstream on the service host, off the service's CPUs, started on first use."""
        if self._downstream is None:
            self._downstream = self._stack.enter_context(
                start_remote_downstream(self._host, self._port(), cpus=self.layout.spare_cpus)
            )
        return self._downstream.url

    def _start(
        self,
        target: Target,
        workers: int | None,
        threads: int | None,
        extra_env: Mapping[str, str] | None = None,
    ) -> RemoteService:
        cpus = self.layout.placement.service_cpus
        return start_remote_service(
            self._host,
            configure(target.framework, target.server, len(cpus), workers, threads),
            self._port(),
            cpus=cpus,
            database_url=self.hosts.database,
            downstream_url=self._downstream_url(),
            extra_env=extra_env,
        )

    @contextlib.contextmanager
    def setup(self, target: Target, workers: int | None, threads: int | None) -> Iterator[Running]:
        spare = self.layout.spare_cpus
        with (
            self._start(target, workers, threads, {LAB_FLAG: "1"}) as service,
            RemoteCpuCounters(service, cpus=spare) as counters,
        ):
            self._services.append(service.service_run())
            yield _RemoteRunning(service, counters, self._generators, spare)

    def startup(self, target: Target, spawns: int) -> StartupPoint:
        # The spawns need a prepared database: one start prepares it, as the local sweep's
        # unmeasured first spawn does, and is halted before the timed ones.
        self.say(f"cold start: {target.framework} {target.server} on {self._host.url}")
        with self._start(target, None, None) as service:
            service.halt()
            cold, imported = remote_cold_starts(
                service,
                spawns,
                workers=None,
                downstream_url=self._downstream_url(),
                ports=self.ports,
            )
        return StartupPoint(
            pair=f"{target.framework}/{target.server}",
            cold_start_ms=statistics.median(cold.first_request_ms),
            import_ms=statistics.median(imported.samples_us) / 1000,
        )
