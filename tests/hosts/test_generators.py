"""Several load generators on one service: histogram merging, exactly, and real wrk runs."""

from __future__ import annotations

import pytest

from fwbench.harness.documents import dump, load
from fwbench.harness.generators import (
    Generator,
    Histogram,
    merge_samples,
    run_generators,
    split_connections,
)
from fwbench.harness.load import LoadSpec, WrkProcess, parse_wrk_report
from fwbench.harness.process import start_downstream
from fwbench.harness.results import (
    CalibrationLevel,
    GeneratorRun,
    Latency,
    LoadSample,
    SocketErrors,
)
from fwbench.harness.sanity import generators_bound

#: TCP ports of these tests (the hosts tests' range is 19400-19499).
DOWNSTREAM_PORT = 19410


def sample(requests: int, duration_us: int, uncorrected_mean: float | None) -> LoadSample:
    return LoadSample(
        requests=requests,
        duration_us=duration_us,
        bytes=requests * 100,
        errors=SocketErrors(connect=0, read=1, write=0, timeout=0),
        statuses={200: requests},
        latency_us=Latency(
            p50=1, p75=1, p90=1, p99=1, p99_9=1, max=1, mean=1.0, stdev=0.0,
            uncorrected_mean=uncorrected_mean,
        ),
    )  # fmt: skip


def test_percentiles_follow_wrks_rank_rule() -> None:
    # 10 samples: wrk's rank for p50 is round(5.5) = 6, for p90 round(9.5) = 10.
    histogram = Histogram(tuple((v, 1) for v in range(100, 1100, 100)))
    assert histogram.percentile(50) == 600
    assert histogram.percentile(90) == 1000
    assert histogram.percentile(99) == 1000
    assert Histogram(()).percentile(50) == 0


def test_merging_adds_buckets_and_never_averages_percentiles() -> None:
    fast = Histogram(((100, 50), (200, 50)))
    slow = Histogram(((200, 20), (300, 80)))
    merged = Histogram.merge([fast, slow])
    assert merged.buckets == ((100, 50), (200, 70), (300, 80))
    latency = merged.latency(uncorrected_mean=None)
    # 200 samples: p50 is the 101st (200 us); the mean of the two p50s would be 250.
    assert (fast.percentile(50), slow.percentile(50)) == (200, 300)
    assert latency.p50 == 200
    assert latency.p75 == 300
    assert latency.max == 300
    assert latency.mean == pytest.approx((100 * 50 + 200 * 70 + 300 * 80) / 200)
    squares = 50 * (100 - 215) ** 2 + 70 * (200 - 215) ** 2 + 80 * (300 - 215) ** 2
    assert latency.stdev == pytest.approx((squares / 199) ** 0.5)


def test_histogram_refuses_unsorted_buckets() -> None:
    with pytest.raises(ValueError, match="ascending"):
        Histogram(((200, 1), (100, 1)))
    with pytest.raises(ValueError, match="positive counts"):
        Histogram(((100, 0),))


def test_merged_sample_sums_counts_and_throughputs() -> None:
    a = GeneratorRun(host=None, cpus=(0,), connections=3, sample=sample(3000, 1_000_000, 900.0))
    b = GeneratorRun(host=None, cpus=(1,), connections=2, sample=sample(1000, 2_000_000, 1500.0))
    merged = merge_samples(
        [(a, Histogram(((800, 3000),))), (b, Histogram(((1500, 1000), (1600, 10))))]
    )
    assert merged.requests == 4000
    assert merged.bytes == 400_000
    assert merged.duration_us == 2_000_000
    assert merged.errors.read == 2
    assert merged.statuses == {200: 4000}
    # each wrk's own rate summed: 3000/s + 500/s, not 4000 requests / 2 s
    assert merged.throughput == pytest.approx(3500)
    assert merged.latency_us.uncorrected_mean == pytest.approx((3000 * 900 + 1000 * 1500) / 4000)
    assert merged.latency_us.p99 == 1500
    assert merged.latency_us.max == 1600
    assert merged.generators == (a, b)
    assert load(LoadSample, dump(merged)) == merged


def test_merged_mean_is_unknown_when_one_generator_timed_out() -> None:
    a = GeneratorRun(host=None, cpus=None, connections=1, sample=sample(10, 1_000_000, 5.0))
    b = GeneratorRun(host=None, cpus=None, connections=1, sample=sample(10, 1_000_000, None))
    merged = merge_samples([(a, Histogram(((5, 10),))), (b, Histogram(((6, 10),)))])
    assert merged.latency_us.uncorrected_mean is None


def test_a_merged_sample_must_match_its_generators() -> None:
    a = GeneratorRun(host=None, cpus=None, connections=1, sample=sample(10, 1_000_000, 5.0))
    data = dump(merge_samples([(a, Histogram(((5, 10),))), (a, Histogram(((5, 10),)))]))
    assert isinstance(data, dict)
    data["requests"] = 21
    data["statuses"] = {"200": 21}
    with pytest.raises(ValueError, match="generators' sums"):
        load(LoadSample, data)
    data = dump(merge_samples([(a, Histogram(((5, 10),))), (a, Histogram(((5, 10),)))]))
    assert isinstance(data, dict) and isinstance(data["generators"], list)
    data["generators"] = data["generators"][:1]
    data["requests"], data["bytes"], data["statuses"] = 10, 1000, {"200": 10}
    with pytest.raises(ValueError, match="two or more"):
        load(LoadSample, data)


def test_connections_are_shared_evenly() -> None:
    assert split_connections(64, 3) == [22, 21, 21]
    assert split_connections(2, 2) == [1, 1]
    with pytest.raises(ValueError, match="cannot be shared"):
        split_connections(1, 2)


def test_each_generator_is_checked_against_its_own_ceiling() -> None:
    fast = GeneratorRun(host="ssh://root@10.0.0.1", cpus=None, connections=1,
                        sample=sample(900, 1_000_000, 1.0))  # fmt: skip
    slow = GeneratorRun(host=None, cpus=None, connections=1, sample=sample(100, 1_000_000, 1.0))
    merged = merge_samples([(fast, Histogram(((1, 900),))), (slow, Histogram(((1, 100),)))])
    ceiling = CalibrationLevel(1, sample(1000, 1_000_000, 1.0), sample(1000, 1_000_000, 1.0))
    check = generators_bound([merged], [ceiling, ceiling])
    assert check is not None and not check.passed
    assert check.value == pytest.approx(0.9)
    assert "generator 1 of 2 (ssh://root@10.0.0.1)" in check.message
    only_slow = generators_bound([merged], [None, ceiling])
    assert only_slow is not None and only_slow.passed
    assert "1 of 2 generators calibrated" in only_slow.message
    assert generators_bound([merged], [None, None]) is None


def spec(url: str, connections: int) -> LoadSpec:
    return LoadSpec(
        url=url, path="/delay?ms=0", script="get", connections=connections,
        duration_s=1, threads=1, timeout_s=5,
    )  # fmt: skip


def test_histogram_of_a_real_wrk_gives_wrks_own_figures() -> None:
    with start_downstream(port=DOWNSTREAM_PORT, cpus=(1,)) as server:
        output = WrkProcess(spec(server.url, 4), histogram=True).output()
    reported, buckets = parse_wrk_report(output)
    assert buckets is not None and reported.requests > 0
    histogram = Histogram(buckets)
    # wrk's histogram holds the corrected samples, at least one per response.
    assert histogram.count >= reported.requests
    computed = histogram.latency(reported.latency_us.uncorrected_mean)
    wrk = reported.latency_us
    assert (computed.p50, computed.p75, computed.p90, computed.p99, computed.p99_9) == (
        wrk.p50, wrk.p75, wrk.p90, wrk.p99, wrk.p99_9,
    )  # fmt: skip
    assert computed.max == wrk.max
    assert computed.mean == pytest.approx(wrk.mean, abs=0.001)
    assert computed.stdev == pytest.approx(wrk.stdev, abs=0.001)


def test_two_wrk_processes_on_loopback_are_merged() -> None:
    generators = [Generator(cpus=(0,)), Generator(cpus=(0,))]
    with start_downstream(port=DOWNSTREAM_PORT, cpus=(1,)) as server:
        merged = run_generators(spec(server.url, 5), generators)
    first, second = merged.generators
    assert (first.connections, second.connections) == (3, 2)
    assert (first.cpus, second.cpus) == ((0,), (0,))
    assert first.sample.requests > 0 and second.sample.requests > 0
    assert merged.requests == first.sample.requests + second.sample.requests
    assert merged.throughput == pytest.approx(first.sample.throughput + second.sample.throughput)
    assert merged.statuses == {200: merged.requests}
    # the merged distribution lies within its parts'
    slowest = max(first.sample.latency_us.max, second.sample.latency_us.max)
    assert merged.latency_us.max == slowest
    low = min(first.sample.latency_us.p50, second.sample.latency_us.p50)
    high = max(first.sample.latency_us.p50, second.sample.latency_us.p50)
    assert low <= merged.latency_us.p50 <= high
    assert load(LoadSample, dump(merged)) == merged
