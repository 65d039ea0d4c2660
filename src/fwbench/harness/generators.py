"""Several load generators on one service at once, merged honestly.

One wrk on one machine caps every figure at what that machine can generate. A point can
instead be loaded by N wrk processes at once (on CPUs of this machine, or on load hosts,
:mod:`fwbench.harness.remote`), each with its share of the connections. Their figures are
merged the way one wrk would have reported them had it made every request:

* latencies from the **sum of their histograms**, bucket by bucket: each wrk's reporter
  prints every non-empty 1-microsecond bucket of its histogram (``histogram_us``,
  ``lua/fwbench_report.lua``), and :class:`Histogram` computes percentiles, mean and
  standard deviation from the sum with wrk's own rules (``src/stats.c``). Averaging
  percentiles is never done: the mean of two p99s is the p99 of nothing;
* counts, bytes, statuses and errors summed; throughput the sum of each wrk's own;
* the mean of the measured latencies (wrk's coordinated-omission correction undone)
  weighted by each wrk's responses, since each reporter undid its own correction;
* each wrk's own sample kept (:class:`~.results.GeneratorRun`), so its ceiling can be
  checked against its own calibration (:func:`fwbench.harness.sanity.generators_bound`).

wrk corrects each histogram with its own connection's interval before printing it, so
the merged percentiles are of the corrected distribution, exactly as a single wrk's are.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Protocol

from fwbench.harness.load import LoadError, LoadSpec, WrkProcess, parse_wrk_report
from fwbench.harness.results import GeneratorRun, Latency, LoadSample, SocketErrors


@dataclass(frozen=True)
class Histogram:
    """A latency histogram as wrk keeps it: 1-microsecond buckets.

    Attributes:
        buckets: ``(microseconds, count)`` of every non-empty bucket, ascending.
    """

    buckets: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        values = [value for value, _ in self.buckets]
        if values != sorted(set(values)) or any(n < 1 or v < 0 for v, n in self.buckets):
            raise ValueError("histogram buckets must be distinct, ascending, with positive counts")

    @classmethod
    def merge(cls, histograms: Iterable[Histogram]) -> Histogram:
        """The histogram of every sample of ``histograms``: counts added bucket by bucket."""
        total: Counter[int] = Counter()
        for histogram in histograms:
            total.update(dict(histogram.buckets))
        return cls(tuple(sorted(total.items())))

    @property
    def count(self) -> int:
        """Samples in the histogram."""
        return sum(n for _, n in self.buckets)

    def percentile(self, p: float) -> int:
        """The ``p``-th percentile as wrk computes it (``stats_percentile``): the first
        bucket where the running count reaches ``round(p / 100 x count + 0.5)``; 0 for an
        empty histogram.

        Args:
            p: the percentile, 0-100.
        """
        # wrk's round(x) rounds halves away from zero: floor(x + 0.5) for a positive x.
        rank = math.floor((p / 100.0 * self.count + 0.5) + 0.5)
        running = 0
        for value, n in self.buckets:
            running += n
            if running >= rank:
                return value
        return 0

    def latency(self, uncorrected_mean: float | None) -> Latency:
        """wrk's summary of this histogram (``stats_mean``, ``stats_stdev``: the sample
        standard deviation).

        Args:
            uncorrected_mean: the mean of the measured latencies, which a histogram
                corrected for coordinated omission cannot give; None when unknown.
        """
        count = self.count
        mean = sum(v * n for v, n in self.buckets) / count if count else 0.0
        squares = sum((v - mean) ** 2 * n for v, n in self.buckets)
        return Latency(
            p50=self.percentile(50),
            p75=self.percentile(75),
            p90=self.percentile(90),
            p99=self.percentile(99),
            p99_9=self.percentile(99.9),
            max=self.buckets[-1][0] if self.buckets else 0,
            mean=mean,
            stdev=math.sqrt(squares / (count - 1)) if count > 1 else 0.0,
            uncorrected_mean=uncorrected_mean,
        )


class WrkRun(Protocol):
    """A wrk started somewhere, which :func:`run_generators` waits for."""

    def output(self) -> str:
        """Wait for wrk and return its standard output (raises LoadError on failure)."""
        ...

    def stop(self) -> None:
        """Stop wrk if it still runs; idempotent."""
        ...


def _start_here(spec: LoadSpec) -> WrkRun:
    return WrkProcess(spec, histogram=True)


@dataclass(frozen=True)
class Generator:
    """Where one wrk runs.

    Attributes:
        cpus: CPUs it is pinned to; None: not pinned.
        host: the load host's name as recorded (``ssh://user@host``); None: this machine.
        start: starts wrk for a spec with the histogram reporter on; default: a local
            :class:`~.load.WrkProcess`. :mod:`fwbench.harness.remote` starts it over SSH.
        threads: wrk threads at most (one per CPU of a load host's own); None: the spec's.
    """

    cpus: tuple[int, ...] | None = None
    host: str | None = None
    start: Callable[[LoadSpec], WrkRun] = _start_here
    threads: int | None = None


def split_connections(connections: int, generators: int) -> list[int]:
    """``connections`` shared as evenly as possible, the first generators taking the rest.

    Raises:
        ValueError: fewer connections than generators.
    """
    if generators < 1 or connections < generators:
        raise ValueError(
            f"{connections} connections cannot be shared by {generators} load generators"
        )
    share, rest = divmod(connections, generators)
    return [share + (1 if i < rest else 0) for i in range(generators)]


def merge_samples(parts: Sequence[tuple[GeneratorRun, Histogram]]) -> LoadSample:
    """One sample of several wrk runs made at once (see the module's docstring).

    Args:
        parts: each generator's run and its latency histogram; at least two.
    """
    samples = [run.sample for run, _ in parts]
    statuses: Counter[int] = Counter()
    for sample in samples:
        statuses.update(dict(sample.statuses))
    requests = sum(s.requests for s in samples)
    means = [s.latency_us.uncorrected_mean for s in samples]
    uncorrected = (
        sum(m * s.requests for m, s in zip(means, samples, strict=True) if m is not None) / requests
        if requests and None not in means
        else None
    )
    return LoadSample(
        requests=requests,
        duration_us=max(s.duration_us for s in samples),
        bytes=sum(s.bytes for s in samples),
        errors=SocketErrors(
            connect=sum(s.errors.connect for s in samples),
            read=sum(s.errors.read for s in samples),
            write=sum(s.errors.write for s in samples),
            timeout=sum(s.errors.timeout for s in samples),
        ),
        statuses=dict(sorted(statuses.items())),
        latency_us=Histogram.merge(h for _, h in parts).latency(uncorrected),
        generators=tuple(run for run, _ in parts),
    )


def _start_all(generators: Sequence[Generator], specs: Sequence[LoadSpec]) -> list[WrkRun]:
    """Start every generator's wrk at once. A start over SSH waits for the host's guard to
    report its process (a Python start-up, 0.1 s or more), so one after the other the last
    wrk would begin that much later per host before it and the runs would not overlap: the
    summed throughput would count stretches where fewer generators loaded the service.
    If a start fails, the ones that started are stopped and its error raised."""
    if len(generators) == 1:
        return [generators[0].start(specs[0])]
    with ThreadPoolExecutor(max_workers=len(generators)) as pool:
        futures = [
            pool.submit(generator.start, each)
            for generator, each in zip(generators, specs, strict=True)
        ]
        wait(futures)
    started = [future.result() for future in futures if future.exception() is None]
    for future in futures:
        error = future.exception()
        if error is not None:
            for run in started:
                run.stop()
            raise error
    return started


def run_generators(spec: LoadSpec, generators: Sequence[Generator]) -> LoadSample:
    """Load ``spec``'s URL from every generator at once and merge what they measured.

    Args:
        spec: the run; its ``connections`` are shared among the generators
            (:func:`split_connections`), each keeping ``spec.threads`` threads at most
            (or its own ``threads``), and its ``cpus`` replaced by each generator's.
        generators: where the wrk processes run; one gives that wrk's own sample.

    Raises:
        LoadError: a wrk failed, or its reporter could not read its histogram.
        ValueError: fewer connections than generators.
    """
    shares = split_connections(spec.connections, len(generators))
    specs = [
        replace(
            spec,
            connections=share,
            threads=min(generator.threads or spec.threads, share),
            cpus=generator.cpus,
        )
        for generator, share in zip(generators, shares, strict=True)
    ]
    started = _start_all(generators, specs)
    try:
        outputs = [run.output() for run in started]
    finally:
        for run in started:
            run.stop()
    parts = []
    for generator, each, output in zip(generators, specs, outputs, strict=True):
        sample, buckets = parse_wrk_report(output)
        if buckets is None:
            raise LoadError(
                f"wrk on {generator.host or 'this machine'} printed no latency histogram, so "
                "the generators' latencies cannot be merged",
                "use wrk 4 built with LuaJIT (Debian's wrk package), whose histogram "
                "fwbench's reporter reads",
            )
        record = GeneratorRun(
            host=generator.host, cpus=each.cpus, connections=each.connections, sample=sample
        )
        parts.append((record, Histogram(buckets)))
    if len(parts) == 1:
        return parts[0][0].sample
    return merge_samples(parts)
