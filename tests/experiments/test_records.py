"""Evidence and records survive the results file: JSON round trips and clear errors,
through the one mechanism of :mod:`fwbench.harness.documents`."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from fwbench.experiments.model import Outcome, Plan, Table, Verdict
from fwbench.experiments.registry import EXPERIMENTS
from fwbench.experiments.runner import ClaimsReport, ExperimentRecord
from fwbench.harness.documents import dump, load, problem
from fwbench.harness.results import Results


class Colour(enum.StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    value: float
    label: str | None


@dataclass(frozen=True)
class Outer:
    count: int
    colour: Colour
    inners: tuple[Inner, ...]
    pair: tuple[int, str]
    by_name: dict[str, float]
    optional: Inner | None


SAMPLE = Outer(
    count=3,
    colour=Colour.RED,
    inners=(Inner(1.5, None), Inner(2.0, "x")),
    pair=(7, "seven"),
    by_name={"a": 0.25},
    optional=None,
)


def test_round_trip_through_json_text() -> None:
    text = json.dumps(dump(SAMPLE))
    assert load(Outer, json.loads(text)) == SAMPLE


def test_integers_are_accepted_where_floats_are_expected() -> None:
    assert load(Inner, {"value": 2, "label": None}) == Inner(2.0, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": "fast", "label": None}, r"^evidence\.value: input should be a valid number"),
        ({"value": "3", "label": None}, r"^evidence\.value: input should be a valid number"),
        ({"label": None}, r"^evidence\.value is missing$"),
        ({"value": True, "label": None}, r"^evidence\.value: input should be a valid number"),
    ],
)
def test_malformed_data_names_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load(Inner, data)
    assert re.search(message, problem(caught.value, "evidence"))


def test_unknown_enum_value_is_refused() -> None:
    data = dump(SAMPLE)
    assert isinstance(data, dict)
    with pytest.raises(ValidationError, match="colour"):
        load(Outer, {**data, "colour": "blue"})


def _record(error: str | None) -> ExperimentRecord:
    verdict = Verdict("claim", Outcome.DEPENDS, "rule", "holds for a", ("a: 1", "b: 2"))
    return ExperimentRecord(
        name="x",
        title="X",
        claims=("claim",),
        setup="setup",
        plan=Plan(12.0, ("step",)),
        duration_s=3.5,
        evidence=None if error else {"numbers": [1, 2.5]},
        tables=(Table("t", ("a", "b"), (("1", "2"),), "note"),),
        verdicts=() if error else (verdict,),
        error=error,
    )


@pytest.mark.parametrize("error", [None, "the server did not start"])
def test_records_and_reports_round_trip(error: str | None) -> None:
    report = ClaimsReport(quick=True, experiments=(_record(error),), duration_s=3.5)
    assert load(ClaimsReport, json.loads(json.dumps(dump(report)))) == report


def test_a_report_of_a_newer_format_is_refused() -> None:
    data = dump(ClaimsReport(quick=False, experiments=(), duration_s=0.0))
    assert isinstance(data, dict) and data["format"] == 2
    with pytest.raises(ValueError, match="format 3 is not 1 to 2"):
        load(ClaimsReport, {**data, "format": 3})


def test_a_format_1_record_reads_as_format_2_with_no_host() -> None:
    data = dump(ClaimsReport(quick=True, experiments=(_record(None),), duration_s=1.0))
    assert isinstance(data, dict)
    (record,) = data["experiments"]
    assert record.pop("ran_on") is None
    report = load(ClaimsReport, {**data, "format": 1})
    assert report.format == 2
    assert report.experiments[0].ran_on is None


def test_a_record_refuses_a_field_it_does_not_declare() -> None:
    data = dump(_record(None))
    assert isinstance(data, dict)
    with pytest.raises(ValidationError) as caught:
        load(ExperimentRecord, {**data, "verdict": "typo"})
    assert problem(caught.value, "claims") == "claims.verdict is not a field of this format"


def test_the_shipped_reference_claims_load_with_their_evidence() -> None:
    # A schema-1 results file written by fwbench 0.1.0: the section, every record and
    # every experiment's evidence read through the same mechanism, and round-trip (fields
    # added since then take their defaults, so the dump is compared after reading it back).
    path = Path(__file__).parents[2] / "src/fwbench/advice/reference"
    results = Results.read(next(path.glob("claims-*.json")))
    report = load(ClaimsReport, results.sections["claims"])
    by_name = {experiment.name: experiment for experiment in EXPERIMENTS}
    assert {record.name for record in report.experiments} == set(by_name)
    for record in report.experiments:
        kind = by_name[record.name].evidence_type
        evidence = load(kind, record.evidence)
        assert load(kind, dump(evidence)) == evidence
