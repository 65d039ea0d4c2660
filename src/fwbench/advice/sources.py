"""Which measurements ``advise`` uses: the file given, else the newest results file in
``results/``, else the reference results shipped with fwbench, else none, and a sentence
saying which; the same for the performance model (:func:`find_model`).

``fwbench run`` and ``fwbench claims`` write separate files, so when the chosen file holds
no claims verdicts they come from the newest file in ``results/`` that has them, else
from the reference claims shipped with fwbench, and the sentence names that file too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from fwbench.advice.evidence import Evidence, claims_from, describe_machine, evidence_from_results
from fwbench.experiments.registry import rejudged_sentence
from fwbench.harness.results import Results, ResultsFormatError
from fwbench.model import ModelDocument, ModelFileError, load_document

#: Where ``fwbench run`` and ``fwbench claims`` write results files by default.
RESULTS_DIR = Path("results")

NO_RESULTS = (
    "No measurements available: no results file in {dir}/ and no reference results shipped "
    "with this fwbench. Run `fwbench run` (about 5 minutes on 2 cores) to measure this "
    "machine, or pass --results FILE. The ranking below uses the article's rules only, "
    "without a capacity plan."
)


@dataclass(frozen=True)
class Source:
    """The measurements chosen (None when there are none) and the sentence saying which."""

    evidence: Evidence | None
    notice: str


def _usable(path: Path) -> Results | None:
    """The results in ``path`` when it is a readable results file with measured points."""
    try:
        results = Results.read(path)
    except ResultsFormatError:
        return None
    return results if results.points else None


def _reference_files() -> list[Path]:
    folder = resources.files("fwbench.advice.reference")
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".json"))


def _newest_first(search: Path) -> list[Path]:
    return sorted(search.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def _claims_files(search: Path) -> Iterator[tuple[Path, str]]:
    """Where claims verdicts may be, in order of preference, each with how to name it."""
    for path in _newest_first(search):
        yield path, str(path)
    for path in _reference_files():
        yield path, f"the reference claims shipped with fwbench ({path.name})"


def _with_claims(source: Source, search: Path) -> Source:
    """``source`` with claims verdicts from another file when its own file has none."""
    if source.evidence is None or source.evidence.claims:
        return source
    for path, name in _claims_files(search):
        try:
            results = Results.read(path)
        except ResultsFormatError:
            continue
        claims, rejudged = claims_from(results)
        if claims:
            machine = describe_machine(results.machine)
            where = "the same machine" if machine == source.evidence.machine else machine
            return Source(
                replace(source.evidence, claims=claims, rejudged=rejudged),
                f"{source.notice} Claims verdicts: {name}, measured on {where}.",
            )
    return source


def _rejudged_notice(source: Source) -> Source:
    """``source`` with a sentence naming the claims verdicts this fwbench judged again."""
    if source.evidence is None or not source.evidence.rejudged:
        return source
    return replace(source, notice=f"{source.notice} {rejudged_sentence(source.evidence.rejudged)}")


def find_source(results: Path | None = None, search: Path = RESULTS_DIR) -> Source:
    """Choose the measurements, and the claims verdicts when they are in another file.

    Args:
        results: a results file the user named; read it or fail (default: None, search).
        search: folder searched for the newest usable ``*.json`` results file (default:
            ``results/`` in the working directory).

    Raises:
        ResultsFormatError: ``results`` was given and cannot be read as a results file.
    """
    return _rejudged_notice(_with_claims(_find_measurements(results, search), search))


def _find_measurements(results: Path | None, search: Path) -> Source:
    if results is not None:
        parsed = Results.read(results)
        if not parsed.points:
            raise ResultsFormatError(
                f"{results} holds no measured points", "pass the file of a completed `fwbench run`"
            )
        evidence = evidence_from_results(parsed, str(results))
        return Source(evidence, f"Measurements: {results} ({evidence.machine}).")
    for path in _newest_first(search):
        found = _usable(path)
        if found is not None:
            evidence = evidence_from_results(found, str(path))
            return Source(
                evidence, f"Measurements: {path}, the newest results file ({evidence.machine})."
            )
    for path in _reference_files():
        found = _usable(path)
        if found is not None:
            evidence = evidence_from_results(found, f"reference results {path.name}")
            return Source(
                evidence,
                f"Measurements: the reference results shipped with fwbench ({path.name}), "
                f"measured on {evidence.machine}. Run `fwbench run` to measure your machine.",
            )
    return Source(None, NO_RESULTS.format(dir=search))


NO_MODEL = (
    "No performance model: no --model file, no fwbench-model-*.json in {dir}/ and no "
    "reference model shipped with this fwbench, so there is no capacity plan; run "
    "`fwbench model` (about 11 minutes on 2 cores) to fit one on this machine."
)


@dataclass(frozen=True)
class ModelSource:
    """The performance model chosen (None when there is none) and the sentence saying
    which."""

    document: ModelDocument | None
    notice: str


def _shipped_models() -> list[Path]:
    folder = resources.files("fwbench.model.reference")
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".json"))


def find_model(model: Path | None = None, search: Path = RESULTS_DIR) -> ModelSource:
    """Choose the performance model: the file given, else the newest
    ``fwbench-model-*.json`` in ``search``, else the reference model shipped with fwbench.

    Args:
        model: a model file the user named; read it or fail (default: None, search).
        search: folder searched for ``fwbench model``'s files (default: ``results/``).

    Raises:
        ModelFileError: ``model`` was given and cannot be read, or models no pair.
    """
    if model is not None:
        document = load_document(model)
        if not document.pairs:
            raise ModelFileError(
                f"{model} models no pair", "pass a model file of a completed `fwbench model`"
            )
        return ModelSource(document, f"Model: {model} ({document.machine}).")
    for path in sorted(search.glob("fwbench-model-*.json"), reverse=True):
        try:
            document = load_document(path)
        except ModelFileError:
            continue
        if document.pairs:
            return ModelSource(
                document, f"Model: {path}, the newest model file ({document.machine})."
            )
    for path in _shipped_models():
        document = load_document(path)
        if document.pairs:
            return ModelSource(
                document,
                f"Model: the reference model shipped with fwbench ({path.name}), fitted on "
                f"{document.machine}. Run `fwbench model` to fit one on your machine.",
            )
    return ModelSource(None, NO_MODEL.format(dir=search))
