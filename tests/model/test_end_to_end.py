"""A tiny ``fwbench model`` on real servers: one pair, the quick sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwbench.harness.results import SCHEMA_VERSION
from fwbench.model._build import read_model_file
from tests.model.test_cli import fwbench_model


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_one_pair_is_measured_fitted_validated_and_stored(tmp_path: Path) -> None:
    output = tmp_path / "results" / "model.json"
    done = fwbench_model(
        "--quick", "--frameworks", "flask", "--servers", "gunicorn-sync", "--output", str(output),
        cwd=tmp_path, timeout=540,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    stored, document = read_model_file(output)
    # A results file of the current schema, finished, recording each server it started.
    assert stored is not None and stored.status == "complete"
    assert stored.schema_version == SCHEMA_VERSION
    assert {(s.framework, s.server) for s in stored.services} >= {("flask", "gunicorn-sync")}
    (pair,) = document.pairs
    assert pair.setup.pair == "flask/gunicorn-sync"
    assert pair.setup.cores == len(document.service_cpus)
    # gunicorn's sync worker serves one request at a time, by its settings.
    assert pair.slots.configured == 1
    assert set(pair.cpu_ms) == {"io", "json", "db"}
    assert all(cost > 0 for cost in pair.cpu_ms.values())
    assert len(pair.memory.workers_measured) == 2
    assert pair.memory.per_worker_idle_mb > 10
    assert pair.cold_start_ms is not None and pair.import_ms is not None
    fitted = [p for p in document.points if p.role == "fit"]
    assert {p.setup for p in fitted} == {pair.setup}
    assert all(p.cpu_s > 0 for p in fitted)
    # Every validation point is predicted, and each one beyond 25% carries a reason.
    assert len(document.checks) == len([p for p in document.points if p.role == "validate"]) == 3
    assert {c.point.why for c in document.checks} == {
        "another latency and concurrency",
        "another concurrency",
        "another worker count",
    }
    assert all(c.flag for c in document.checks if c.error is None or abs(c.error) > 0.25)
    lines = done.stdout.splitlines()
    headline = next(line for line in lines if line.startswith("The model "))
    assert "median throughput error" in headline
    for title in ("Slots:", "CPU ms per request", "Memory MB", "Validation:"):
        assert any(line.startswith(title) for line in lines), title
    assert "Throughput X = min(slots / T, cores / D)" in done.stdout
