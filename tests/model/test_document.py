"""The stored model: it round-trips through JSON, and a bad file is one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fwbench.harness.documents import write_json
from fwbench.harness.results import Results
from fwbench.model import SCHEMA_VERSION, ModelDocument, Setup
from fwbench.model._build import (
    ModelFileError,
    fitted,
    load_document,
    read_model_file,
    save_document,
)
from fwbench.model._render import headline
from tests.harness.test_results import PLACEMENT, config, machine
from tests.model import synthetic

SETUP = Setup(framework="flask", server="gunicorn-sync", workers=3, cores=1)
CPU_MS = {"io": 1.0, "json": 0.4}


def document(extra_validation: int = 0) -> ModelDocument:
    """A fitted document of one synthetic pair with one lawful unseen point."""
    points = synthetic.sweep(SETUP, slots_per_worker=1, cpu_ms=CPU_MS)
    unseen = [
        synthetic.point(
            SETUP.model_copy(update={"workers": 2}),
            slots_per_worker=1 + 0.5 * index,
            cpu_ms=CPU_MS,
            overhead_ms=1.0,
            scenario="io",
            latency_ms=50,
            connections=16,
            role="validate",
            why="another worker count",
        )
        for index in range(1 + extra_validation)
    ]
    return fitted(
        ModelDocument(
            created="2026-11-29T18:00:00+00:00",
            command=("fwbench", "model"),
            machine="test",
            quick=True,
            service_cpus=(1,),
            load_cpus=(0,),
            points=(*points, *unseen),
            memory=tuple(synthetic.memory(SETUP, 20, 50, (2, 3))),
            startup=(),
        )
    )


def results() -> Results:
    """The results file a model run starts."""
    return Results.start(("fwbench", "model"), machine(), PLACEMENT, config(), None)


def test_the_document_round_trips_as_the_model_section_of_a_results_file(
    tmp_path: Path,
) -> None:
    original = document()
    path = tmp_path / "results" / "model.json"
    save_document(original, path, results().finished("complete"))
    stored, loaded = read_model_file(path)
    assert loaded == original
    assert stored is not None and stored.status == "complete"
    assert set(Results.read(path).sections) == {"model"}
    assert original.schema_version == SCHEMA_VERSION
    assert [p.setup.pair for p in original.pairs] == ["flask/gunicorn-sync"]
    assert len(original.checks) == 1


def test_headline_says_whether_the_target_is_met() -> None:
    assert headline(document()).startswith("The model meets its target: median throughput error 0%")
    # Two of three unseen points served 1.5x and 2x the slots the model knows.
    missed = headline(document(extra_validation=2))
    assert missed.startswith("The model MISSES ITS TARGET")
    assert "2 beyond 25%" in missed


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON .*; pass a file written by `fwbench model`"),
        ('{"schema_version": 99}', "schema_version"),
    ],
)
def test_a_bad_model_file_is_one_sentence(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelFileError, match=message):
        load_document(path)


def test_a_missing_model_file_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"nope\.json: there is no such file; run"):
        load_document(tmp_path / "nope.json")


def test_a_results_file_without_a_model_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    results().write(path)
    with pytest.raises(ModelFileError, match="is a results file without a model; pass a file"):
        load_document(path)


def test_a_bare_model_document_of_before_results_schema_3_still_loads(tmp_path: Path) -> None:
    """``fwbench model`` wrote the document alone before it became a results section;
    such a file loads, and a refit writes it back in the same form."""
    original = document()
    path = tmp_path / "model.json"
    write_json(path, json.loads(original.model_dump_json()))
    assert read_model_file(path) == (None, original)
    save_document(original, path, None)
    assert "sections" not in json.loads(path.read_text(encoding="utf-8"))


def test_a_point_that_measured_nothing_is_an_infinite_miss_and_still_stored(
    tmp_path: Path,
) -> None:
    silent = document().points[-1].model_copy(update={"ok": 0, "rps": 0.0})
    stored = document()
    again = fitted(stored.model_copy(update={"points": (*stored.points[:-1], silent)}))
    (check,) = again.checks
    assert check.error is None
    assert check.flag == "no expected response arrived in the point's 5 s"
    assert "MISSES ITS TARGET: median throughput error inf%" in headline(again)
    path = tmp_path / "model.json"
    save_document(again, path, results())
    assert load_document(path) == again
