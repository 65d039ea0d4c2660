"""The footprint experiment: its dependency lists match the code, and its counters count."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from fwbench.experiments.footprint import (
    DIRECT_DEPENDENCIES,
    LOADED_BY_CONFIGURATION,
    Footprint,
    closure,
    measure_footprint,
    package_dir,
    python_code_lines,
)
from fwbench.experiments.model import Outcome
from fwbench.harness.servers import FRAMEWORK_FACTS, Framework


def _runtime_imports(tree: ast.AST) -> set[str]:
    """Top-level module names imported at run time (``if TYPE_CHECKING:`` blocks are
    read by type checkers only)."""
    modules: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            modules |= set().union(*(_runtime_imports(child) for child in node.orelse))
            continue
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
        modules |= _runtime_imports(node)
    return modules


def _imported_distributions(directory: Path) -> set[str]:
    """Third-party distributions the modules under ``directory`` import by name."""
    modules: set[str] = set()
    for path in directory.rglob("*.py"):
        modules |= _runtime_imports(ast.parse(path.read_text(encoding="utf-8")))
    owners = importlib.metadata.packages_distributions()
    return {
        canonicalize_name(dist)
        for module in modules - set(sys.stdlib_module_names) - {"fwbench"}
        for dist in owners.get(module, [module])
    }


@pytest.mark.parametrize("framework", list(DIRECT_DEPENDENCIES))
def test_direct_dependencies_cover_what_the_code_imports(framework: Framework) -> None:
    directory = package_dir(FRAMEWORK_FACTS[framework].package)
    assert directory is not None
    imported = _imported_distributions(directory)
    dists, missing = closure(DIRECT_DEPENDENCIES[framework])
    assert missing == []
    assert imported - {dist.name for dist in dists} == set()


@pytest.mark.parametrize("framework", list(DIRECT_DEPENDENCIES))
def test_every_direct_dependency_is_imported_or_loaded_by_configuration(
    framework: Framework,
) -> None:
    directory = package_dir(FRAMEWORK_FACTS[framework].package)
    assert directory is not None
    imported = _imported_distributions(directory)
    declared = {canonicalize_name(Requirement(r).name) for r in DIRECT_DEPENDENCIES[framework]}
    assert declared - imported == set(LOADED_BY_CONFIGURATION[framework])


def test_closure_follows_extras_and_skips_other_platforms() -> None:
    plain = {dist.name for dist in closure(("psycopg",))[0]}
    with_extras = {dist.name for dist in closure(("psycopg[binary,pool]",))[0]}
    assert "psycopg-binary" not in plain
    assert {"psycopg", "psycopg-binary", "psycopg-pool"} <= with_extras
    # tzdata is required only on Windows ('sys_platform == "win32"').
    assert "tzdata" not in with_extras
    assert [d.name for d in closure(("psycopg",))[0] if d.direct] == ["psycopg"]


def test_closure_reports_what_is_not_installed() -> None:
    dists, missing = closure(("fwbench-no-such-distribution",))
    assert dists == []
    assert missing == ["fwbench-no-such-distribution"]


def test_python_code_lines_skip_blanks_comments_and_docstrings() -> None:
    source = '''"""Module docstring,
on two lines."""

import os  # a trailing comment keeps the line

# a comment line


def f() -> str:
    """Function docstring."""
    text = """a multi-line
string value"""
    return text
'''
    # import, def, text = (2 lines), return
    assert python_code_lines(source) == 5


def test_footprint_measures_every_implementation_and_judges_flask() -> None:
    evidence = measure_footprint()
    assert [impl.framework for impl in evidence.implementations] == list(DIRECT_DEPENDENCIES)
    for impl in evidence.implementations:
        assert impl.lines.python > 100
        assert impl.size_bytes > 1_000_000
        assert {d.name for d in impl.closure if d.direct} == {
            canonicalize_name(Requirement(r).name) for r in impl.direct
        }
    (verdict,) = Footprint().verdicts(evidence)
    assert verdict.outcome in set(Outcome)
    assert len(verdict.findings) == 3
