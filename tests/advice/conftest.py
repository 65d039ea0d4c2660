"""Shared fixtures: a synthetic results file built with the harness's value objects, and a
performance model fitted on synthetic points."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwbench.advice.evidence import Evidence, evidence_from_results
from fwbench.model import ModelDocument
from tests.advice.builders import build_results, write_results
from tests.advice.models import model_document, write_model

EXAMPLES = Path(__file__).parents[2] / "src" / "fwbench" / "advice" / "examples"


@pytest.fixture
def evidence() -> Evidence:
    """Measurements of every framework/server pair (synthetic, see builders)."""
    return evidence_from_results(build_results(), "fixture.json")


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    """The same measurements written as a results file."""
    return write_results(tmp_path / "results.json")


@pytest.fixture(scope="session")
def model() -> ModelDocument:
    """A performance model fitted on synthetic points with known answers (see models)."""
    return model_document()


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    """The same model written as a model file."""
    return write_model(tmp_path / "fwbench-model-fixture.json")
