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
from tests.advice.conftest import EXAMPLES

EXPECTED = Path(__file__).parent / "expected"


def _schema() -> dict[str, Any]:
    text = resources.files("fwbench.advice").joinpath("advice.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_text_output_is_exactly_the_reviewed_rendering(evidence: Evidence) -> None:
    # Like rich's own tests: render to a string at a fixed width, without colour, and
    # compare with the reviewed file (regenerate it deliberately when the output changes).
    advice = advise(load_profile(EXAMPLES / "serverless-catalogue.toml"), evidence)
    text = render_text(advice, "Measurements: fixture.json.")
    assert text == (EXPECTED / "serverless-catalogue.txt").read_text()


def test_text_output_without_measurements_says_how_to_get_them() -> None:
    text = render_text(advise(Profile(), None), "No measurements available: run `fwbench run`.")
    assert text.startswith("No measurements available")
    assert "No capacity plan: this framework was not measured." in text
    assert "documented sizing" in text


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in {".toml", ".yaml"})
)
def test_json_output_matches_its_schema(example: str, evidence: Evidence) -> None:
    profile = load_profile(EXAMPLES / example)
    for measured in (evidence, None):
        document = to_json(advise(profile, measured), "notice")
        # What a tool receives: the document after a round trip through JSON text.
        jsonschema.validate(json.loads(json.dumps(document)), _schema())


def test_json_output_carries_the_capacity_plan_and_the_overruled_rules(
    evidence: Evidence,
) -> None:
    document = to_json(
        advise(load_profile(EXAMPLES / "serverless-catalogue.toml"), evidence), "notice"
    )
    assert document["recommendation"] == "Django on granian, 1 worker"
    assert document["changed_by_measurements"] is True
    top = document["ranking"][0]
    assert top["capacity_plan"]["instances"] == 1
    assert top["capacity_plan"]["fits_cold_start"] is True
    overruled = [r["id"] for r in document["rules"] if r["status"] == "overruled by measurement"]
    assert "django-cold-start" in overruled


def test_schema_rejects_a_document_missing_the_ranking(evidence: Evidence) -> None:
    document = to_json(advise(Profile(), evidence), "notice")
    del document["ranking"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, _schema())
