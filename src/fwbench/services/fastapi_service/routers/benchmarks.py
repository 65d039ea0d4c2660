"""The six TechEmpower test types and the I/O-bound ``/io`` (no auth, no audit).

JSON bodies go through FastAPI's default path: with a response model, FastAPI serialises
straight to bytes with Pydantic's Rust core (``ORJSONResponse`` is deprecated for that
reason in the FastAPI used here), and answers ``Content-Type: application/json`` exactly.

Unlike the other modules of :mod:`..routers`, this one has no ``APIRouter``: :func:`add_to`
declares its path operations on the application itself, with the same path operation
decorators (``app.get``). Since FastAPI 0.137 ``include_router`` keeps the included router
as a node of the route tree, so each request to one of its routes is matched twice (by the
app's router, then inside the included one) with scope bookkeeping around both; for these
endpoints, which do little work of their own, leaving that level out cut the CPU time per
request in process by 13-16% (/json and /plaintext, medians). The domain routers keep
``APIRouter`` + ``include_router``, FastAPI's structure for an application of several
modules ("Bigger Applications")."""

from __future__ import annotations

from enum import Enum
from operator import attrgetter
from pathlib import Path
from random import randint
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from fwbench.contract import EXTRA_FORTUNE, MAX_RANDOM_NUMBER, WORLD_ROWS, clamp_queries

from .. import models
from ..database import SessionDep
from ..downstream import DownstreamDep, delay_timeout, wait_for_delay
from ..problems import problem_responses
from ..schemas import HelloMessage, IoResult, World
from ..settings import SettingsDep

#: OpenAPI tag of every operation here.
TAGS: list[str | Enum] = ["benchmarks"]

#: Autoescaping is on for ``.html`` templates (Starlette uses Jinja2's select_autoescape),
#: so ``'`` renders as ``&#39;`` and ``<script>`` as ``&lt;script&gt;``.
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")

#: The fortune ``/fortunes`` adds to the database's at request time. Built once, as
#: TechEmpower's FastAPI implementation does: building a mapped instance per request
#: (SQLAlchemy's instrumented constructor and instance state) cost 28,000-53,000 of the
#: page's 2.2 million instructions per request in process (docs/fairness.md). The page
#: only reads it, and it is never added to a session.
_EXTRA_FORTUNE = models.Fortune(id=0, message=EXTRA_FORTUNE)


async def query_count(request: Request) -> int:
    """The ``queries`` parameter, read raw: the TechEmpower rules clamp it to 1..500 and
    count a missing or non-integer value as 1, so it can never fail validation (and the
    operation documents no 422)."""
    return clamp_queries(request.query_params.get("queries"))


#: Number of rows a ``/queries`` or ``/updates`` request asks for.
QueryCount = Annotated[int, Depends(query_count)]

#: The endpoints that read the database answer the contract's 503 problem when it cannot
#: serve (the app-wide handler of :mod:`..problems` maps the error; documented here).
_DATABASE_DOWN = problem_responses(503)

#: ``queries`` documented by hand, since :func:`query_count` reads it from the request.
_QUERIES_PARAMETER = {
    "parameters": [
        {
            "name": "queries",
            "in": "query",
            "required": False,
            "description": "Clamped to 1..500; missing or not an integer counts as 1.",
            "schema": {"type": "string"},
        }
    ]
}


async def _random_world(session: AsyncSession, *, reload: bool = True) -> models.World:
    """One random ``world`` row, with its own query: the TechEmpower rules forbid both
    batching and serving a repeated id from the ORM's identity map.
    ``session.get`` reuses the mapper's cached primary-key statement, where a ``select()``
    built per call is compiled-cache-keyed again on every row.

    Args:
        session: the request's session.
        reload: query even for an id the session has already loaded
            (``populate_existing``), as a request of several random rows may draw one id
            twice. A session that has loaded nothing yet cannot serve any id from its
            identity map, so ``/db`` leaves the option out (work that can change
            nothing there; the saving, 14,000-34,000 of /db's 1.75 million instructions
            per request, is within the count's noise: docs/fairness.md).
    """
    world = await session.get(models.World, randint(1, WORLD_ROWS), populate_existing=reload)
    if world is None:  # ids 1..WORLD_ROWS are seeded and never deleted
        raise LookupError("the world table is not seeded; run the service's bootstrap")
    return world


async def json_serialization() -> HelloMessage:
    return HelloMessage(message="Hello, World!")


async def plaintext() -> Response:
    # Set explicitly: Starlette would append "; charset=utf-8" to a text/* media type,
    # and the TechEmpower rules ask for exactly "text/plain".
    return Response(b"Hello, World!", headers={"Content-Type": "text/plain"})


async def single_query(session: SessionDep) -> models.World:
    return await _random_world(session, reload=False)  # a fresh session: nothing loaded


async def multiple_queries(session: SessionDep, count: QueryCount) -> list[models.World]:
    return [await _random_world(session) for _ in range(count)]


async def updates(session: SessionDep, count: QueryCount) -> list[models.World]:
    worlds = [await _random_world(session) for _ in range(count)]
    for world in worlds:
        world.randomnumber = randint(1, MAX_RANDOM_NUMBER)
    # The unit of work flushes the changed rows as one executemany UPDATE, in primary-key
    # order, so concurrent requests lock rows in the same order and cannot deadlock.
    await session.commit()
    return worlds


async def fortunes(request: Request, session: SessionDep) -> HTMLResponse:
    # Only the two columns the page shows, as rows: ORM entities would each be tracked in
    # the identity map and expunged again when the session closes, for a read-only page.
    result = await session.execute(select(models.Fortune.id, models.Fortune.message))
    rows: list[Row[tuple[int, str]] | models.Fortune] = [*result]
    rows.append(_EXTRA_FORTUNE)
    rows.sort(key=attrgetter("message"))
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": rows})


async def io(
    downstream: DownstreamDep,
    settings: SettingsDep,
    ms: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> IoResult:
    await wait_for_delay(downstream, ms, delay_timeout(ms, settings))
    return IoResult(downstream_ms=ms)


def add_to(app: FastAPI | APIRouter) -> None:
    """Declare the path operations of this module on ``app`` with its path operation
    decorators, hot and cheap endpoints first (routes are matched in declaration order).

    Args:
        app: the application (the service passes its ``FastAPI``); an ``APIRouter`` works
            too, for a test that needs these routes behind ``include_router``.
    """
    app.get(
        "/json",
        tags=TAGS,
        operation_id="tfbJson",
        summary="TechEmpower test type 1, JSON serialization.",
    )(json_serialization)
    app.get(
        "/plaintext",
        tags=TAGS,
        response_class=PlainTextResponse,
        operation_id="tfbPlaintext",
        summary="TechEmpower test type 6, plaintext.",
    )(plaintext)
    app.get(
        "/db",
        tags=TAGS,
        response_model=World,
        operation_id="tfbDb",
        responses=_DATABASE_DOWN,
        summary="TechEmpower test type 2, one random world row.",
    )(single_query)
    app.get(
        "/queries",
        tags=TAGS,
        response_model=list[World],
        operation_id="tfbQueries",
        responses=_DATABASE_DOWN,
        summary="TechEmpower test type 3, N random world rows with one query each.",
        openapi_extra=_QUERIES_PARAMETER,
    )(multiple_queries)
    app.get(
        "/updates",
        tags=TAGS,
        response_model=list[World],
        operation_id="tfbUpdates",
        responses=_DATABASE_DOWN,
        summary="TechEmpower test type 5, N random world rows read, renumbered and persisted.",
        openapi_extra=_QUERIES_PARAMETER,
    )(updates)
    app.get(
        "/fortunes",
        tags=TAGS,
        response_class=HTMLResponse,
        operation_id="tfbFortunes",
        responses=_DATABASE_DOWN,
        summary="TechEmpower test type 4, fortunes rendered by the framework's template engine.",
    )(fortunes)
    app.get(
        "/io",
        tags=TAGS,
        operation_id="io",
        summary="The article's I/O-bound workload; waits for GET {DOWNSTREAM_URL}/delay?ms=N.",
        responses=problem_responses(422, 502, 504),
    )(io)
