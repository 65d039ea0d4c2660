"""A service started where a run measures, behind one interface: on this machine
(:class:`LocalRunning`) or on a service host with wrk on the load hosts
(:class:`fwbench.experiments._hosts.RemoteRunning`).

The io sessions of ``fwbench claims`` and the sweep of ``fwbench model`` measure through
:class:`Running` only, so they measure the same way on one machine and across hosts.
:func:`start_setup` starts one where the run's :class:`~.context.Context` says.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Protocol

from fwbench.experiments._measure import MemoryFigures, drain, sample_memory
from fwbench.experiments.context import Context
from fwbench.harness.cputime import CpuReading, read_counters
from fwbench.harness.load import LoadSpec, run_load
from fwbench.harness.probes import MemorySampler
from fwbench.harness.process import ServiceProcess
from fwbench.harness.results import LoadSample, MemoryProfile
from fwbench.harness.servers import ServerConfig


class Sampler(Protocol):
    """The memory sampler of a running service, for the length of a ``with`` block
    (:class:`~fwbench.harness.probes.MemorySampler` here,
    :class:`~fwbench.harness.remote_probes.RemoteMemorySampler` on a service host)."""

    def steady(self) -> None:
        """Count the samples from now on as the steady state under load."""
        ...

    def profile(self) -> MemoryProfile | None:
        """The profile of the samples so far; None when there was none."""
        ...


class Running(Protocol):
    """A service started where the run measures."""

    @property
    def config(self) -> ServerConfig:
        """Its server configuration, as started."""
        ...

    @property
    def url(self) -> str:
        """Where wrk loads it (and where this machine reaches it)."""
        ...

    @property
    def token(self) -> str:
        """Its API token, for the scenarios that authenticate."""
        ...

    def counters(self) -> CpuReading:
        """The CPU-time counters of its process tree and of its CPUs now, read where it
        runs (:mod:`fwbench.harness.cputime`)."""
        ...

    def load(self, spec: LoadSpec) -> LoadSample:
        """Run ``spec`` (its CPUs and threads are the stand's to choose) and return what
        wrk measured (merged from every load generator)."""
        ...

    def drain(self) -> None:
        """Wait until it answers again after a load."""
        ...

    def idle_memory(self, seconds: float) -> MemoryFigures:
        """Its memory sampled for ``seconds`` without load."""
        ...

    def memory(self) -> AbstractContextManager[Sampler]:
        """Its memory sampled for the length of a ``with`` block, off its CPUs."""
        ...


class LocalRunning:
    """A service started on this machine through ``context``: wrk on the load CPUs,
    memory and CPU time read here."""

    def __init__(self, context: Context, service: ServiceProcess) -> None:
        self._context = context
        self._service = service
        config = service.config
        assert config is not None  # Context refuses a service without one
        self.config = config
        self.url = service.url
        self.token = service.env["API_TOKEN"]

    def counters(self) -> CpuReading:
        return read_counters(self._service, self._context.placement.service_cpus)

    def load(self, spec: LoadSpec) -> LoadSample:
        cpus = self._context.placement.load_cpus
        return run_load(replace(spec, threads=min(len(cpus), spec.connections), cpus=cpus))

    def drain(self) -> None:
        drain(self._service)

    def idle_memory(self, seconds: float) -> MemoryFigures:
        return sample_memory(self._context, self._service, seconds)

    def memory(self) -> AbstractContextManager[Sampler]:
        return MemorySampler(self._service, cpus=self._context.placement.load_cpus)


@contextlib.contextmanager
def start_setup(
    context: Context,
    framework: str,
    server: str | None,
    *,
    workers: int | None = None,
    threads: int | None = None,
) -> Iterator[Running]:
    """Start ``framework`` on ``server`` with the lab endpoints on where ``context``
    measures: on its service host when it runs across hosts (``--hosts``), else here
    (:meth:`~.context.Context.service`); stop it on leaving the block.

    Args:
        context: the run's context.
        framework: ``fastapi``, ``flask`` or ``django``.
        server: the server; None: the framework's canonical one.
        workers: worker processes; None (default): the server's documented rule.
        threads: threads per worker; None (default): the documented rule.
    """
    if context.hosts is not None:
        with context.hosts.setup(framework, server, workers, threads) as remote:
            yield remote
        return
    with context.service(framework, server, workers=workers, threads=threads) as service:
        yield LocalRunning(context, service)
