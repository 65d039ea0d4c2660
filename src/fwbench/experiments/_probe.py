"""A latency prober: samples ``GET /healthz`` from a background thread while a load runs.

``/healthz`` does no I/O, so while a server is loaded its latency is the time a request
waits to be scheduled: on an event loop, the loop's lag. A blocking call inside an
``async def`` route shows up here as lag of the order of the blocked call, while a
well-behaved async server answers in a millisecond or two.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fwbench.harness import http
from fwbench.harness.probes import PeriodicSampler


@dataclass(frozen=True)
class ProbeResult:
    """What the prober saw: the latency of each answered probe (ms, in order) and how
    many probes got no 2xx answer within the timeout."""

    latencies_ms: tuple[float, ...]
    failures: int


class LatencyProbe(PeriodicSampler):
    """Sample ``GET path`` every ``interval_s`` seconds until the ``with`` block ends.

    Args:
        url: base URL of the server, e.g. ``http://127.0.0.1:18801``.
        path: path to probe, default ``/healthz``.
        interval_s: pause between the end of one probe and the next, default 0.1 s.
        timeout_s: a probe without an answer after this long counts as a failure and
            the thread moves on, so the prober always ends (default 5 s).
        cpus: CPUs the probing thread runs on (keep it off the service's CPUs); None
            (default): wherever this process may run.
    """

    def __init__(
        self,
        url: str,
        path: str = "/healthz",
        interval_s: float = 0.1,
        timeout_s: float = 5.0,
        cpus: tuple[int, ...] | None = None,
    ) -> None:
        # The running probe ends by its own timeout at the latest.
        super().__init__("fwbench-probe", interval_s, cpus, join_timeout_s=timeout_s + 1)
        self._url = f"{url}{path}"
        self._timeout = timeout_s
        self._latencies: list[float] = []
        self._failures = 0

    def result(self) -> ProbeResult:
        """The samples taken so far."""
        return ProbeResult(tuple(self._latencies), self._failures)

    def sample(self) -> None:
        started = time.perf_counter()
        # A fresh connection per probe (fwbench.harness.http opens one per request), as a
        # health checker opens: a kept-alive one would be served by the worker that
        # accepted it, hiding the others.
        try:
            ok = http.request("GET", self._url, timeout_s=self._timeout).ok
        except OSError:
            ok = False
        if ok:
            self._latencies.append((time.perf_counter() - started) * 1000)
        else:
            self._failures += 1
