"""Context.measure_once: experiments that share a measurement neither repeat nor retry it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwbench.experiments.context import Context
from fwbench.harness.errors import FwbenchError
from fwbench.harness.results import Placement


def _context(tmp_path: Path) -> Context:
    return Context(quick=True, state_dir=tmp_path, placement=Placement((1,), (0,)))


def test_a_measurement_is_taken_once_and_then_reused(tmp_path: Path) -> None:
    calls: list[str] = []

    def measure() -> str:
        calls.append("measured")
        return "result"

    with _context(tmp_path) as context:
        assert context.measure_once(("thing", 1), measure) == "result"
        assert context.measure_once(("thing", 1), measure) == "result"
        assert context.measure_once(("thing", 2), measure) == "result"
    assert calls == ["measured", "measured"]


def test_a_failure_is_remembered_not_retried(tmp_path: Path) -> None:
    calls: list[str] = []

    def fail() -> str:
        calls.append("tried")
        raise FwbenchError("the service did not start", "run `fwbench serve` to see why")

    with _context(tmp_path) as context:
        for _ in range(2):
            with pytest.raises(FwbenchError, match="the service did not start"):
                context.measure_once(("broken",), fail)
    assert calls == ["tried"]
