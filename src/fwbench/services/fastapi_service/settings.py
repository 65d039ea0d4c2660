"""12-factor configuration read from the environment with pydantic-settings (the approach
of FastAPI's "Settings and Environment Variables" guide)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from fwbench.contract import EXTRAS_OFF_FLAG, LAB_FLAG, extras_off

DEFAULT_DATABASE_URL = "sqlite:///./fwbench-fastapi.sqlite3"


class DatabaseSettings(BaseSettings):
    """What the database bootstrap needs; the service settings extend it. Each field is
    read from the environment variable of the same name in upper case (``DATABASE_URL``,
    ``DB_POOL_SIZE``, ``API_TOKEN``, ...)."""

    model_config = SettingsConfigDict(frozen=True)

    #: ``sqlite:///path`` or ``postgresql://user@host:port/db``; mapped to aiosqlite or
    #: asyncpg by :mod:`.database`.
    database_url: str = DEFAULT_DATABASE_URL

    #: Connections each worker process keeps open (a fixed pool, see :mod:`.database`).
    db_pool_size: int = Field(default=10, ge=1)


class Settings(DatabaseSettings):
    """Everything the running service reads from the environment."""

    #: Bearer token of ordinary API clients (``/transactions*``, ``/accounts*``).
    api_token: SecretStr = Field(min_length=1)

    #: Bearer token of administrators: everything, including ``/audit-log``.
    admin_token: SecretStr = Field(min_length=1)

    #: Base URL of the scoring / delay service.
    downstream_url: str = "http://127.0.0.1:8900"

    #: Seconds before a downstream call answers 504.
    downstream_timeout: float = Field(default=2.0, gt=0)

    #: Concurrent downstream connections per worker, all kept alive between calls.
    downstream_max_connections: int = Field(default=1000, ge=1)

    #: Tokens of anyio's thread limiter, which runs plain-``def`` routes and dependencies
    #: (``SYNC_ROUTE_THREADS``, set by ``fwbench serve --threads``); None: anyio's 40.
    sync_route_threads: int | None = Field(default=None, ge=1)

    #: ``FWBENCH_LAB=1`` mounts the ``/_lab/*`` experiment endpoints.
    lab: bool = Field(default=False, validation_alias=LAB_FLAG)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once.

    Exits with one line naming the bad variables when the environment is incomplete:
    the service refuses to start without its tokens."""
    try:
        return Settings()
    except ValidationError as exc:
        names = ", ".join(str(error["loc"][0]).upper() for error in exc.errors())
        raise SystemExit(f"fastapi_service: set valid environment variables: {names}") from None


def get_extras_off() -> frozenset[str]:
    """The contract extras ``FWBENCH_EXTRAS_OFF`` leaves out (none when it is unset).

    Read on its own rather than as a settings field: a typo must stop the service with
    the sentence that names the known extras, not only the variable's name."""
    try:
        return extras_off(os.environ.get(EXTRAS_OFF_FLAG))
    except ValueError as exc:
        raise SystemExit(f"fastapi_service: {exc}") from None


async def settings_dependency() -> Settings:
    """:func:`get_settings` as a dependency. It is ``async def`` because FastAPI runs a
    plain ``def`` dependency in its external thread pool (FastAPI docs, "Concurrency and
    async / await", Dependencies): a thread hop per request to return a cached object."""
    return get_settings()


#: The settings, as a dependency.
SettingsDep = Annotated[Settings, Depends(settings_dependency)]
