"""``fwbench advise`` as a user runs it: flags, profile files, results files, prompts on
a real terminal, and one-sentence errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fwbench.cli import cli
from fwbench.model import save_document
from tests.advice.builders import write_claims_results
from tests.advice.conftest import EXAMPLES
from tests.advice.models import model_document


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in a folder without results/: only the results a test names are used."""
    monkeypatch.chdir(tmp_path)


def _json(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["advise", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_flags_answer_the_questions(tmp_path: Path) -> None:
    document = _json(
        ["--needs-admin", "--audit", "--deadline", "tight", "--needs-orm", "--needs-auth"],
    )
    assert str(document["recommendation"]).startswith("Django on ")
    # No results/ here: advise falls back to the reference results shipped with fwbench
    # and names them.
    measurements = document["measurements"]
    assert isinstance(measurements, dict)
    assert str(measurements["source"]).startswith("reference results run-")
    assert "reference results shipped with fwbench" in str(document["notice"])
    # The shipped run file has no claims verdicts: they come from the shipped claims file.
    assert "Claims verdicts: the reference claims shipped with fwbench (claims-" in str(
        document["notice"]
    )
    assert any(risk["measured"] for option in document["ranking"] for risk in option["risks"])


def test_profile_file_with_results_and_model_files(
    tmp_path: Path, results_file: Path, model_file: Path
) -> None:
    document = _json(
        ["--profile", str(EXAMPLES / "api-aggregator.yaml"), "--results", str(results_file),
         "--model", str(model_file)],
    )  # fmt: skip
    assert document["recommendation"] == "FastAPI on uvicorn, async def routes, 1 worker"
    assert document["model"] == f"Model: {model_file} (Fixture CPU, 2 usable CPUs)."
    assert document["measurements"] == {
        "source": str(results_file),
        "machine": "Fixture CPU @ 2.0GHz, 2 usable CPUs, 24 GiB, CPython 3.11.2, "
        "Linux-6.1.0-fixture-x86_64-with-glibc2.36",
    }


def test_flags_override_the_profile_file(tmp_path: Path) -> None:
    document = _json(["--profile", str(EXAMPLES / "legacy-flask.toml"), "--peak-rps", "900"])
    assert document["profile"]["peak_rps"] == 900.0
    assert document["profile"]["legacy_plugins"] is True


def test_newest_results_file_in_results_dir_is_used(
    results_file: Path,
) -> None:
    Path("results").mkdir()
    Path("results/run.json").write_bytes(results_file.read_bytes())
    Path("results/newer-but-broken.json").write_text("not json")
    result = CliRunner().invoke(cli, ["advise", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "results/run.json, the newest results file" in json.loads(result.stdout)["notice"]


def test_claims_verdicts_come_from_the_claims_file_beside_the_run(results_file: Path) -> None:
    """`fwbench run` and `fwbench claims` write separate files: advise uses both."""
    Path("results").mkdir()
    Path("results/run.json").write_bytes(results_file.read_bytes())
    write_claims_results(Path("results/claims.json"))
    document = _json(["--workload", "io", "--team-debugs-async"])
    assert "Measurements: results/run.json, the newest results file" in str(document["notice"])
    assert str(document["notice"]).endswith(
        "Claims verdicts: results/claims.json, measured on the same machine."
    )
    fastapi = next(o for o in document["ranking"] if o["framework"] == "fastapi")
    blocking = next(r for r in fastapi["risks"] if r["title"].startswith("A blocking"))
    assert blocking["measured"]["outcome"] == "depends on configuration"


def test_model_file_in_results_dir_is_used(model_file: Path) -> None:
    Path("results").mkdir()
    Path("results/fwbench-model-20261129-000000.json").write_bytes(model_file.read_bytes())
    document = _json(["--peak-rps", "300"])
    assert document["model"].startswith(
        "Model: results/fwbench-model-20261129-000000.json, the newest model file"
    )
    assert document["ranking"][0]["capacity_plan"] is not None


def test_without_a_model_the_advice_says_so_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As a fwbench that ships no reference model.
    monkeypatch.setattr("fwbench.advice.sources._shipped_models", list)
    document = _json([])
    assert document["model"].startswith("No performance model:")
    assert all(option["capacity_plan"] is None for option in document["ranking"])
    result = CliRunner().invoke(cli, ["advise", "--verify"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --verify needs a capacity plan")


def test_text_output_names_the_recommendation(
    tmp_path: Path, results_file: Path, model_file: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["advise", "--profile", str(EXAMPLES / "fintech-case-study.toml"),
              "--results", str(results_file), "--model", str(model_file)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Recommendation: Django on gunicorn gthread, 1 worker x 32 threads" in result.output
    assert "Capacity plan: Django on gunicorn gthread, 1 worker x 32 threads" in result.output
    assert "Requests in flight at the peak: 200 req/s x 53.8 ms" in result.output


def test_user_mistakes_get_one_sentence_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('workload = "quantum"\n')
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    runner = CliRunner()
    empty = tmp_path / "fwbench-model-empty.json"
    save_document(model_document().model_copy(update={"pairs": ()}), empty, None)
    typo = tmp_path / "typo.toml"
    typo.write_text("peak_rsp = 100\n")
    for args, message in (
        (["--profile", str(bad)], "workload must be one of io, cpu, mixed"),
        (["--profile", str(typo)], "unknown profile answer 'peak_rsp'; did you mean peak_rps?"),
        (["--results", str(broken)], "results schema version None"),
        (["--results", str(tmp_path / "absent.json")], "cannot read"),
        (["--model", str(broken)], "is not a fwbench model file"),
        (["--peak-rps", "inf"], "peak_rps must be a number, not inf."),
        (["--peak-rps", "nan"], "peak_rps must be a number, not nan."),
        (["--peak-rps", "0"], "peak_rps must be greater than 0 and at most 10,000,000"),
        (["--peak-rps", "1e12"], "peak_rps must be greater than 0 and at most 10,000,000"),
        (["--memory-budget-mb", "0"], "memory_budget_mb must be greater than 0"),
        (["--p99-target-ms", "40", "--downstream-ms", "80"],
         "p99_target_ms (40) must be above downstream_ms (80)"),
        (["--verify", "--model", str(empty)], "models no pair"),
    ):  # fmt: skip
        result = runner.invoke(cli, ["advise", *args])
        assert result.exit_code == 1, args
        assert message in result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_none_is_an_answer_to_the_set_questions() -> None:
    document = _json(["--known-frameworks", "none", "--observability", "none"])
    assert document["profile"]["known_frameworks"] == []
    assert document["profile"]["observability"] == []


def test_interactive_on_a_terminal_asks_every_question(tmp_path: Path) -> None:
    """Run the real command with stdin on a pseudo-terminal: it must prompt (on stderr),
    re-ask after an invalid answer and use the answers."""
    answers = [""] * 23  # Enter: accept each default ...
    answers[1] = "quantum\ncpu"  # ... except workload: invalid first, then cpu
    answers[10] = "yes"  # needs_admin
    primary, secondary = os.openpty()
    prompts: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                return
            if not chunk:
                return
            prompts.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    process = subprocess.Popen(
        [sys.executable, "-m", "fwbench", "advise", "--format", "json"],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
        cwd=tmp_path,
    )
    os.close(secondary)
    os.write(primary, ("\n".join(answers) + "\n").encode())
    stdout, _ = process.communicate(timeout=60)
    os.close(primary)
    reader.join(timeout=5)
    assert process.returncode == 0, b"".join(prompts).decode(errors="replace")
    document = json.loads(stdout)
    assert document["profile"]["workload"] == "cpu"
    assert document["profile"]["needs_admin"] is True
    shown = b"".join(prompts).decode(errors="replace")
    assert "Can your team debug async/await under pressure?" in shown
    assert "workload must be one of io, cpu, mixed" in shown
