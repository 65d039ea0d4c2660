"""``fwbench report``: what the report says, that the HTML is self-contained, and that it
renders in a real headless Chromium without console errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from fwbench.cli import cli
from fwbench.experiments.model import Outcome, Table, Verdict
from fwbench.harness.fairness import Fairness
from fwbench.harness.results import Results
from fwbench.report import (
    render_fairness_html,
    render_fairness_markdown,
    render_html,
    render_markdown,
    write_report,
)
from fwbench.report.model import build_report
from tests.advice.builders import SETUPS, build_results, claims_section

ARTIFACTS = Path(__file__).parents[2] / "artifacts"


def _with_claims(results: Results) -> Results:
    verdict = Verdict(
        claim="3x faster than Flask for I/O bound tasks",
        outcome=Outcome.CONTRADICTED,
        rule="supported if the FastAPI/Flask io throughput ratio is >= 2.5 ...",
        condition="holds in none of the 2 configurations measured",
        findings=("uvicorn vs gunicorn gthread: 1.30x < 2.5", "<script>x</script>: 1.1x < 2.5"),
    )
    ratios = Table("Ratios", ("pair", "ratio"), (("uvicorn vs gthread", "1.30x"),))
    return results.with_section("claims", claims_section(verdict, "io-ratio", (ratios,)))


@pytest.fixture
def results_path(tmp_path: Path) -> Path:
    path = tmp_path / "run.json"
    _with_claims(build_results()).write(path)
    return path


def test_article_table_sits_beside_the_measured_figures() -> None:
    report = build_report(build_results(), Path("run.json"))
    rows = {row.framework: row for row in report.article}
    # Canonical servers: FastAPI on uvicorn, Flask and Django on gunicorn sync.
    assert rows["fastapi"].article_rps == 12_000
    assert rows["fastapi"].measured_rps == pytest.approx(1500.0)
    assert rows["flask"].measured_rps == pytest.approx(58.0)
    assert rows["django"].article_cold_ms == 1_200
    assert rows["django"].measured_cold_ms == pytest.approx(
        SETUPS[("django", "gunicorn-sync")].cold_start_ms
    )
    assert rows["django"].measured_mb == pytest.approx(30 + 3 * 70)
    assert rows["flask"].configuration == "gunicorn sync, 3 workers"


def test_every_section_has_its_content(results_path: Path) -> None:
    results = Results.read(results_path)
    report = build_report(results, results_path)
    assert len(report.throughput) == 2  # io and json
    assert len(report.latency) == 2
    assert report.memory is not None and report.cold_start is not None
    assert [e.name for e in report.experiments] == ["io-ratio"]
    assert report.commands[0][1] == "fwbench run --servers all --scenarios io,json"
    assert len(report.servers) == len(SETUPS)
    assert dict(report.machine)["CPU"] == "Fixture CPU @ 2.0GHz"


def test_html_is_self_contained_and_escapes_text(results_path: Path) -> None:
    html = render_html(Results.read(results_path), results_path)
    # Nothing to fetch: no scripts, stylesheets, images or fonts from anywhere.
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert html.count("<svg") == 6  # 2 throughput, 2 latency, memory, cold start
    assert "\u2717 contradicted" in html


def test_markdown_has_the_tables_and_verdicts(results_path: Path) -> None:
    text = render_markdown(Results.read(results_path), results_path)
    assert "| **FastAPI** (uvicorn, 1 worker) | 12,000 | **1,500** | 0.12x |" in text
    assert '**\u2717 contradicted**: "3x faster than Flask for I/O bound tasks"' in text
    assert "## Memory per worker and in total" in text
    assert "```sh\nfwbench run --servers all --scenarios io,json\n```" in text
    assert "&lt;script&gt;" in text  # raw HTML in a finding cannot leak into a wiki page


def test_write_report_returns_what_it_wrote(results_path: Path, tmp_path: Path) -> None:
    written = write_report(
        results_path, html=tmp_path / "out" / "r.html", markdown=tmp_path / "r.md"
    )
    assert written == [tmp_path / "out" / "r.html", tmp_path / "r.md"]
    assert all(path.stat().st_size > 1000 for path in written)


def test_cli_writes_html_and_markdown(results_path: Path, tmp_path: Path) -> None:
    html, markdown = tmp_path / "report.html", tmp_path / "report.md"
    result = CliRunner().invoke(
        cli, ["report", str(results_path), "--html", str(html), "--markdown", str(markdown)]
    )
    assert result.exit_code == 0, result.output
    assert f"Report written to {html}" in result.output
    assert f"Report written to {markdown}" in result.output


def test_cli_explains_a_missing_or_invalid_results_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["report"])
    assert result.exit_code == 1
    assert "run `fwbench run` first" in result.output
    (tmp_path / "bad.json").write_text("[1, 2")
    result = CliRunner().invoke(cli, ["report", "bad.json"])
    assert result.exit_code == 1
    assert "bad.json is not JSON" in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- browser

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Console messages (and uncaught errors) are logged as "CONSOLE" lines on stderr.
    "--enable-logging=stderr",
    "--v=0",
)


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail(
            "chromium is not installed: run `apt-get install -y chromium` (scripts/test does)"
        )
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_detection_catches_a_script_error(tmp_path: Path) -> None:
    """The check below can fail: a page that logs an error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>console.error('boom'); undefined_call();</script>")
    run = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert any("boom" in line for line in _console_lines(run.stderr))


def test_report_renders_in_headless_chromium(results_path: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_report(results_path, html=page)
    dom = _chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert _console_lines(dom.stderr) == []
    svgs = re.findall(r"<svg\b.*?</svg>", dom.stdout, flags=re.DOTALL)
    assert len(svgs) == 6
    for svg in svgs:
        # Every chart drew something: data groups with shapes inside.
        assert re.search(r'class="(series|bar|range)"', svg)
        assert len(re.findall(r"<(path|rect|circle|polygon|line)\b", svg)) > 20
    throughput = svgs[0]
    assert throughput.count('class="series"') == len(SETUPS)

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    shot = _chromium(
        page, tmp_path / "profile-shot", "--window-size=1280,3200", f"--screenshot={screenshot}"
    )
    assert _console_lines(shot.stderr) == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000  # a rendered page, not a blank one


# --------------------------------------------------------------------------- fairness

#: A recorded `fwbench fairness` document (Flask on gunicorn sync, json and db).
FAIRNESS = Path(__file__).parents[1] / "harness" / "data" / "fairness-flask.json"


def test_fairness_markdown_is_the_recorded_one() -> None:
    """Every cost, its reading and the machine, rendered exactly (regenerate the expected
    file with render_fairness_markdown when the page changes on purpose)."""
    text = render_fairness_markdown(Fairness.read(FAIRNESS), FAIRNESS)
    expected = Path(__file__).with_name("expected") / "fairness-flask.md"
    assert text == expected.read_text(encoding="utf-8")


def test_fairness_html_marks_claimed_costs_and_is_self_contained() -> None:
    html = render_fairness_html(Fairness.read(FAIRNESS), FAIRNESS)
    # The two costs that clear the spread are bold; the others say they are noise.
    assert re.findall(r"<strong>(-?[\d.]+%)</strong>", html) == ["-35.0%", "-30.0%"]
    assert html.count("within noise</span>") == 8
    assert "2 of 10 costs clear the spread of the repeats" in html
    assert not re.search(r"<(script|link|img|iframe)\b", html)


def test_cli_reports_a_fairness_document(tmp_path: Path) -> None:
    html = tmp_path / "fairness.html"
    result = CliRunner().invoke(cli, ["report", str(FAIRNESS), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert "What the contract's extras cost" in html.read_text(encoding="utf-8")


def test_a_broken_fairness_document_is_one_sentence(tmp_path: Path) -> None:
    broken = tmp_path / "fairness.json"
    data = json.loads(FAIRNESS.read_text(encoding="utf-8"))
    data["variants"] = ["metrics"]
    broken.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(cli, ["report", str(broken)])
    assert result.exit_code == 1
    assert "pass a file written by `fwbench fairness`" in result.output
    assert "Traceback" not in result.output


def test_fairness_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "fairness.html"
    write_report(FAIRNESS, html=page)
    dom = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert _console_lines(dom.stderr) == []
    assert dom.stdout.count("<tr>") == 3 + 1 + len(Fairness.read(FAIRNESS).machine.packages)
