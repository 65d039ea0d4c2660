"""From measured points to the stored document: fit every pair, validate it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from fwbench.harness.documents import load, problem, read_json, write_json
from fwbench.harness.errors import FwbenchError
from fwbench.harness.results import Results, ResultsFormatError
from fwbench.model._document import MemoryPoint, ModelDocument, PairModel, Point, StartupPoint
from fwbench.model._fit import FitError, fit_pair
from fwbench.model._validate import validate


def fit_all(
    points: Sequence[Point], memory: Sequence[MemoryPoint], startup: Sequence[StartupPoint]
) -> tuple[tuple[PairModel, ...], tuple[str, ...]]:
    """A model for every pair with points, and one line for each that cannot be fitted."""
    models: list[PairModel] = []
    failures: list[str] = []
    for pair in dict.fromkeys(p.setup.pair for p in points):
        base = pair.removesuffix("+def")
        try:
            models.append(
                fit_pair(
                    [p for p in points if p.setup.pair == pair],
                    [m for m in memory if m.setup.pair == pair],
                    next((s for s in startup if s.pair == base), None),
                )
            )
        except FitError as error:
            failures.append(f"{pair}: {error}")
    return tuple(models), tuple(failures)


def fitted(document: ModelDocument) -> ModelDocument:
    """``document`` with its pairs fitted and validated from its own points."""
    pairs, failures = fit_all(document.points, document.memory, document.startup)
    return document.model_copy(
        update={
            "pairs": pairs,
            "checks": validate(pairs, document.points),
            "failures": (
                *(f for f in document.failures if f not in failures),
                *failures,
            ),
        }
    )


def choose(document: ModelDocument, pair: str, source: str) -> PairModel:
    """The model of ``pair`` in ``document`` (read from ``source``).

    Raises:
        ModelFileError: the document has no model of that pair.
    """
    found = document.pair(pair)
    if found is None:
        known = ", ".join(p.setup.pair for p in document.pairs) or "none"
        raise ModelFileError(
            f"{source} has no model of {pair}", f"use one of the pairs it models: {known}"
        )
    return found


class ModelFileError(FwbenchError):
    """A model file that cannot be read."""


#: The results file's section that holds ``fwbench model``'s document (results schema 3).
SECTION: Final = "model"

_EXPECTED: Final = "pass a file written by `fwbench model`"


def read_model_file(path: Path) -> tuple[Results | None, ModelDocument]:
    """The results file ``fwbench model`` wrote and the model in its ``model`` section;
    for a bare model document (as ``fwbench model`` wrote before results schema 3), None
    and the document.

    Raises:
        ModelFileError: missing, not JSON, a results file without a model, or not a model
            document of this version.
    """
    if not path.is_file():
        raise ModelFileError(
            f"cannot read the model file {path}: there is no such file",
            "run `fwbench model` to make one, or pass --model FILE",
        )
    data = read_json(path, ModelFileError, "a file written by `fwbench model`")
    results = None
    if isinstance(data, dict) and "sections" in data:
        try:
            results = Results.parse(data, path.name)
        except ResultsFormatError as error:
            raise ModelFileError(error.problem, error.action) from None
        data = results.sections.get(SECTION)
        if data is None:
            raise ModelFileError(f"{path} is a results file without a model", _EXPECTED)
    where = f"{path.name}.sections.{SECTION}" if results else path.name
    try:
        return results, load(ModelDocument, data)
    except ValidationError as error:
        raise ModelFileError(
            f"{path} is not a fwbench model file ({problem(error, where)})", _EXPECTED
        ) from None
    except ValueError as error:  # NaN or infinity, which JSON cannot hold
        raise ModelFileError(f"{path} is not a fwbench model file ({error})", _EXPECTED) from None


def load_document(path: Path) -> ModelDocument:
    """The model in a file written by ``fwbench model`` (see :func:`read_model_file`).

    Raises:
        ModelFileError: the file holds no model this fwbench reads.
    """
    return read_model_file(path)[1]


def save_document(document: ModelDocument, path: Path, results: Results | None) -> None:
    """Write ``document`` as the ``model`` section of ``results`` (None: as a bare model
    document, for a file that was one), atomically like every fwbench document, so
    Ctrl-C while a sweep saves never leaves a truncated file."""
    # Through pydantic's JSON encoder: it stores an infinite miss as null, as the format
    # says, where a plain dump would keep inf, which JSON cannot hold.
    data = json.loads(document.model_dump_json())
    if results is None:
        write_json(path, data)
    else:
        results.with_section(SECTION, data).write(path)
