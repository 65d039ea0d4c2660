"""Evidence and records survive the results file: JSON round trips and clear errors."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

import pytest

from fwbench.experiments._jsonable import from_json, to_json
from fwbench.experiments.model import Outcome, Plan, Table, Verdict
from fwbench.experiments.runner import ClaimsReport, ExperimentRecord


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
    text = json.dumps(to_json(SAMPLE))
    assert from_json(Outer, json.loads(text)) == SAMPLE


def test_integers_are_accepted_where_floats_are_expected() -> None:
    assert from_json(Inner, {"value": 2, "label": None}) == Inner(2.0, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": "fast", "label": None}, r"Inner\.value: expected float, got 'fast'"),
        ({"label": None}, r"Inner: missing field 'value'"),
        ({"value": True, "label": None}, r"Inner\.value: expected float, got True"),
    ],
)
def test_malformed_data_names_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_json(Inner, data)


def test_unknown_enum_value_is_refused() -> None:
    data = to_json(SAMPLE)
    assert isinstance(data, dict)
    with pytest.raises(ValueError, match=r"Outer\.colour"):
        from_json(Outer, {**data, "colour": "blue"})


def test_objects_that_a_results_file_cannot_hold_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot store a set"):
        to_json({"a": {1, 2}})


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
    assert ClaimsReport.from_json(json.loads(json.dumps(report.to_json()))) == report


def test_a_report_of_another_format_is_refused() -> None:
    data = ClaimsReport(quick=False, experiments=(), duration_s=0.0).to_json()
    with pytest.raises(ValueError, match="format 99"):
        ClaimsReport.from_json({**data, "format": 99})
