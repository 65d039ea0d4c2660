"""``fwbench claims`` as a user runs it: a subprocess, a results file, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fwbench.experiments.footprint import Footprint
from fwbench.experiments.registry import EXPERIMENTS
from fwbench.experiments.runner import ClaimsReport, rejudge
from fwbench.harness.documents import load
from fwbench.harness.results import Results


def _claims(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fwbench", "claims", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_only_footprint_writes_a_results_file_with_the_claims_section(tmp_path: Path) -> None:
    output = tmp_path / "out" / "claims.json"
    report_html = tmp_path / "report.html"
    done = _claims(
        "--quick", "--only", "footprint", "--output", str(output), "--report", str(report_html),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Plugin sprawl" in report_html.read_text(encoding="utf-8")
    assert "Plugin sprawl" in done.stdout
    assert "Verdict" in done.stdout
    results = Results.read(output)
    assert results.status == "complete"
    assert results.command[:2] == ("fwbench", "claims")
    section = results.sections["claims"]
    assert isinstance(section, dict)
    report = load(ClaimsReport, section)
    assert report.quick
    (record,) = report.experiments
    assert record.name == "footprint" and record.error is None
    assert rejudge(Footprint(), record) == record.verdicts


def test_unknown_experiment_is_one_clear_sentence(tmp_path: Path) -> None:
    done = _claims("--only", "nope", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "unknown experiment 'nope'; use one of: " in done.stderr
    assert not (tmp_path / "results").exists()


def test_unreachable_database_is_one_clear_sentence(tmp_path: Path) -> None:
    done = _claims(
        "--only", "memory", "--database", "postgresql://postgres@127.0.0.1:1/fwbench_cl",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "cannot reach PostgreSQL at 127.0.0.1:1" in done.stderr


def test_list_names_every_experiment_and_claim(tmp_path: Path) -> None:
    done = _claims("--list", cwd=tmp_path)
    assert done.returncode == 0
    for experiment in EXPERIMENTS:
        assert experiment.name in done.stdout
        for claim in experiment.claims:
            assert claim[:40] in done.stdout
