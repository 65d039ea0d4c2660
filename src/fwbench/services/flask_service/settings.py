"""Configuration read from the environment (12-factor); see docs/architecture.md."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from fwbench.contract import EXTRAS_OFF_FLAG, LAB_FLAG, extras_off

DEFAULT_DATABASE_URL: Final = "sqlite:///./fwbench-flask.sqlite3"
DEFAULT_DOWNSTREAM_URL: Final = "http://127.0.0.1:8900"
DEFAULT_DOWNSTREAM_TIMEOUT: Final = 2.0


class ConfigError(ValueError):
    """An environment variable is missing or malformed; the message says which and what to do."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads from the environment.

    Attributes:
        database_url: SQLAlchemy URL with the driver this service uses
            (``postgresql+psycopg://...`` or ``sqlite:////absolute/path``).
        downstream_url: Base URL of the downstream service, without a trailing slash.
        downstream_timeout: Seconds before a downstream call answers 504.
        api_token: Bearer token for ``/transactions*`` and ``/accounts*``.
        admin_token: Bearer token for ``/audit-log`` (also accepted everywhere else).
        lab: Whether the ``/_lab/*`` experiment endpoints exist.
        extras_off: The contract's cross-cutting extras this process leaves out
            (``fwbench.contract.EXTRAS``; empty unless the fairness benchmark sets
            ``FWBENCH_EXTRAS_OFF``).
    """

    database_url: str
    downstream_url: str
    downstream_timeout: float
    api_token: str
    admin_token: str
    lab: bool
    extras_off: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings from ``environ`` (default: the process environment).

        Raises:
            ConfigError: a token is missing, a value cannot be parsed or
                ``FWBENCH_EXTRAS_OFF`` names an unknown extra.
        """
        missing = [name for name in ("API_TOKEN", "ADMIN_TOKEN") if not environ.get(name)]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} must be set: the service refuses to start without "
                "its bearer tokens (fwbench serve sets them for you)."
            )
        try:
            off = extras_off(environ.get(EXTRAS_OFF_FLAG))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            database_url=database_url_from_env(environ),
            downstream_url=environ.get("DOWNSTREAM_URL", DEFAULT_DOWNSTREAM_URL).rstrip("/"),
            downstream_timeout=_positive_seconds(environ, "DOWNSTREAM_TIMEOUT"),
            api_token=environ["API_TOKEN"],
            admin_token=environ["ADMIN_TOKEN"],
            lab=environ.get(LAB_FLAG) == "1",
            extras_off=off,
        )


def database_url_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """``DATABASE_URL`` from ``environ`` (default: the process environment), mapped to
    this service's drivers: psycopg 3 for ``postgresql://`` and the standard library's
    sqlite3 for ``sqlite:///path``. A relative SQLite path is resolved against the current
    directory (Flask-SQLAlchemy would otherwise put it under the app's instance folder).

    Raises:
        ConfigError: the URL is malformed, names another database, or is an in-memory
            SQLite database (each worker process would get its own empty one).
    """
    raw = environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL {raw!r} is not a database URL; use sqlite:///path or "
            "postgresql://user@host:port/db."
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        return _render(url.set(drivername="postgresql+psycopg"))
    if url.drivername == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigError(
                "DATABASE_URL must name a SQLite file (sqlite:///path): worker processes "
                "share it, and an in-memory database would be private to each of them."
            )
        return _render(url.set(database=str(Path(url.database).resolve())))
    raise ConfigError(
        f"DATABASE_URL scheme {url.drivername!r} is not supported; use sqlite:///path or "
        "postgresql://user@host:port/db."
    )


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _positive_seconds(environ: Mapping[str, str], name: str) -> float:
    raw = environ.get(name)
    if raw is None:
        return DEFAULT_DOWNSTREAM_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a positive number of seconds, not {raw!r}.")
    return value
