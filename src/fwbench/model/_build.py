"""From measured points to the stored document: fit every pair, validate it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from fwbench.harness.documents import write_json
from fwbench.harness.errors import FwbenchError
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


def load_document(path: Path) -> ModelDocument:
    """Read a model file written by ``fwbench model``.

    Raises:
        ModelFileError: missing, not JSON, or not a model document of this version.
    """
    try:
        return ModelDocument.model_validate_json(path.read_bytes())
    except OSError as error:
        raise ModelFileError(
            f"cannot read the model file {path}: {error.strerror}",
            "run `fwbench model` to make one, or pass --model FILE",
        ) from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise ModelFileError(
            f"{path} is not a fwbench model file ({where}: {first['msg']})",
            "pass a file written by `fwbench model`",
        ) from None


def save_document(document: ModelDocument, path: Path) -> None:
    """Write ``document`` as indented JSON (creating its directory), atomically like every
    fwbench document, so Ctrl-C while a sweep saves never leaves a truncated file."""
    # Through pydantic's JSON encoder: it stores an infinite miss as null, as the format
    # says, where a plain dump would keep inf, which JSON cannot hold.
    write_json(path, json.loads(document.model_dump_json()))
