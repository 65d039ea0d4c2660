"""``fwbench fairness``: the variants, the cost rule, the stored document, the table on a
recorded run, one tiny end-to-end run on real servers, and one-sentence errors."""

from __future__ import annotations

import io
import json
import socket
from dataclasses import replace
from pathlib import Path

import jsonschema
import psutil
import pytest
from rich.console import Console

from fwbench.harness import fairness
from fwbench.harness.documents import dump
from fwbench.harness.errors import InvalidOption
from fwbench.harness.fairness import (
    ALL_OFF,
    ALL_ON,
    TECHEMPOWER,
    VARIANTS,
    Fairness,
    cost,
    extras_off_value,
    print_fairness,
    resolve_variants,
)
from fwbench.harness.results import ResultsFormatError
from tests.harness.test_run_e2e import fwbench, interrupt, listening, one_sentence_error

#: The ports these tests give fwbench (the harness tests' range is 18600-18699).
PORTS = range(18670, 18690)
#: Nothing listens here: an unreachable PostgreSQL server.
NO_DATABASE = "postgresql://postgres@127.0.0.1:18699/fwbench_hf"
#: A recorded run: flask on gunicorn-sync (1 worker), json and db, every variant, 2
#: repeats of 1 s, on a branch where the services ignored FWBENCH_EXTRAS_OFF.
RECORDED = Path(__file__).with_name("data") / "fairness-flask.json"
#: Its tables as ``fwbench fairness`` prints them at 160 columns: ``fairness-flask.txt``.

TINY = (
    "--frameworks", "flask", "--servers", "gunicorn-sync", "--workers", "1",
    "--scenarios", "json", "--extras", "all-on,all-off", "--duration", "1",
    "--repeats", "1", "--warmup", "0", "--ports", f"{PORTS.start}-{PORTS.stop - 1}",
)  # fmt: skip


def test_the_scenarios_are_techempowers_six() -> None:
    assert TECHEMPOWER == ("json", "plaintext", "db", "queries", "fortunes", "updates")


def test_variants_keep_their_order_and_always_include_the_reference() -> None:
    assert VARIANTS == (ALL_ON, "request-id", "metrics", "audit", "body-limit", ALL_OFF)
    assert resolve_variants(["all-off", "metrics"]) == (ALL_ON, "metrics", ALL_OFF)
    with pytest.raises(InvalidOption, match="unknown extra cache; use a list of: all-on"):
        resolve_variants(["cache", "metrics"])


def test_each_variant_sets_the_flag_the_services_read() -> None:
    assert [extras_off_value(v) for v in VARIANTS] == [
        "", "request-id", "metrics", "audit", "body-limit", "all",
    ]  # fmt: skip


def test_a_cost_is_claimed_only_when_it_clears_the_spread() -> None:
    document = Fairness.read(RECORDED)
    reference = document.point(("flask", "gunicorn-sync"), "json", ALL_ON)
    assert reference is not None
    faster = replace(
        reference,
        repeats=tuple(replace(s, duration_us=s.duration_us // 2) for s in reference.repeats),
    )
    clear = cost(reference, faster)
    assert clear.value == pytest.approx(0.5, abs=0.01) and clear.claimed
    same = cost(reference, reference)
    assert same.value == 0 and same.within_noise and not same.claimed
    once = cost(replace(reference, repeats=reference.repeats[:1]), faster)
    assert once.value > 0.4 and once.within_noise, "a single repeat has no spread to clear"


def test_the_recorded_document_fits_the_committed_schema() -> None:
    schema_file = Path(fairness.__file__).with_name("fairness.schema.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    # What fwbench writes for the recorded run today (read, then written again): the
    # recording predates fields added since with a default, such as config.replicas.
    checker.validate(dump(Fairness.read(RECORDED)))


def test_a_document_without_the_reference_first_is_refused(tmp_path: Path) -> None:
    data = json.loads(RECORDED.read_text(encoding="utf-8"))
    data["variants"] = ["metrics", "all-on"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResultsFormatError, match="all-on first"):
        Fairness.read(broken)


def test_the_table_on_a_recorded_run() -> None:
    console = Console(record=True, width=160, file=io.StringIO())
    print_fairness(console, Fairness.read(RECORDED))
    # rich pads centred lines with spaces to the width; the text is what a reader sees.
    shown = "".join(line.rstrip() + "\n" for line in console.export_text().splitlines())
    assert shown == RECORDED.with_suffix(".txt").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_tiny_run_stores_both_variants_and_leaves_no_server(tmp_path: Path) -> None:
    output = tmp_path / "fairness.json"
    done = fwbench(tmp_path, "fairness", *TINY, "--output", str(output))
    assert done.returncode == 0, done.stderr
    document = Fairness.read(output)
    assert document.status == "complete"
    assert document.variants == (ALL_ON, ALL_OFF)
    assert [(s.variant, s.extras_off, s.service.workers) for s in document.services] == [
        (ALL_ON, "", 1),
        (ALL_OFF, "all", 1),
    ]
    assert [(p.variant, p.point.key) for p in document.points] == [
        (ALL_ON, ("flask", "gunicorn-sync", "json", 64)),
        (ALL_OFF, ("flask", "gunicorn-sync", "json", 64)),
    ]
    for measured in document.points:
        assert measured.point.valid, measured.point.problems
        assert measured.point.repeats[0].requests > 0
    assert "flask/gunicorn-sync: what the contract's extras cost" in done.stdout
    assert "Reading: flask/gunicorn-sync: none of the 1 costs clears the spread" in done.stdout
    assert_no_server_left(document)


def assert_no_server_left(document: Fairness) -> None:
    assert listening(PORTS) == [], "a server started by fwbench fairness is still listening"
    binds = [arg for s in document.services for arg in s.service.command if "127.0.0.1:" in arg]
    assert len(binds) == len(document.services) > 0
    survivors = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if any(bind in (p.info["cmdline"] or ()) for bind in binds)
    ]
    assert survivors == []


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ctrl_c_stops_every_server_and_keeps_the_document(tmp_path: Path) -> None:
    output = tmp_path / "fairness.json"
    longer = ("--scenarios", "json,plaintext", "--repeats", "3")
    returncode, stdout, stderr = interrupt(
        tmp_path, "fairness", *TINY, *longer, "--output", str(output),
        # Once both servers are up (the run has repeats left to do).
        ready=lambda document: len(document["services"]) == 2,
    )  # fmt: skip
    assert returncode == 130, stderr
    assert "Traceback" not in stderr and "Interrupted" in stdout
    document = Fairness.read(output)
    assert document.status == "interrupted" and len(document.points) < 4
    assert_no_server_left(document)


def test_unknown_extra_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence_error(fwbench(tmp_path, "fairness", "--extras", "all-off,cache"))
    assert "unknown extra cache; use a list of: all-on, request-id" in line


def test_a_scenario_that_is_not_techempowers_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence_error(fwbench(tmp_path, "fairness", "--scenarios", "json,io"))
    assert "io is not a TechEmpower scenario; use a list of: json, plaintext" in line


def test_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence_error(fwbench(tmp_path, "fairness", "--database", NO_DATABASE))
    assert "cannot reach PostgreSQL at 127.0.0.1:18699" in line


def test_busy_port_is_one_sentence_and_recorded(tmp_path: Path) -> None:
    output = tmp_path / "fairness.json"
    busy = PORTS.stop - 1
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", busy))
        holder.listen()
        done = fwbench(tmp_path, "fairness", *TINY[:-1], f"{busy}-{busy}", "--output", str(output))
    line = one_sentence_error(done)
    assert f"every port in {busy}-{busy} on 127.0.0.1 is in use" in line
    document = Fairness.read(output)
    assert document.status == "failed" and document.points == ()


def test_the_reading_states_a_chance_count_below_one_in_two_digits() -> None:
    # 10 costs at 5 repeats: 10 x 2 / C(10, 5) = 0.079 expected by chance; "0.1" would
    # round it up, "0.0" (as a 5-repeat run printed) says none can.
    document = Fairness.read(RECORDED)
    five = replace(document, config=replace(document.config, repeats=5))
    sentence = fairness.reading(five, ("flask", "gunicorn-sync"))
    assert "(with 5 repeats, 1 in 126 would by chance alone, about 0.079 of 10)" in sentence
