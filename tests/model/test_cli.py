"""``fwbench model`` as a user runs it: predictions from a stored model, and mistakes
answered with one sentence and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fwbench.model._build import save_document
from tests.model.test_document import document, results


def fwbench_model(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fwbench", "model", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "results" / "fwbench-model-20261129-180000.json"
    save_document(document(), path, results())
    return path


def test_predict_prints_the_numbers_the_law_and_the_extrapolation(
    tmp_path: Path, model_file: Path
) -> None:
    done = fwbench_model(
        "--predict", "flask/gunicorn-sync workers=5 cores=2 latency=80ms rps=40", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Model: {model_file.relative_to(tmp_path)}, the newest model file" in out
    assert "throughput   40 req/s (bound by the offered rate; capacity 61 req/s)" in out
    assert "open loop" in out and "Erlang C" in out
    assert "extrapolates: workers 5 is 1.7x above the measured 3" in out
    assert "extrapolates: cores 2 is 2.0x above the measured 1: CPU capacity scaled" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--predict", "flask/gunicorn-sync workers=five rps=4"), "workers=five is not a number"),
        (("--predict", "flask/gunicorn-sync latency=80ms"), "give either connections=N"),
        (("--predict", "django/uvicorn rps=4"), "has no model of django/uvicorn"),
        (("--predict", "flask/gunicorn-sync threads=4 rps=4"), "no threads-per-worker setting"),
        (("--frameworks", "flsk"), "unknown framework 'flsk'"),
        (("--servers", "unicorn"), "unknown server 'unicorn'"),
        (
            ("--frameworks", "fastapi", "--servers", "gunicorn-sync"),
            "no supported framework/server",
        ),
    ],
)
def test_mistakes_are_one_sentence(
    tmp_path: Path, model_file: Path, args: tuple[str, ...], message: str
) -> None:
    done = fwbench_model(*args, cwd=tmp_path)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_predict_without_any_model_says_what_to_do(tmp_path: Path) -> None:
    done = fwbench_model(
        "--predict", "flask/gunicorn-sync rps=4", "--model", "nope.json", cwd=tmp_path
    )
    assert done.returncode != 0
    assert "cannot read the model file nope.json" in done.stderr
