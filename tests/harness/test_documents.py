"""The one mechanism for fwbench's JSON documents: the committed schemas match the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwbench import schemas


def test_the_committed_schemas_are_generated_from_the_code() -> None:
    outdated = schemas.stale()
    assert not outdated, f"regenerate with `python -m fwbench.schemas`: {outdated}"


def test_the_check_names_a_schema_that_drifted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(schemas, "_PACKAGE", tmp_path)
    for name in schemas.SCHEMAS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    assert schemas.main([]) == 0
    assert schemas.main(["--check"]) == 0
    drifted = tmp_path / next(iter(schemas.SCHEMAS))
    drifted.write_text(drifted.read_text(encoding="utf-8").replace("wrk", "ab"), encoding="utf-8")
    capsys.readouterr()
    assert schemas.main(["--check"]) == 1
    assert capsys.readouterr().out == (
        f"{drifted} differs from the code; run `python -m fwbench.schemas`\n"
    )
