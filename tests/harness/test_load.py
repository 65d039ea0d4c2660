"""wrk driving and parsing: recorded wrk outputs, command lines, and real wrk runs."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from fwbench.harness.errors import MissingTool
from fwbench.harness.load import (
    LUA_DIR,
    LoadError,
    LoadSpec,
    parse_wrk_output,
    run_load,
    wrk_command,
    wrk_version,
)
from fwbench.harness.process import start_downstream

DATA = Path(__file__).with_name("data")

#: TCP ports of these tests (the harness tests' range is 18600-18699).
DOWNSTREAM_PORT = 18640
CLOSED_PORT = 18641


def recorded(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_parses_a_recorded_run_of_200s() -> None:
    sample = parse_wrk_output(recorded("wrk-json-200.txt"))
    assert sample.requests == 6468
    assert sample.duration_us == 2_001_489
    assert sample.bytes == 1_319_472
    assert dict(sample.statuses) == {200: 6468}
    assert sample.errors.total == 0
    assert sample.latency_us.p50 == 3710
    assert sample.latency_us.p99_9 == 42709
    assert sample.latency_us.max == 61813
    assert sample.latency_us.mean == pytest.approx(5338.987)
    assert sample.throughput == pytest.approx(6468 / 2.001489)
    assert sample.unexpected() == {}


def test_counts_non_2xx_statuses_as_unexpected_unless_expected() -> None:
    sample = parse_wrk_output(recorded("wrk-transactions.txt"))
    assert dict(sample.statuses) == {200: 93, 201: 47, 404: 4}
    assert sample.unexpected() == {404: 4}
    assert sample.unexpected(expected=[404]) == {}
    assert parse_wrk_output(recorded("wrk-404.txt")).unexpected() == {404: 1601}


def test_parses_socket_errors_by_kind() -> None:
    sample = parse_wrk_output(recorded("wrk-read-errors.txt"))
    assert sample.errors.read == 10831
    assert (sample.errors.connect, sample.errors.write, sample.errors.timeout) == (0, 0, 0)
    assert sample.errors.total == 10831


def test_parses_a_run_without_any_response() -> None:
    sample = parse_wrk_output(recorded("wrk-timeouts.txt"))
    assert sample.requests == 0
    assert sample.throughput == 0
    assert dict(sample.statuses) == {}


def test_refuses_output_without_the_report_line() -> None:
    text = recorded("wrk-json-200.txt").replace("FWBENCH_WRK_RESULT", "SOMETHING_ELSE")
    with pytest.raises(LoadError, match="0 fwbench report lines"):
        parse_wrk_output(text)


def test_refuses_two_report_lines() -> None:
    line = next(
        line for line in recorded("wrk-json-200.txt").splitlines() if line.startswith("FWBENCH")
    )
    with pytest.raises(LoadError, match="2 fwbench report lines"):
        parse_wrk_output(f"{line}\n{line}\n")


def test_refuses_a_truncated_report() -> None:
    text = recorded("wrk-json-200.txt")
    cut = text[: text.index('"latency_us"')]
    with pytest.raises(LoadError, match="not valid"):
        parse_wrk_output(cut)


def test_refuses_status_counts_that_disagree_with_wrk() -> None:
    text = recorded("wrk-transactions.txt").replace('"status":4', '"status":5')
    with pytest.raises(LoadError, match="statuses above 399"):
        parse_wrk_output(text)


def test_refuses_status_counts_that_miss_requests() -> None:
    text = recorded("wrk-json-200.txt").replace('"200":6468', '"200":6000')
    with pytest.raises(LoadError, match="add up to 6000"):
        parse_wrk_output(text)


def spec(**changes: object) -> LoadSpec:
    values: dict[str, object] = {
        "url": "http://127.0.0.1:1",
        "path": "/json",
        "script": "get",
        "connections": 1,
        "duration_s": 1,
        "threads": 1,
        "timeout_s": 1,
    }
    return LoadSpec(**(values | changes))  # type: ignore[arg-type]


def test_spec_validates_its_values() -> None:
    assert spec().path == "/json"
    with pytest.raises(ValueError, match="no wrk script"):
        spec(script="nope")
    with pytest.raises(ValueError, match="one connection per thread"):
        spec(threads=2)
    with pytest.raises(ValueError, match="must start with '/'"):
        spec(path="json")
    with pytest.raises(ValueError, match="at least one second"):
        spec(duration_s=0)


def test_command_pins_wrk_and_passes_script_arguments() -> None:
    spec = LoadSpec(
        url="http://127.0.0.1:18000/",
        path="/",
        script="transactions",
        connections=8,
        duration_s=3,
        threads=2,
        timeout_s=5,
        cpus=(2, 0),
        script_args=("token", "nonce"),
    )
    argv = wrk_command(spec)
    assert argv[1:3] == ["-c", "0,2"]
    assert Path(argv[0]).name == "taskset"
    wrk = argv[3:]
    assert wrk[wrk.index("--connections") + 1] == "8"
    assert wrk[wrk.index("--threads") + 1] == "2"
    assert wrk[wrk.index("--duration") + 1] == "3s"
    assert wrk[wrk.index("--timeout") + 1] == "5s"
    assert wrk[wrk.index("--script") + 1] == str(LUA_DIR / "transactions.lua")
    assert wrk[-4:] == ["http://127.0.0.1:18000/", "--", "token", "nonce"]


def test_runs_wrk_against_a_real_server() -> None:
    with start_downstream(port=DOWNSTREAM_PORT) as server:
        sample = run_load(
            LoadSpec(
                url=server.url,
                path="/delay?ms=0",
                script="get",
                connections=4,
                duration_s=1,
                threads=1,
                timeout_s=5,
            )
        )
    assert sample.requests > 0
    assert set(sample.statuses) == {200}
    assert sample.errors.total == 0
    assert 0 < sample.latency_us.p50 <= sample.latency_us.max


def test_reports_a_server_that_is_not_there() -> None:
    with socket.socket() as probe:  # make sure nothing listens there
        probe.bind(("127.0.0.1", CLOSED_PORT))
    spec = LoadSpec(
        url=f"http://127.0.0.1:{CLOSED_PORT}",
        path="/json",
        script="get",
        connections=1,
        duration_s=1,
        threads=1,
        timeout_s=1,
    )
    with pytest.raises(LoadError, match="Connection refused"):
        run_load(spec)


def test_missing_wrk_is_a_user_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    wrk_version.cache_clear()
    try:
        with pytest.raises(MissingTool, match="wrk is not installed"):
            wrk_version()
    finally:
        wrk_version.cache_clear()


def test_version_names_wrk() -> None:
    assert wrk_version().startswith("wrk ")
