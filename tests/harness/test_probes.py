"""Probes: memory of a real process tree, import time, cold start of a real service."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from fwbench.harness.errors import FwbenchError
from fwbench.harness.load import LoadSpec, run_load
from fwbench.harness.probes import (
    FIRST_REQUEST_PATH,
    MemorySampler,
    ProbeFailed,
    measure_cold_starts,
    measure_import_time,
    parse_importtime,
)
from fwbench.harness.process import start_downstream, start_service

DATA = Path(__file__).with_name("data")

#: TCP ports of these tests (the harness tests' range is 18600-18699).
PORTS = iter(range(18650, 18670))


def test_parses_recorded_importtime_output() -> None:
    stderr = (DATA / "importtime-flask.txt").read_text(encoding="utf-8")
    total, heaviest = parse_importtime(stderr, "fwbench.services.flask_service.wsgi")
    assert total == 2_250_591
    names = [name for name, _ in heaviest]
    assert names[:3] == ["apiflask", "flask_marshmallow", "flask_sqlalchemy"]
    assert "fwbench" not in names
    assert [us for _, us in heaviest] == sorted((us for _, us in heaviest), reverse=True)


def test_refuses_output_without_the_module() -> None:
    stderr = (DATA / "importtime-flask.txt").read_text(encoding="utf-8")
    with pytest.raises(ProbeFailed, match=r"no entry for fwbench\.elsewhere"):
        parse_importtime(stderr, "fwbench.elsewhere")


def test_measures_import_time_in_fresh_interpreters() -> None:
    measured = measure_import_time("stdlib", "email.mime.text", dict(os.environ), samples=2)
    assert measured.module == "email.mime.text"
    assert len(measured.samples_us) == 2
    assert all(us > 0 for us in measured.samples_us)
    assert "email" not in [name for name, _ in measured.heaviest]


def test_import_failure_is_reported() -> None:
    with pytest.raises(ProbeFailed, match="importing no_such_module_here failed"):
        measure_import_time("x", "no_such_module_here", dict(os.environ), samples=1)


def test_samples_master_and_workers_of_a_real_server() -> None:
    # granian runs a main process and one worker process: a two-process tree.
    with start_downstream(port=next(PORTS)) as server:
        load = LoadSpec(
            server.url, "/delay?ms=0", "get", connections=2, duration_s=1, threads=1, timeout_s=5
        )
        with MemorySampler(
            server, cpus=tuple(sorted(os.sched_getaffinity(0))), interval_s=0.1
        ) as sampler:
            run_load(load)
            sampler.steady()
            run_load(load)
        profile = sampler.profile()
        pids = {process.pid for process in server.processes()}
    assert profile is not None
    assert profile.samples >= 10
    roles = [p.role for p in profile.processes]
    assert roles[0] == "master" and set(roles[1:]) == {"worker"}
    assert profile.processes[0].pid == server.pid
    assert {p.pid for p in profile.processes} == pids
    for process in profile.processes:
        assert 0 < process.steady.uss <= process.steady.rss <= process.peak.rss
        assert process.steady.uss <= process.steady.pss <= process.steady.rss
    assert profile.steady.rss == pytest.approx(
        sum(p.steady.rss for p in profile.processes), rel=0.2
    )
    assert profile.peak.rss >= profile.steady.rss
    assert profile.per_worker == profile.serving[0].steady


def test_sampler_of_a_stopped_service_has_no_profile() -> None:
    server = start_downstream(port=next(PORTS))
    server.stop()
    with MemorySampler(server, interval_s=0.05) as sampler:
        pass
    assert sampler.profile() is None


def _listening(ports: list[int]) -> list[int]:
    return sorted(
        c.laddr.port
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port in ports
    )


@pytest.mark.slow
def test_times_cold_starts_of_a_real_service(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'fwbench.sqlite3'}"
    # This start bootstraps the database; cold starts then skip it, like a restart.
    with start_service("flask", port=next(PORTS), workers=1, database_url=database):
        pass
    used: list[int] = []

    def port() -> int:
        used.append(next(PORTS))
        return used[-1]

    cold = measure_cold_starts(
        "flask",
        "gunicorn-sync",
        count=2,
        port=port,
        cpus=tuple(sorted(os.sched_getaffinity(0))),
        workers=1,
        database_url=database,
    )
    assert cold.first_request_path == FIRST_REQUEST_PATH
    assert len(cold.healthz_ms) == len(cold.first_request_ms) == 2
    assert all(0 < h <= r for h, r in zip(cold.healthz_ms, cold.first_request_ms, strict=True))
    assert len(used) == 2
    assert _listening(used) == [], "a cold-started server is still running"


def test_a_first_request_that_fails_is_reported(tmp_path: Path) -> None:
    used = next(PORTS)
    with pytest.raises(FwbenchError, match=r"answered 5\d\d to its first GET /transactions"):
        measure_cold_starts(
            "flask",
            "gunicorn-sync",
            count=1,
            port=lambda: used,
            cpus=tuple(sorted(os.sched_getaffinity(0))),
            workers=1,
            # No bootstrap ran on this database: its tables do not exist.
            database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        )
    assert _listening([used]) == []
