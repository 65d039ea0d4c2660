"""The user's situation: one frozen value object holding the answers to the questions.

Every answer has a default so that a profile file or a few flags are enough. ``Profile``
is a pydantic dataclass like fwbench's other documents, but lenient the way a person
writes answers in TOML, YAML or at a prompt (``"yes"``, ``"CPU"``, ``"flask, django"``,
``"150"``); validation happens once, when it is built, and :func:`profile_from_mapping`
turns a failure into a :class:`ProfileError` with one sentence naming the field and what
it accepts.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
)
from pydantic.dataclasses import dataclass

from fwbench.harness.documents import dump
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


#: Answers are typed by people: lax types (``"150"`` is a number, ``"yes"`` a flag),
#: surrounding blanks ignored; still no field outside the profile, no NaN.
ANSWERS: Final = ConfigDict(
    extra="forbid",
    allow_inf_nan=False,
    str_strip_whitespace=True,
    # The advice document's schema: every answer is written, defaults included.
    json_schema_serialization_defaults_required=True,
)


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


#: The word that answers a set question with the empty set (the questions offer it).
NONE_WORD: Final = "none"


def _items(value: object) -> object:
    """``"Flask, django"`` or ``["Flask", "django"]`` as lower-case words; ``"none"``
    (alone) as the empty set."""
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, Iterable) and not isinstance(items, Mapping):
        words = frozenset(str(item).strip().lower() for item in items if str(item).strip())
        return frozenset() if words == {NONE_WORD} else words
    return value


def _one_of(name: str, allowed: tuple[str, ...]) -> AfterValidator:
    def check(values: frozenset[str]) -> frozenset[str]:
        unknown = sorted(values - set(allowed))
        if unknown:
            raise ValueError(
                f"{name} accepts only {', '.join(allowed)}; {', '.join(unknown)} is not one of them"
            )
        return values

    return AfterValidator(check)


def _between(low: float, high: float, unit: str = "", *, above: bool = False) -> AfterValidator:
    """A number in ``[low, high]`` (``(low, high]`` when ``above``): the upper bounds
    are far beyond any real service, so an answer past them is a typo (an extra zero,
    a unit mix-up), not a plan."""
    unit = f" {unit}" if unit else ""

    def check(value: float | None) -> float | None:
        if value is None:  # an optional answer not given
            return value
        if not (low < value if above else low <= value) or value > high:
            side = f"greater than {low:g}" if above else f"at least {low:g}"
            raise ValueError(f"must be {side} and at most {high:,.0f}{unit}")
        return value

    return AfterValidator(check)


#: A yes/no answer (``yes``, ``No``, ``on``, ``true``, ``1`` ...).
Flag = Annotated[bool, BeforeValidator(_lower)]
#: A set answer: words, written as a sorted list.
Words = Annotated[frozenset[str], BeforeValidator(_items), PlainSerializer(sorted)]
#: Bounds of the numeric answers (see :func:`_between`).
MAX_RPS: Final = 10_000_000.0
MAX_MS: Final = 3_600_000.0
MAX_MB: Final = 10_000_000.0
MAX_TEAM: Final = 100_000
MAX_CORES: Final = 1024
MAX_CONCURRENCY: Final = 10_000

#: Cores of one instance when the question is skipped, by deployment: a serverless
#: function and a container get one (the smallest common size: a function's vCPU at
#: common memory sizes, a pod's 1-CPU request), a VM two (the smallest general-purpose
#: size of the large clouds).
DEFAULT_CORES: Final[dict[str, int]] = {"serverless": 1, "containers": 1, "vms": 2}


@dataclass(frozen=True, config=ANSWERS)
class Profile:
    """The answers that drive a recommendation. Field defaults are the answers used when a
    question is skipped; :mod:`fwbench.advice.questions` holds the wording of each one."""

    needs_openapi: Flag = True
    workload: Annotated[Workload, BeforeValidator(_lower)] = Workload.IO
    downstream_ms: Annotated[float, _between(0, 60_000, "milliseconds")] = 50.0
    peak_rps: Annotated[float, _between(0, MAX_RPS, "requests per second", above=True)] = 200.0
    p99_target_ms: Annotated[float, _between(0, MAX_MS, "milliseconds", above=True)] = 500.0
    team_size: Annotated[int, _between(1, MAX_TEAM)] = 4
    team_debugs_async: Flag = False
    known_frameworks: Annotated[Words, _one_of("known_frameworks", FRAMEWORKS)] = frozenset()
    legacy_plugins: Flag = False
    prefers_flexibility: Flag = False
    needs_admin: Flag = False
    needs_auth: Flag = False
    needs_orm: Flag = False
    audit: Flag = False
    database: Annotated[Database, BeforeValidator(_lower)] = Database.RELATIONAL
    grows_into_monolith: Flag = False
    observability: Annotated[Words, _one_of("observability", OBSERVABILITY)] = Field(
        default_factory=lambda: frozenset({"logging"})
    )
    deployment: Annotated[Deployment, BeforeValidator(_lower)] = Deployment.CONTAINERS
    memory_budget_mb: Annotated[float, _between(0, MAX_MB, "MB", above=True)] = 512.0
    cold_start_budget_ms: Annotated[float, _between(0, MAX_MS, "milliseconds", above=True)] = 1000.0
    deadline: Annotated[Deadline, BeforeValidator(_lower)] = Deadline.NORMAL
    cores_per_instance: Annotated[int | None, _between(1, MAX_CORES)] = None
    function_concurrency: Annotated[int, _between(1, MAX_CONCURRENCY)] = 1

    def __post_init__(self) -> None:
        # Budgets no configuration can meet whatever it is: one sentence now, rather
        # than a plan in which every option fails.
        if self.workload is not Workload.CPU and self.p99_target_ms <= self.downstream_ms:
            raise ValueError(
                f"p99_target_ms ({self.p99_target_ms:g}) must be above downstream_ms "
                f"({self.downstream_ms:g}): every request waits that long downstream"
            )

    @property
    def cores(self) -> int:
        """Cores of one instance: the answer, else :data:`DEFAULT_CORES` of the
        deployment."""
        if self.cores_per_instance is not None:
            return self.cores_per_instance
        return DEFAULT_CORES[self.deployment.value]

    def to_dict(self) -> dict[str, Any]:
        """The answers as plain JSON-ready values (sets as sorted lists, enums as strings)."""
        data = dump(self)
        assert isinstance(data, dict)
        return data


def profile_from_mapping(answers: Mapping[str, Any], base: Profile | None = None) -> Profile:
    """Build a profile from loosely typed answers (a parsed file or CLI flags).

    ``answers`` maps field names (``needs_openapi`` or ``needs-openapi``) to values as a
    TOML/YAML parser or a prompt produces them; ``base`` supplies every answer not given
    (default: ``Profile()``, the documented defaults). Unknown keys are an error so that a
    typo in a profile file is not silently ignored; the nearest known key is suggested.
    """
    base = base or Profile()
    names = [item.name for item in dataclasses.fields(Profile)]
    changes: dict[str, Any] = {}
    for raw_key, value in answers.items():
        key = str(raw_key).replace("-", "_")
        if key not in names:
            nearest = difflib.get_close_matches(key, names, n=1)
            hint = (
                f"did you mean {nearest[0]}?" if nearest else f"known answers: {', '.join(names)}."
            )
            raise ProfileError(f"unknown profile answer {raw_key!r}; {hint}")
        changes[key] = value
    try:
        return dataclasses.replace(base, **changes)
    except ValidationError as error:
        raise ProfileError(_sentence(error, changes)) from None


def parse_answer(name: str, value: Any) -> Any:
    """One raw answer as the type of field ``name`` (e.g. ``"yes"`` -> ``True``,
    ``"flask, django"`` -> ``frozenset({"flask", "django"})``).

    Raises:
        ProfileError: the answer does not fit, in one sentence.
    """
    return getattr(profile_from_mapping({name: value}), name)


def _sentence(error: ValidationError, answers: Mapping[str, Any]) -> str:
    """The first problem of ``error`` as one sentence for the person who answered."""
    first = error.errors(include_url=False)[0]
    name = str(first["loc"][0]) if first["loc"] else "the profile"
    if first["type"] == "value_error":
        reason = str(first["ctx"]["error"])
        # A check of the whole profile (no field) names its fields itself.
        return f"{reason}." if not first["loc"] or reason.startswith(name) else f"{name} {reason}."
    value = answers.get(name, first["input"])
    return f"{name} must be {_describe(getattr(Profile(), name))}, not {value!r}."


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
