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
cold starts and import time (``fwbench probe start``). The services, wrk and the probes
are :class:`~fwbench.experiments._hosts.HostsSite`'s, shared with ``fwbench claims
--hosts``.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterator, Sequence

from fwbench.experiments._hosts import HostsSite
from fwbench.experiments._running import Running
from fwbench.harness.results import ServiceRun
from fwbench.model._document import StartupPoint
from fwbench.model._sweep import Target


class HostsStand:
    """The sweep across hosts (a :class:`~._sweep.Stand`): every setup on the service
    host of ``site``, the downstream beside it, wrk on every load host.

    Use it in a ``with`` block: leaving it stops the downstream; the services of the
    setups stop with their own blocks.

    Args:
        site: where to measure (:class:`~fwbench.experiments._hosts.HostsSite`).
    """

    def __init__(self, site: HostsSite) -> None:
        self.site = site

    def __enter__(self) -> HostsStand:
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.__exit__(*exc)

    @property
    def service_cores(self) -> int:
        return self.site.service_cores

    @property
    def services(self) -> Sequence[ServiceRun]:
        return self.site.services

    def say(self, line: str) -> None:
        self.site.say(line)

    @contextlib.contextmanager
    def setup(self, target: Target, workers: int | None, threads: int | None) -> Iterator[Running]:
        with self.site.setup(target.framework, target.server, workers, threads) as running:
            yield running

    def startup(self, target: Target, spawns: int) -> StartupPoint:
        _, cold, imported = self.site.cold_starts(target.framework, target.server, spawns)
        return StartupPoint(
            pair=f"{target.framework}/{target.server}",
            cold_start_ms=statistics.median(cold.first_request_ms),
            import_ms=statistics.median(imported.samples_us) / 1000,
        )
