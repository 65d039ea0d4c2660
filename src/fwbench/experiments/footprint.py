"""Experiment 8: dependency and code footprint ("plugin sprawl", "dependency hell").

For each implementation: the distributions it pulls in (the transitive closure of its
direct dependencies, read from the installed packages' metadata, extras and markers
evaluated the way pip does), their installed size on disk, and the lines of code its
service package took to meet the contract. Nothing is started; it takes a second.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import io
import tokenize
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from fwbench.experiments.context import Context
from fwbench.experiments.model import Experiment, Plan, Table, Verdict
from fwbench.experiments.verdicts import sprawl_rule
from fwbench.harness.servers import FRAMEWORK_FACTS, Framework

#: What each implementation needs at run time, as requirement strings (extras included):
#: the libraries its service package imports, plus those it loads by configuration
#: (:data:`LOADED_BY_CONFIGURATION`). Servers are not included: the same servers are
#: available to all three (fwbench.harness.servers) and a service runs under any one of
#: them. tests/experiments/test_footprint.py checks this against the imports of each
#: package, so it cannot drift from the code.
DIRECT_DEPENDENCIES: Final[dict[Framework, tuple[str, ...]]] = {
    "fastapi": (
        "fastapi",
        "pydantic",
        "pydantic-settings",
        "SQLAlchemy[asyncio]",
        "asyncpg",
        "aiosqlite",
        "aiohttp",
        "httpx",
        "Jinja2",
        "prometheus-client",
    ),
    "flask": (
        "Flask",
        "APIFlask",
        "Flask-SQLAlchemy",
        "SQLAlchemy",
        "psycopg[binary]",
        "urllib3",
        "prometheus-client",
    ),
    "django": (
        "Django",
        "djangorestframework",
        "drf-spectacular",
        "dj-database-url",
        "psycopg[binary,pool]",
        "httpx",
        "urllib3",
        "orjson",
        "prometheus-client",
        "whitenoise",
    ),
}

#: Direct dependencies no module imports by name, and why the implementation needs them.
LOADED_BY_CONFIGURATION: Final[dict[str, dict[str, str]]] = {
    "fastapi": {
        "asyncpg": "SQLAlchemy's PostgreSQL driver, chosen by DATABASE_URL",
        "aiosqlite": "SQLAlchemy's SQLite driver, chosen by DATABASE_URL",
        "jinja2": "the /fortunes template engine, loaded by starlette.templating",
    },
    "flask": {"psycopg": "SQLAlchemy's PostgreSQL driver, chosen by DATABASE_URL"},
    "django": {
        "psycopg": "Django's PostgreSQL backend and its connection pool",
        "whitenoise": "serves the admin's static files, named in the MIDDLEWARE setting",
    },
}

#: "Plugin sprawl: Suddenly you're maintaining 15 fragile dependencies".
SPRAWL_CLAIM: Final = "Plugin sprawl: Suddenly you’re maintaining 15 fragile dependencies"
SPRAWL_COUNT: Final = 15


@dataclass(frozen=True)
class Distribution:
    """One installed distribution: canonical ``name``, ``version``, ``size_bytes`` of the
    files its RECORD lists, and whether the implementation requires it ``direct``-ly."""

    name: str
    version: str
    size_bytes: int
    direct: bool


@dataclass(frozen=True)
class CodeLines:
    """Lines of code of a package: ``python`` non-blank, non-comment, non-docstring lines
    of its modules; ``generated`` the same for generated modules (Django migrations);
    ``other`` non-blank lines of its other files (templates, settings data)."""

    python: int
    generated: int
    other: int
    files: int


@dataclass(frozen=True)
class ImplementationFootprint:
    """The footprint of one implementation."""

    framework: str
    direct: tuple[str, ...]
    closure: tuple[Distribution, ...]
    missing: tuple[str, ...]
    lines: CodeLines

    @property
    def size_bytes(self) -> int:
        """Installed size of the whole closure."""
        return sum(dist.size_bytes for dist in self.closure)


@dataclass(frozen=True)
class FootprintEvidence:
    """The footprint of every implementation found installed."""

    implementations: tuple[ImplementationFootprint, ...]


def closure(requirements: tuple[str, ...]) -> tuple[list[Distribution], list[str]]:
    """The installed distributions ``requirements`` pull in, transitively.

    Each requirement's marker is evaluated for this interpreter and for the extras
    requested of its parent, as pip does. Returns the distributions (sorted by name)
    and the requirements that apply here but are not installed.
    """
    direct = {canonicalize_name(Requirement(text).name) for text in requirements}
    queue = deque(Requirement(text) for text in requirements)
    extras_seen: dict[str, set[str]] = {}
    found: dict[str, Distribution] = {}
    missing: list[str] = []
    while queue:
        requirement = queue.popleft()
        name = canonicalize_name(requirement.name)
        known = extras_seen.get(name)
        if known is not None and requirement.extras <= known:
            continue
        extras_seen.setdefault(name, set()).update(requirement.extras)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(str(requirement))
            continue
        found[name] = Distribution(name, dist.version, _installed_size(dist), name in direct)
        for text in dist.requires or ():
            child = Requirement(text)
            if _applies(child, requirement.extras):
                queue.append(child)
    return sorted(found.values(), key=lambda dist: dist.name), missing


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    environment = {key: str(value) for key, value in default_environment().items()}
    return any(
        requirement.marker.evaluate({**environment, "extra": extra}) for extra in ("", *extras)
    )


def _installed_size(dist: importlib.metadata.Distribution) -> int:
    total = 0
    for file in dist.files or ():
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def package_dir(package: str) -> Path | None:
    """The directory of ``package`` without importing it, or None when absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def count_lines(directory: Path) -> CodeLines:
    """Count the lines of code under ``directory`` (see :class:`CodeLines`)."""
    python = generated = other = files = 0
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        files += 1
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix != ".py":
            other += sum(1 for line in text.splitlines() if line.strip())
        elif "migrations" in path.parts:
            generated += python_code_lines(text)
        else:
            python += python_code_lines(text)
    return CodeLines(python, generated, other, files)


def python_code_lines(source: str) -> int:
    """Lines of ``source`` holding code: not blank, not only a comment, not a docstring."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def measure_footprint() -> FootprintEvidence:
    """Measure every implementation whose package is present."""
    implementations = []
    for framework, requirements in DIRECT_DEPENDENCIES.items():
        directory = package_dir(FRAMEWORK_FACTS[framework].package)
        if directory is None:
            continue
        dists, missing = closure(requirements)
        implementations.append(
            ImplementationFootprint(
                framework, requirements, tuple(dists), tuple(missing), count_lines(directory)
            )
        )
    return FootprintEvidence(tuple(implementations))


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f}"


class Footprint(Experiment[FootprintEvidence]):
    """Distributions, installed size and lines of code per implementation."""

    name = "footprint"
    # Across hosts it runs whole on the service host: what it reads is the installed
    # packages and imports of the checkout there.
    whole_on_service_host = True
    title = "Dependency and code footprint"
    claims = (SPRAWL_CLAIM,)
    setup = (
        "For each implementation, the transitive closure of its direct dependencies (listed "
        "in fwbench.experiments.footprint, checked against its imports) from installed "
        "package metadata, their size on disk, and the lines of code of its service "
        "package. Servers are excluded (shared by all three)."
    )
    evidence_type = FootprintEvidence

    def plan(self, context: Context) -> Plan:
        return Plan(5, ("read package metadata and count lines; nothing is started",))

    def run(self, context: Context) -> FootprintEvidence:
        return measure_footprint()

    def tables(self, evidence: FootprintEvidence) -> tuple[Table, ...]:
        rows = tuple(
            (
                impl.framework,
                str(len(impl.direct)),
                str(len(impl.closure)),
                _mb(impl.size_bytes),
                str(impl.lines.python),
                str(impl.lines.generated),
                str(impl.lines.other),
            )
            for impl in evidence.implementations
        )
        summary = Table(
            "Footprint per implementation",
            (
                "framework",
                "direct deps",
                "closure",
                "installed MB",
                "code lines",
                "generated lines",
                "template/other lines",
            ),
            rows,
            "code lines: non-blank, non-comment, non-docstring Python lines of the service "
            "package; generated: Django migrations.",
        )
        names = sorted({dist.name for impl in evidence.implementations for dist in impl.closure})
        by_impl = {
            impl.framework: {d.name: d for d in impl.closure} for impl in evidence.implementations
        }
        detail = Table(
            "Distributions pulled in (* = direct dependency)",
            ("distribution", *by_impl),
            tuple(
                (
                    name,
                    *(
                        ("*" if dists[name].direct else "x") + f" {_mb(dists[name].size_bytes)} MB"
                        if name in dists
                        else ""
                        for dists in by_impl.values()
                    ),
                )
                for name in names
            ),
        )
        return summary, detail

    def verdicts(self, evidence: FootprintEvidence) -> tuple[Verdict, ...]:
        closures = {impl.framework: len(impl.closure) for impl in evidence.implementations}
        return (sprawl_rule(SPRAWL_CLAIM, closures, "flask", SPRAWL_COUNT),)
