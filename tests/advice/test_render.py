"""advise output: the exact terminal text for one case, and the JSON document."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # dev dependency without stubs
import pytest

from fwbench.advice import Profile, advise, load_profile, render_text, to_json
from fwbench.advice.evidence import Evidence
from fwbench.model import ModelDocument
from tests.advice.conftest import EXAMPLES

EXPECTED = Path(__file__).parent / "expected"


def _schema() -> dict[str, Any]:
    text = resources.files("fwbench.advice").joinpath("advice.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_text_output_is_exactly_the_reviewed_rendering(
    evidence: Evidence, model: ModelDocument
) -> None:
    # Like rich's own tests: render to a string at a fixed width, without colour, and
    # compare with the reviewed file (regenerate it deliberately when the output changes).
    advice = advise(load_profile(EXAMPLES / "serverless-catalogue.toml"), evidence, model)
    text = render_text(advice, "Measurements: fixture.json. Model: fixture-model.json.")
    assert text == (EXPECTED / "serverless-catalogue.txt").read_text()


def test_text_output_without_measurements_says_how_to_get_them() -> None:
    text = render_text(advise(Profile(), None), "No measurements available: run `fwbench run`.")
    assert text.startswith("No measurements available")
    assert "No capacity plan: the model holds no configuration" in text
    assert "documented sizing" in text


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in {".toml", ".yaml"})
)
def test_json_output_matches_its_schema(
    example: str, evidence: Evidence, model: ModelDocument
) -> None:
    profile = load_profile(EXAMPLES / example)
    for measured, modelled in ((evidence, model), (None, None)):
        document = to_json(advise(profile, measured, modelled), "notice", "model notice")
        # What a tool receives: the document after a round trip through JSON text.
        jsonschema.validate(json.loads(json.dumps(document)), _schema())


def test_json_output_carries_the_capacity_plan_and_the_overruled_rules(
    evidence: Evidence, model: ModelDocument
) -> None:
    document = to_json(
        advise(load_profile(EXAMPLES / "serverless-catalogue.toml"), evidence, model),
        "notice",
        "model notice",
    )
    assert document["recommendation"] == (
        "Django on gunicorn sync, 1 worker per function instance, concurrency 1"
    )
    assert document["changed_by_measurements"] is True
    plan = document["ranking"][0]["capacity_plan"]
    # 100 req/s, one request at a time per function: 1 / (50 + 1 + 2.5 ms) = 18.7 req/s
    # per instance, ceil(100 / (18.7 x 0.7)) = 8 instances.
    assert plan["slots"] == 1
    assert plan["capacity_rps"] == pytest.approx(1000 / 53.5, rel=0.01)
    assert plan["instances"] == 8
    assert plan["cold_start_ms"] == 1100
    assert plan["misses"] == []
    overruled = [r["id"] for r in document["rules"] if r["status"] == "overruled by measurement"]
    assert "django-cold-start" in overruled


def test_schema_rejects_a_document_missing_the_ranking(evidence: Evidence) -> None:
    document = to_json(advise(Profile(), evidence), "notice", "model notice")
    del document["ranking"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, _schema())
