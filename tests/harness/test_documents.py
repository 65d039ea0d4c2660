"""The one mechanism for fwbench's JSON documents: the committed schemas match the code, and
a document is written whole or not at all."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fwbench import schemas
from fwbench.harness.documents import write_json


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


def test_a_document_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "new" / "results.json"
    write_json(path, {"points": [1, 2]})
    write_json(path, {"points": [1, 2, 3]})
    assert json.loads(path.read_text(encoding="utf-8")) == {"points": [1, 2, 3]}
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_a_write_that_fails_on_a_full_disk_keeps_the_old_document_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    """A real write failure: a process whose file size limit (RLIMIT_FSIZE) is below the
    new document's size gets EFBIG from write(2), as it would ENOSPC on a full disk."""
    path = tmp_path / "results.json"
    write_json(path, {"points": [1]})
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from fwbench.harness.documents import write_json
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the writer
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            write_json(Path({str(path)!r}), {{"points": list(range(100_000))}})
        except OSError as error:
            sys.exit(f"OSError {{error.errno}}")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1 and result.stderr.startswith("OSError "), result.stderr
    assert json.loads(path.read_text(encoding="utf-8")) == {"points": [1]}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
