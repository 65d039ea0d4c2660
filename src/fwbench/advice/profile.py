"""The user's situation: one frozen value object holding the answers to the questions.

Every answer has a default so that a profile file or a few flags are enough; validation
happens once, in ``Profile.__post_init__``, and raises :class:`ProfileError` with one
sentence naming the field and what it accepts.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from fwbench.harness.servers import FRAMEWORKS

OBSERVABILITY: tuple[str, ...] = ("metrics", "logging", "tracing")


class ProfileError(ValueError):
    """A profile answer, file or flag that cannot be used; the message says what to do."""


class Workload(StrEnum):
    """Shape of the work one request does."""

    IO = "io"
    CPU = "cpu"
    MIXED = "mixed"


class Database(StrEnum):
    """What the service stores its data in."""

    NONE = "none"
    RELATIONAL = "relational"
    OTHER = "other"


class Deployment(StrEnum):
    """Where instances of the service run."""

    SERVERLESS = "serverless"
    CONTAINERS = "containers"
    VMS = "vms"


class Deadline(StrEnum):
    """How much schedule pressure the first delivery is under."""

    RELAXED = "relaxed"
    NORMAL = "normal"
    TIGHT = "tight"


@dataclass(frozen=True)
class Profile:
    """The answers that drive a recommendation. Field defaults are the answers used when a
    question is skipped; :mod:`fwbench.advice.questions` holds the wording of each one."""

    needs_openapi: bool = True
    workload: Workload = Workload.IO
    downstream_ms: float = 50.0
    peak_rps: float = 200.0
    p99_target_ms: float = 500.0
    team_size: int = 4
    team_debugs_async: bool = False
    known_frameworks: frozenset[str] = frozenset()
    legacy_plugins: bool = False
    prefers_flexibility: bool = False
    needs_admin: bool = False
    needs_auth: bool = False
    needs_orm: bool = False
    audit: bool = False
    database: Database = Database.RELATIONAL
    grows_into_monolith: bool = False
    observability: frozenset[str] = field(default_factory=lambda: frozenset({"logging"}))
    deployment: Deployment = Deployment.CONTAINERS
    memory_budget_mb: float = 512.0
    cold_start_budget_ms: float = 1000.0
    deadline: Deadline = Deadline.NORMAL

    def __post_init__(self) -> None:
        for name, enum in (
            ("workload", Workload),
            ("database", Database),
            ("deployment", Deployment),
            ("deadline", Deadline),
        ):
            value = getattr(self, name)
            if not isinstance(value, enum):
                allowed = ", ".join(member.value for member in enum)
                raise ProfileError(f"{name} must be one of {allowed}, not {value!r}.")
        _check_subset("known_frameworks", self.known_frameworks, FRAMEWORKS)
        _check_subset("observability", self.observability, OBSERVABILITY)
        for name in ("peak_rps", "p99_target_ms", "memory_budget_mb", "cold_start_budget_ms"):
            if not getattr(self, name) > 0:
                raise ProfileError(f"{name} must be a number greater than 0.")
        if not 0 <= self.downstream_ms <= 60_000:
            raise ProfileError("downstream_ms must be between 0 and 60000 milliseconds.")
        if self.team_size < 1:
            raise ProfileError("team_size must be a whole number of at least 1.")

    def to_dict(self) -> dict[str, Any]:
        """The answers as plain JSON-ready values (sets as sorted lists, enums as strings)."""
        out: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            out[item.name] = sorted(value) if isinstance(value, frozenset) else value
        return out


def _check_subset(name: str, values: frozenset[str], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ProfileError(
            f"{name} accepts only {', '.join(allowed)}; {', '.join(unknown)} is not one of them."
        )


def profile_from_mapping(answers: Mapping[str, Any], base: Profile | None = None) -> Profile:
    """Build a profile from loosely typed answers (a parsed file or CLI flags).

    ``answers`` maps field names (``needs_openapi`` or ``needs-openapi``) to values as a
    TOML/YAML parser or a prompt produces them; ``base`` supplies every answer not given
    (default: ``Profile()``, the documented defaults). Unknown keys are an error so that a
    typo in a profile file is not silently ignored.
    """
    base = base or Profile()
    fields = {item.name: item for item in dataclasses.fields(Profile)}
    changes: dict[str, Any] = {}
    for raw_key, value in answers.items():
        key = str(raw_key).replace("-", "_")
        if key not in fields:
            known = ", ".join(fields)
            raise ProfileError(f"unknown profile answer {raw_key!r}; known answers: {known}.")
        changes[key] = coerce(key, value)
    return dataclasses.replace(base, **changes)


def coerce(name: str, value: Any) -> Any:
    """Convert one raw answer to the type of field ``name`` (e.g. ``"yes"`` -> ``True``,
    ``"flask, django"`` -> ``frozenset({"flask", "django"})``)."""
    default = getattr(Profile(), name)
    try:
        if isinstance(default, bool):
            return _to_bool(value)
        if isinstance(default, StrEnum):
            return type(default)(str(value).strip().lower())
        if isinstance(default, frozenset):
            items = value.split(",") if isinstance(value, str) else list(value)
            return frozenset(str(item).strip().lower() for item in items if str(item).strip())
        if isinstance(default, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        return float(value)
    except (TypeError, ValueError):
        expected = _describe(default)
        raise ProfileError(f"{name} must be {expected}, not {value!r}.") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"y", "yes", "true", "1", "on"}:
        return True
    if text in {"n", "no", "false", "0", "off"}:
        return False
    raise ValueError(value)


def _describe(default: Any) -> str:
    if isinstance(default, bool):
        return "yes or no"
    if isinstance(default, StrEnum):
        return "one of " + ", ".join(member.value for member in type(default))
    if isinstance(default, frozenset):
        return "a comma-separated list"
    if isinstance(default, int):
        return "a whole number"
    return "a number"


def load_profile(path: Path) -> Profile:
    """Read a profile file: TOML (``.toml``) or YAML (``.yaml``/``.yml``), a flat table of
    answers; answers not in the file keep their defaults."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProfileError(f"cannot read profile {path}: {error.strerror}.") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text) or {}
        else:
            raise ProfileError(f"profile {path} must end in .toml, .yaml or .yml.")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        first_line = str(error).splitlines()[0]
        raise ProfileError(f"profile {path} is not valid {suffix[1:]}: {first_line}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"profile {path} must be a table of answers (key = value).")
    return profile_from_mapping(data)
