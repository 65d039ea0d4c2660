"""The results file: value objects, validation, JSON round trip and the documented schema.

The builders at the top are shared with the other harness tests."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fwbench.harness.documents import dump
from fwbench.harness.results import (
    SCHEMA_VERSION,
    Calibration,
    CalibrationLevel,
    ColdStart,
    ImportTime,
    Latency,
    LoadSample,
    Machine,
    MemoryProfile,
    MemoryUse,
    Placement,
    Point,
    ProcessMemory,
    Results,
    ResultsFormatError,
    RunConfig,
    SanityCheck,
    ServiceRun,
    SocketErrors,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "src" / "fwbench" / "harness" / "results.schema.json"
DOCS = ROOT / "docs" / "results-schema.md"
REFERENCE = ROOT / "src" / "fwbench" / "advice" / "reference"


# --------------------------------------------------------------------------- builders


def sample(
    throughput: float = 1000.0,
    mean_ms: float = 64.0,
    *,
    seconds: float = 5.0,
    statuses: dict[int, int] | None = None,
    errors: SocketErrors | None = None,
) -> LoadSample:
    """A wrk run with ``throughput`` responses/s and a mean latency of ``mean_ms``."""
    requests = round(throughput * seconds)
    mean_us = mean_ms * 1000
    return LoadSample(
        requests=requests,
        duration_us=round(seconds * 1e6),
        bytes=requests * 150,
        errors=errors or SocketErrors(0, 0, 0, 0),
        statuses=statuses if statuses is not None else {200: requests},
        latency_us=Latency(
            p50=round(mean_us * 0.9),
            p75=round(mean_us * 1.1),
            p90=round(mean_us * 1.3),
            p99=round(mean_us * 2),
            p99_9=round(mean_us * 3),
            max=round(mean_us * 4),
            mean=mean_us,
            stdev=mean_us / 4,
            uncorrected_mean=mean_us,
        ),
    )


def machine(**changes: Any) -> Machine:
    values: dict[str, Any] = {
        "hostname": "bench-1",
        "cpu_model": "Example CPU @ 3.0GHz",
        "logical_cpus": 2,
        "usable_cpus": 2,
        "memory_bytes": 24 * 2**30,
        "os": "Linux-6.1.0-x86_64-with-glibc2.36",
        "python": "CPython 3.11.2",
        "wrk": "wrk debian/4.1.0-3+b2 [epoll]",
        "packages": {"fastapi": "0.165.0", "Django": "5.2.8"},
    }
    return Machine(**(values | changes))


PLACEMENT = Placement(service_cpus=(1,), load_cpus=(0,))


def config(**changes: Any) -> RunConfig:
    values: dict[str, Any] = {
        "pairs": (("fastapi", "uvicorn"), ("flask", "gunicorn-sync")),
        "servers": "canonical",
        "scenarios": ("io", "json"),
        "connections": (64,),
        "duration_s": 5,
        "warmup_s": 2,
        "repeats": 3,
        "workers": None,
        "database": None,
        "downstream_latency_ms": 10,
        "cold_starts": 5,
        "wrk_threads": 1,
        "timeout_s": 10,
    }
    return RunConfig(**(values | changes))


def memory(steady_mb: int = 150) -> MemoryProfile:
    def use(mb: int) -> MemoryUse:
        return MemoryUse(rss=mb * 10**6, uss=mb * 8 * 10**5, pss=mb * 9 * 10**5)

    return MemoryProfile(
        samples=30,
        interval_s=0.5,
        steady=use(steady_mb),
        peak=use(steady_mb + 10),
        processes=(
            ProcessMemory(100, "master", "gunicorn", use(20), use(20)),
            ProcessMemory(101, "worker", "gunicorn", use(40), use(45)),
            ProcessMemory(102, "worker", "gunicorn", use(44), use(46)),
            ProcessMemory(103, "worker", "gunicorn", use(46), use(49)),
        ),
    )


def point(
    framework: str = "flask",
    server: str = "gunicorn-sync",
    scenario: str = "json",
    throughputs: tuple[float, ...] = (1000.0, 1010.0, 990.0),
    connections: int = 64,
    **changes: Any,
) -> Point:
    values: dict[str, Any] = {
        "framework": framework,
        "server": server,
        "scenario": scenario,
        "path": "/json" if scenario != "io" else "/io?ms=10",
        "connections": connections,
        "expected_statuses": (),
        "warmup": sample(1000.0, seconds=2),
        "repeats": tuple(sample(t, connections / t * 1000) for t in throughputs),
        "memory": memory(),
        "sanity": (SanityCheck("littles_law", True, 1.0, 0.15, "64 in flight", None),),
    }
    return Point(**(values | changes))


def service(framework: str = "flask", server: str = "gunicorn-sync") -> ServiceRun:
    return ServiceRun(
        framework=framework,
        server=server,
        workers=3,
        threads=None,
        advice="workers = 2 x cores + 1 (gunicorn docs)",
        command=("taskset", "-c", "1", "python", "-m", "gunicorn", "app:app"),
        cpus=(1,),
        database="sqlite:////tmp/flask.sqlite3",
    )


def calibration() -> Calibration:
    return Calibration(
        measured_at="2026-01-31T12:00:00Z",
        hostname="bench-1",
        cpu_model="Example CPU @ 3.0GHz",
        wrk="wrk debian/4.1.0-3+b2 [epoll]",
        placement=PLACEMENT,
        threads=1,
        duration_s=5,
        levels=(CalibrationLevel(64, sample(40_000.0, 1.6), sample(30_000.0, 2.1)),),
    )


def results(**changes: Any) -> Results:
    """A complete run of two pairs, with every kind of record."""
    run = Results.start(
        ["fwbench", "run"], machine(), PLACEMENT, config(), calibration(), ["a note"]
    )
    run = run.with_service(service("fastapi", "uvicorn")).with_service(service())
    for framework, server in (("fastapi", "uvicorn"), ("flask", "gunicorn-sync")):
        for scenario in ("io", "json"):
            run = run.with_point(point(framework, server, scenario))
        run = run.with_cold_start(
            ColdStart(framework, server, (300.0, 310.0, 290.0), (350.0, 360.0, 340.0), "/t")
        )
        run = run.with_import_time(
            ImportTime(framework, f"{framework}.app", (250_000, 260_000), (("x", 100_000),))
        )
    return replace(run.finished("complete"), **changes)


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


# --------------------------------------------------------------------------- round trip


def test_round_trips_through_a_file(tmp_path: Path) -> None:
    original = results()
    path = tmp_path / "nested" / "run.json"
    original.write(path)
    assert Results.read(path) == original
    assert not list(path.parent.glob(".run.json.*")), "temporary file left behind"


def test_written_file_follows_the_documented_schema(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    results().write(path)
    validator().validate(json.loads(path.read_text(encoding="utf-8")))


def test_a_running_results_file_follows_the_schema_too() -> None:
    running = Results.start(["fwbench", "run"], machine(), PLACEMENT, config(), None)
    validator().validate(dump(running))
    assert running.status == "running" and running.finished_at is None


def test_derived_fields_are_recomputed_on_read() -> None:
    data: Any = dump(results())
    data["points"][0]["throughput_rps"]["median"] = 123456.0
    data["points"][0]["valid"] = False
    reread = Results.parse(data)
    assert reread.points[0].throughput.median == pytest.approx(1000.0)
    assert reread.points[0].valid


def test_summaries_come_from_the_repeats() -> None:
    p = point(throughputs=(900.0, 1000.0, 1300.0))
    assert p.throughput.median == pytest.approx(1000.0)
    assert (p.throughput.min, p.throughput.max) == pytest.approx((900.0, 1300.0))
    assert p.throughput.unstable


def test_memory_per_worker_is_the_median_serving_process() -> None:
    profile = memory()
    assert [p.pid for p in profile.serving] == [101, 102, 103]
    assert profile.per_worker.rss == 44 * 10**6


def test_sections_keep_other_commands_data() -> None:
    run = results().with_section("claims", {"verdicts": [{"claim": "x", "outcome": "supported"}]})
    assert Results.parse(json.loads(json.dumps(dump(run)))).sections == run.sections
    with pytest.raises(ValueError):
        run.with_section("bad", {"value": float("nan")})


# --------------------------------------------------------------------------- validity


def test_unexpected_statuses_and_socket_errors_invalidate_a_point() -> None:
    broken = sample(statuses={200: 4000, 500: 1000})
    p = point(repeats=(sample(), broken))
    assert not p.valid
    assert p.problems == ("repeat 2: unexpected responses 1000 x 500",)
    errors = sample(errors=SocketErrors(connect=0, read=3, write=0, timeout=2))
    assert point(repeats=(errors,)).problems == ("repeat 1: socket errors (3 read, 2 timeout)",)
    silent = replace(sample(), requests=0, bytes=0, statuses={})
    assert point(repeats=(silent,)).problems[0].startswith("repeat 1: no response in 5.0 s")


def test_expected_statuses_do_not_invalidate_a_point() -> None:
    with_404 = sample(statuses={200: 4900, 404: 100})
    assert point(repeats=(with_404,), expected_statuses=(404,)).valid
    assert not point(repeats=(with_404,)).valid


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: replace(sample().latency_us, p99=1), "must not decrease"),
        (lambda: replace(sample(), statuses={200: 1}), "add up to 1"),
        (lambda: replace(sample(), duration_us=0), "duration_us\n.*greater than 0"),
        (lambda: replace(sample(), statuses={700: 5000}), "HTTP statuses"),
        (lambda: SanityCheck("x", False, None, None, "bad", None), "must say what to do"),
        (lambda: point(repeats=()), "repeats\n.*at least 1 item"),
        (lambda: point(scenario="nope"), "unknown scenario"),
        (lambda: ColdStart("f", "s", (300.0,), (200.0,), "/t"), "first request after healthz"),
        (lambda: Placement((), (0,)), "distinct CPU numbers"),
        (lambda: machine(usable_cpus=4), "inconsistent"),
        (lambda: config(connections=()), "connections"),
        (lambda: config(scenarios=("json", "json")), "distinct names"),
        (lambda: replace(results(), status="done"), "status must be one of"),
        (lambda: replace(results(), status="failed"), "error is set exactly"),
        (lambda: replace(results(), finished_at=None), "finished_at is set exactly"),
        (lambda: replace(results(), services=()), "points without a service run"),
        (lambda: results().with_point(point()), "same framework, server, scenario"),
        (lambda: replace(results(), started_at="yesterday"), "RFC 3339"),
    ],
)
def test_refuses_inconsistent_values(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_frozen_samples_cannot_be_changed() -> None:
    s = sample()
    with pytest.raises(TypeError):
        s.statuses[200] = 1  # type: ignore[index]


def test_read_names_the_broken_field() -> None:
    data: Any = dump(results())
    data["points"][1]["repeats"][0]["requests"] = "many"
    with pytest.raises(ResultsFormatError) as caught:
        Results.parse(data, "run.json")
    assert str(caught.value) == (
        "run.json.points[1].repeats[0].requests: input should be a valid integer, not 'many'; "
        "the file was not written by fwbench or was edited by hand"
    )


def test_read_names_a_missing_field() -> None:
    data: Any = dump(results())
    del data["machine"]["cpu_model"]
    with pytest.raises(ResultsFormatError, match=r"^run\.json\.machine\.cpu_model is missing;"):
        Results.parse(data, "run.json")


def test_read_reports_inconsistent_data_as_a_format_error() -> None:
    data: Any = dump(results())
    data["points"][0]["repeats"][0]["statuses"] = {"200": 1}
    with pytest.raises(
        ResultsFormatError, match=r"points\[0\]\.repeats\[0\]: status counts add up to 1"
    ):
        Results.parse(data)


def test_read_refuses_a_newer_schema_version() -> None:
    data: Any = dump(results())
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ResultsFormatError, match=r"newer than the version .*; upgrade fwbench"):
        Results.parse(data, "future.json")


def test_read_is_strict_about_types() -> None:
    data: Any = dump(results())
    data["points"][0]["connections"] = "64"
    with pytest.raises(ResultsFormatError, match=r"points\[0\]\.connections: .*integer, not '64'"):
        Results.parse(data)
    data = dump(results())
    data["placement"]["trustworthy"] = "yes"  # derived: ignored, recomputed
    data["notes"] = [1]
    with pytest.raises(ResultsFormatError, match=r"notes\[0\]: .*string, not 1"):
        Results.parse(data)


def test_read_refuses_a_field_the_format_does_not_have() -> None:
    data: Any = dump(results())
    data["machine"]["cores"] = 2
    with pytest.raises(ResultsFormatError, match=r"results\.machine\.cores is not a field"):
        Results.parse(data)


def test_numbers_a_json_file_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="finite number"):
        replace(sample().latency_us, mean=float("nan"))


def _as_schema_1(data: Any) -> Any:
    """Current JSON values written back in schema 1's shape."""
    data["schema_version"] = 1
    data["config"]["pairs"] = [{"framework": f, "server": s} for f, s in data["config"]["pairs"]]
    for import_time in data["import_times"]:
        import_time["heaviest"] = [
            {"module": m, "cumulative_us": us} for m, us in import_time["heaviest"]
        ]
    return data


def test_a_schema_1_file_is_upgraded_when_read(tmp_path: Path) -> None:
    original = results()
    path = tmp_path / "old.json"
    path.write_text(json.dumps(_as_schema_1(dump(original))), encoding="utf-8")
    upgraded = Results.read(path)
    assert upgraded == original
    assert upgraded.schema_version == SCHEMA_VERSION
    validator().validate(dump(upgraded))


@pytest.mark.parametrize("path", sorted(REFERENCE.glob("*.json")), ids=lambda path: path.name)
def test_the_shipped_reference_files_load_at_todays_schema(path: Path) -> None:
    """The reference run of 2026-11-25 is of schema 1 and is upgraded; the claims of
    2026-11-30 are of a later schema."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    loaded = Results.read(path)
    assert loaded.schema_version == SCHEMA_VERSION
    # Schema 1 wrote a pair as an object, later schemas as a [framework, server] list.
    assert loaded.config.pairs == tuple(
        (pair["framework"], pair["server"]) if isinstance(pair, dict) else tuple(pair)
        for pair in raw["config"]["pairs"]
    )
    assert len(loaded.points) == len(raw["points"])
    assert [p.throughput.median for p in loaded.points] == [
        p["throughput_rps"]["median"] for p in raw["points"]
    ]
    validator().validate(dump(loaded))
    assert Results.parse(json.loads(json.dumps(dump(loaded)))) == loaded


def test_read_refuses_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(ResultsFormatError, match="is not JSON"):
        Results.read(path)
    with pytest.raises(ResultsFormatError, match="cannot read"):
        Results.read(tmp_path / "missing.json")


def test_calibration_merges_levels_and_matches_its_machine(tmp_path: Path) -> None:
    first = calibration()
    more = replace(
        first,
        levels=(CalibrationLevel(128, sample(41_000.0, 3.1), sample(31_000.0, 4.1)),),
    )
    merged = first.merged(more)
    assert [level.connections for level in merged.levels] == [64, 128]
    assert merged.matches(machine(), PLACEMENT, threads=1)
    assert not merged.matches(machine(hostname="other"), PLACEMENT, threads=1)
    assert not merged.matches(machine(), Placement((0,), (1,)), threads=1)
    path = tmp_path / "calibration.json"
    merged.write(path)
    assert Calibration.read(path) == merged


# --------------------------------------------------------------------------- docs


def _properties(schema: object) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        found |= set(schema.get("properties", {}))
        for value in schema.values():
            found |= _properties(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _properties(value)
    return found


def _undescribed(schema: object, where: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(schema, dict):
        for name, field in schema.get("properties", {}).items():
            if "description" not in field:
                found.append(f"{where}.{name}: no description")
            if not {"type", "$ref", "anyOf", "enum", "const"} & set(field):
                found.append(f"{where}.{name}: no type")
        for key, value in schema.items():
            found += _undescribed(value, f"{where}.{key}" if key != "properties" else where)
    elif isinstance(schema, list):
        for value in schema:
            found += _undescribed(value, where)
    return found


def test_every_field_of_the_schema_is_described_and_typed() -> None:
    # The field docstrings are the format's documentation; the schema carries them.
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert _properties(schema) >= {"schema_version", "throughput_rps", "per_worker"}
    assert not _undescribed(schema)


def test_the_docs_name_the_current_schema_version() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    assert f"schema version {SCHEMA_VERSION})" in docs.splitlines()[0]
    assert f"| {SCHEMA_VERSION} |" in docs


def test_every_field_written_is_in_the_schema() -> None:
    # additionalProperties is false everywhere in the schema, so validating a complete
    # file proves no field is written without being declared (and documented).
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert '"additionalProperties": true' not in json.dumps(schema)
    validator().validate(dump(results()))
