"""Shared fixtures: a synthetic results file built with the harness's value objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwbench.advice.evidence import Evidence, evidence_from_results
from tests.advice.builders import build_results, write_results

EXAMPLES = Path(__file__).parents[2] / "src" / "fwbench" / "advice" / "examples"


@pytest.fixture
def evidence() -> Evidence:
    """Measurements of every framework/server pair (synthetic, see builders)."""
    return evidence_from_results(build_results(), "fixture.json")


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    """The same measurements written as a results file."""
    return write_results(tmp_path / "results.json")
