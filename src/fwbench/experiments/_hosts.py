"""Measuring across hosts (``--hosts``, docs/hosts.md): services and the downstream on the
first service host, wrk on every load host at once, what is read of the service read on
its host by ``fwbench probe``.

:class:`HostsSite` is where ``fwbench claims --hosts`` and ``fwbench model --hosts``
measure. It starts a setup there as a :class:`RemoteRunning` (the same
:class:`~._running.Running` interface as a service started here), times cold starts
there (``fwbench probe start``), and runs whole on the service host, with
:meth:`HostsSite.run_whole`, the experiments that read the service's own processes or
run its code (:attr:`~.model.Experiment.whole_on_service_host`).
"""

from __future__ import annotations

import contextlib
import json
import shlex
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any, Final

from fwbench.contract import LAB_FLAG
from fwbench.experiments._measure import (
    DRAIN_TIMEOUT_S,
    MeasurementFailed,
    MemoryFigures,
    memory_figures,
)
from fwbench.experiments._running import Running, Sampler
from fwbench.experiments.model import Experiment, Plan
from fwbench.experiments.runner import ExperimentRecord, claims_report
from fwbench.harness.cputime import CpuReading
from fwbench.harness.generators import Generator, run_generators
from fwbench.harness.hosts import HostsFile
from fwbench.harness.hosts_run import HostsLayout
from fwbench.harness.load import LoadSpec
from fwbench.harness.machine import format_cpu_list
from fwbench.harness.process import PortRotation
from fwbench.harness.remote import (
    Remote,
    RemoteError,
    RemoteService,
    start_remote_downstream,
    start_remote_service,
)
from fwbench.harness.remote_probes import (
    RemoteCpuCounters,
    RemoteMemorySampler,
    remote_cold_starts,
)
from fwbench.harness.results import (
    ColdStart,
    ImportTime,
    LoadSample,
    Results,
    ResultsFormatError,
    ServiceRun,
)
from fwbench.harness.servers import ServerConfig, canonical_server, configure

#: Seconds between memory samples at rest (as :func:`~._measure.sample_memory`).
_IDLE_INTERVAL_S: Final = 0.2

#: Seconds an experiment run whole on the service host may take beyond its budget:
#: interpreter and downstream start-up, and a slower host than the budget assumes.
_WHOLE_SLACK_S: Final = 600
#: How many times its budget an experiment run whole on the service host may take.
_WHOLE_BUDGETS: Final = 3
#: Seconds ``fwbench claims`` on the service host may take to exit once its output ended.
_FINISH_S: Final = 60


class RemoteRunning:
    """A setup started on the service host (a :class:`~._running.Running`): wrk on every
    load host at once, its CPU time and memory read on its host."""

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
        # Each load host's wrk keeps its own CPUs and threads (run_generators); a run with
        # fewer connections than load hosts uses the first ones, one connection each.
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


class HostsSite:
    """Services on the first service host of ``hosts``, the downstream beside them on
    its spare CPUs, wrk on every load host. Use it in a ``with`` block: leaving it stops
    the downstream; each setup stops with its own block.

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
        self.say = say
        self.host = remotes[hosts.service[0]]
        #: Every service started, in order, as the results file records it.
        self.services: list[ServiceRun] = []
        self._port = PortRotation(ports)
        self._generators = layout.generators(remotes)
        self._stack = contextlib.ExitStack()
        self._downstream: RemoteService | None = None

    def __enter__(self) -> HostsSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def service_cores(self) -> int:
        """Cores each setup runs on: what server configurations are sized for."""
        return len(self.layout.placement.service_cpus)

    def downstream_url(self) -> str:
        """The downstream on the service host, off the service's CPUs, started on first use."""
        if self._downstream is None:
            self._downstream = self._stack.enter_context(
                start_remote_downstream(self.host, self._port(), cpus=self.layout.spare_cpus)
            )
        return self._downstream.url

    def _start(
        self,
        framework: str,
        server: str | None,
        workers: int | None,
        threads: int | None,
        extra_env: Mapping[str, str] | None = None,
    ) -> RemoteService:
        cpus = self.layout.placement.service_cpus
        return start_remote_service(
            self.host,
            configure(
                framework, server or canonical_server(framework), len(cpus), workers, threads
            ),
            self._port(),
            cpus=cpus,
            database_url=self.hosts.database,
            downstream_url=self.downstream_url(),
            extra_env=extra_env,
        )

    @contextlib.contextmanager
    def setup(
        self, framework: str, server: str | None, workers: int | None, threads: int | None
    ) -> Iterator[Running]:
        """Start ``framework`` on ``server`` (None: its canonical one) with ``workers``
        and ``threads`` (None: the server's rule) and the lab routes on, for the length of
        a ``with`` block."""
        spare = self.layout.spare_cpus
        with (
            self._start(framework, server, workers, threads, {LAB_FLAG: "1"}) as service,
            RemoteCpuCounters(service, cpus=spare) as counters,
        ):
            self.services.append(service.service_run())
            yield RemoteRunning(service, counters, self._generators, spare)

    def cold_starts(
        self, framework: str, server: str | None, spawns: int
    ) -> tuple[ServerConfig, ColdStart, ImportTime]:
        """Time ``spawns`` cold starts of ``framework`` on ``server`` (the server's rule)
        on the service host, then its import time (``fwbench probe start``). One start
        prepares the database first, as a local run's unmeasured first spawn does, and is
        halted before the timed ones."""
        with self._start(framework, server, None, None) as service:
            assert service.config is not None, "a framework service has its configuration"
            self.say(f"cold start: {service.name} on {self.host.url}")
            service.halt()
            cold, imported = remote_cold_starts(
                service,
                spawns,
                workers=None,
                downstream_url=self.downstream_url(),
                ports=self.ports,
            )
            return service.config, cold, imported

    def run_whole(self, experiment: Experiment[Any], plan: Plan, quick: bool) -> ExperimentRecord:
        """Run ``experiment`` whole on the service host: ``fwbench claims --only NAME
        --progress-only`` there (its services on the host's service CPUs, its downstream,
        probes and wrk on the others), each line of progress it prints passed to ``say``,
        and its record read back, marked with the host it ran on, for the caller to print
        and keep. Its services join :attr:`services`.

        Raises:
            RemoteError: it could not run there or wrote no record (its last line quoted).
        """
        host = self.host
        workdir = host.run("mktemp -d /tmp/fwbench-claims-XXXXXXXX").strip()
        output = f"{workdir}/claims.json"
        argv = [host.python, "-m", "fwbench", "claims", "--only", experiment.name]
        argv += ["--output", output, "--progress-only", *(["--quick"] if quick else [])]
        # The CPUs the experiments loaded from the load hosts use there (the hosts file's
        # `cpus`, else the halves): its services on the service CPUs, the rest on the others.
        argv += ["--service-cpus", format_cpu_list(self.layout.placement.service_cpus)]
        argv += ["--load-cpus", format_cpu_list(self.layout.spare_cpus)]
        if self.hosts.database is not None:
            argv += ["--database", self.hosts.database]
        command = shlex.join(["fwbench", *argv[3:]])
        self.say(f"{experiment.name}: `{command}` on {host.url}")
        process = host.start(argv, {})
        allowed_s = _WHOLE_BUDGETS * plan.budget_s + _WHOLE_SLACK_S
        deadline = time.monotonic() + allowed_s
        try:
            while (line := process.next_line(max(0.0, deadline - time.monotonic()))) is not None:
                if line:  # its lines of progress, which the record does not keep
                    self.say(f"{host.url}: {line}")
            if time.monotonic() >= deadline:
                raise RemoteError(
                    f"{experiment.name} did not finish on {host.url} within {allowed_s:.0f} s",
                    "check that the host is not overloaded, then rerun",
                )
            status, _, stderr = process.finish(_FINISH_S)
            text = host.run(f"cat {shlex.quote(output)} 2>/dev/null || true")
        finally:
            process.stop()
            with contextlib.suppress(RemoteError):
                host.run(f"rm -rf {shlex.quote(workdir)}")
        record = self._record(experiment.name, text)
        if record is None:
            lines = [line.removeprefix("Error: ") for line in stderr.splitlines() if line.strip()]
            raise RemoteError(
                f"{experiment.name} wrote no record on {host.url}: "
                f"{lines[-1] if lines else f'exit status {status}'}",
                f"run `{command}` there to see why",
            )
        return replace(record, ran_on=host.url)

    def _record(self, name: str, text: str) -> ExperimentRecord | None:
        """The record of ``name`` in the results file text ``text`` (None: none), its
        services added to :attr:`services` with the host they ran on."""
        try:
            results = Results.parse(json.loads(text), f"the results of {name} on {self.host.url}")
        except (ResultsFormatError, ValueError):
            return None
        self.services += [replace(run, host=self.host.url) for run in results.services]
        report = claims_report(results)
        found = [r for r in report.experiments if r.name == name] if report else []
        return found[0] if found else None
