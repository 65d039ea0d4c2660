"""Fault injection settings of the downstream service.

Set at start from the environment (``fwbench serve downstream --latency-ms
--error-rate``) and at run time with ``PUT /_faults``. Errors are injected on a
deterministic schedule, not at random: an error rate of 0.25 fails exactly every
fourth call, so a test or a benchmark sees the same faults on every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

#: Environment variables read at start.
LATENCY_ENV: Final = "FWBENCH_DOWNSTREAM_LATENCY_MS"
ERROR_RATE_ENV: Final = "FWBENCH_DOWNSTREAM_ERROR_RATE"

#: Largest accepted latency (10 minutes): anything longer is a mistake, not a test.
MAX_LATENCY_MS: Final = 600_000

#: Error rates are counted in millionths so that the schedule is exact.
_SCALE: Final = 1_000_000


@dataclass(frozen=True)
class Faults:
    """What the downstream does wrong on every ``/delay`` and ``/score`` call.

    Attributes:
        latency_ms: extra milliseconds before answering, default 0.
        error_rate: fraction of calls answered with ``status`` instead, 0..1, default 0.
        score: when not None, ``/score`` answers this score (e.g. 0.95 to force a
            decline) instead of the computed one; default None.
        status: HTTP status of injected errors, 400..599, default 500.
    """

    latency_ms: int = 0
    error_rate: float = 0.0
    score: float | None = None
    status: int = 500

    def validate(self) -> None:
        """Raise ValueError naming the first setting out of range."""
        if not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be in 0..{MAX_LATENCY_MS}, not {self.latency_ms}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be in 0..1, not {self.error_rate}")
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be null or in 0..1, not {self.score}")
        if not 400 <= self.status <= 599:
            raise ValueError(f"status must be an error status in 400..599, not {self.status}")

    def as_json(self) -> dict[str, Any]:
        """The settings as the JSON object ``GET /_faults`` answers."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> Faults:
        """Parse a ``PUT /_faults`` body. It replaces every setting: a field left out
        takes its default, so ``{}`` clears all faults.

        Raises:
            ValueError: not an object, an unknown field, a wrong type or a value out of
                range; the message says which.
        """
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        unknown = sorted(set(data) - {"latency_ms", "error_rate", "score", "status"})
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(unknown)}")
        latency = data.get("latency_ms", 0)
        rate = data.get("error_rate", 0.0)
        forced = data.get("score")
        status = data.get("status", 500)
        if not _is_int(latency) or not _is_int(status):
            raise ValueError("latency_ms and status must be integers")
        if not _is_number(rate) or (forced is not None and not _is_number(forced)):
            raise ValueError("error_rate must be a number and score a number or null")
        faults = cls(
            latency_ms=latency,
            error_rate=float(rate),
            score=None if forced is None else float(forced),
            status=status,
        )
        faults.validate()
        return faults

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Faults:
        """The start-up settings from ``LATENCY_ENV`` and ``ERROR_RATE_ENV`` (absent: 0).

        Raises:
            ValueError: a value that is not a number or is out of range.
        """
        faults = cls(
            latency_ms=int(environ.get(LATENCY_ENV, "0")),
            error_rate=float(environ.get(ERROR_RATE_ENV, "0")),
        )
        faults.validate()
        return faults


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class FaultState:
    """The current settings and the error schedule of one downstream process."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rate = 0
        self._debt = 0
        self.replace(faults)

    def replace(self, faults: Faults) -> None:
        """Apply new settings; the error schedule restarts from zero."""
        self.faults = faults
        self._rate = round(faults.error_rate * _SCALE)
        self._debt = 0

    def next_call_fails(self) -> bool:
        """Whether the next call gets an injected error: exactly ``error_rate`` of
        calls do, the last of every ``1 / error_rate``."""
        self._debt += self._rate
        if self._debt >= _SCALE:
            self._debt -= _SCALE
            return True
        return False
