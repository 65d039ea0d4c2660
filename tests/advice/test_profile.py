"""The profile model: defaults, validation, files and the questions that fill it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fwbench.advice import QUESTIONS, Profile, ProfileError, load_profile, profile_from_mapping
from fwbench.advice.profile import Deadline, Deployment, Workload


def test_every_profile_field_has_one_question_in_field_order() -> None:
    assert [q.name for q in QUESTIONS] == [f.name for f in dataclasses.fields(Profile)]
    assert all(q.prompt.endswith("?") and q.help for q in QUESTIONS)


def test_question_defaults_come_from_the_profile() -> None:
    by_name = {q.name: q for q in QUESTIONS}
    assert by_name["workload"].default is Workload.IO
    assert by_name["workload"].choices == ("io", "cpu", "mixed")
    assert by_name["needs_openapi"].default_text() == "yes"
    assert by_name["observability"].default_text() == "logging"
    assert by_name["peak_rps"].default_text() == "200"


def test_mapping_accepts_loose_values_and_dashed_keys() -> None:
    profile = profile_from_mapping(
        {
            "needs-openapi": "no",
            "workload": "CPU",
            "known_frameworks": "Flask, django",
            "team_size": 3.0,
            "peak_rps": "150",
            "observability": [],
            "audit": " On ",
        }
    )
    assert profile.audit is True
    assert profile.needs_openapi is False
    assert profile.workload is Workload.CPU
    assert profile.known_frameworks == frozenset({"flask", "django"})
    assert profile.team_size == 3
    assert profile.peak_rps == 150.0
    assert profile.observability == frozenset()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"workload": "quantum"}, "workload must be one of io, cpu, mixed"),
        ({"known_frameworks": "flask,rails"}, "rails is not one of them"),
        ({"peak_rps": 0}, "peak_rps must be greater than 0 and at most 10,000,000"),
        ({"team_size": 2.5}, "team_size must be a whole number"),
        ({"needs_admin": "maybe"}, "needs_admin must be yes or no"),
        ({"downstream_ms": -1}, "downstream_ms must be at least 0 and at most 60,000 milliseconds"),
        (
            {"nedds_admin": True},
            r"^unknown profile answer 'nedds_admin'; did you mean needs_admin\?$",
        ),
        ({"peak_rps": "fast"}, r"^peak_rps must be a number, not 'fast'\.$"),
        ({"peak_rps": float("nan")}, r"^peak_rps must be a number, not nan\.$"),
        ({"needs_admin": 2}, r"^needs_admin must be yes or no, not 2\.$"),
    ],
)
def test_bad_answers_name_the_field_and_what_it_accepts(
    answers: dict[str, object], message: str
) -> None:
    with pytest.raises(ProfileError, match=message):
        profile_from_mapping(answers)


def test_toml_and_yaml_profiles_give_the_same_profile(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text(
        'deployment = "serverless"\ndeadline = "tight"\nknown_frameworks = ["django"]\n'
        "memory_budget_mb = 256\n"
    )
    yaml = tmp_path / "p.yml"
    yaml.write_text(
        "deployment: serverless\ndeadline: tight\nknown_frameworks: [django]\n"
        "memory_budget_mb: 256\n"
    )
    expected = Profile(
        deployment=Deployment.SERVERLESS,
        deadline=Deadline.TIGHT,
        known_frameworks=frozenset({"django"}),
        memory_budget_mb=256.0,
    )
    assert load_profile(toml) == expected
    assert load_profile(yaml) == expected


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("p.toml", "workload = ", "is not valid toml"),
        ("p.yaml", "workload: [io", "is not valid yaml"),
        ("p.yaml", "- io\n- cpu\n", "must be a table of answers"),
        ("p.json", "{}", "must end in .toml, .yaml or .yml"),
    ],
)
def test_unusable_profile_files_say_why(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ProfileError, match=message):
        load_profile(path)


def test_missing_profile_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile(tmp_path / "absent.toml")
