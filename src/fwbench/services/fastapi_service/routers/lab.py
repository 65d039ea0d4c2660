"""``/_lab/*``: endpoints for the article-claims experiments (``FWBENCH_LAB=1`` only; not
part of the contract, so absent from ``/openapi.json``; no auth, no audit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import Connection, delete, event, insert, select
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncScalarResult
from sqlalchemy.orm import joinedload

from .. import models
from ..database import SessionDep, StreamingSessionDep
from ..downstream import delay_timeout
from ..httpx_downstream import wait_for_delay, wait_for_delay_blocking
from ..schemas import AmountOut, IoResult
from ..settings import SettingsDep

router = APIRouter(prefix="/_lab", include_in_schema=False)

#: Rows per INSERT batch when seeding, so seeding 200,000 rows keeps memory bounded.
SEED_BATCH = 5_000
#: Rows fetched per round trip when streaming (SQLAlchemy ``yield_per``).
STREAM_BATCH = 1_000
#: Rows of one keyset page.
PAGE_SIZE = 100
MERCHANTS = 50
PURCHASES = 1_000
_CATEGORIES = ("groceries", "travel", "electronics", "restaurants", "fuel")


class LabRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: str
    amount: AmountOut
    payload: str


class LabRowPage(BaseModel):
    items: list[LabRowOut]
    next: int | None


class MerchantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    category: str


class PurchaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    amount: AmountOut
    merchant: MerchantOut


_ROWS = TypeAdapter(list[LabRowOut])
_PURCHASES = TypeAdapter(list[PurchaseOut])


def _json(body: bytes | str, headers: dict[str, str] | None = None) -> Response:
    return Response(body, media_type="application/json", headers=headers)


def _lab_row(row_id: int) -> dict[str, Any]:
    return {
        "id": row_id,
        "account_id": f"acct-{row_id % 1_000}",
        "amount": Decimal(row_id % 100_000 + 1).scaleb(-2),
        "payload": f"row {row_id} ".ljust(200, "x"),
    }


@router.post("/rows/seed")
async def seed_rows(
    session: SessionDep, count: Annotated[int, Query(ge=0, le=200_000)]
) -> dict[str, int]:
    """Replace the contents of ``lab_row`` with ``count`` rows, inserted in batches."""
    await session.execute(delete(models.LabRow))
    for start in range(1, count + 1, SEED_BATCH):
        stop = min(start + SEED_BATCH, count + 1)
        await session.execute(insert(models.LabRow), [_lab_row(i) for i in range(start, stop)])
    await session.commit()
    return {"rows": count}


async def _json_array(result: AsyncScalarResult[models.LabRow]) -> AsyncIterator[bytes]:
    """The rows as one JSON array, one ``yield_per`` batch at a time."""
    yield b"["
    separator = b""
    async for batch in result.partitions():
        # Each batch serialised as an array; its brackets dropped to splice it in.
        yield separator + _ROWS.dump_json(_ROWS.validate_python(batch, from_attributes=True))[1:-1]
        separator = b","
    yield b"]"


@router.get("/rows")
async def rows(
    session: StreamingSessionDep,
    mode: Literal["all", "stream", "page"],
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """``all``: the article's mistake, every row loaded as an ORM object and serialised at
    once. ``stream``: the same array with constant memory (server-side cursor,
    ``yield_per``, streaming response). ``page``: one keyset page of 100 after ``after``."""
    ordered = select(models.LabRow).order_by(models.LabRow.id)
    if mode == "all":
        everything = (await session.scalars(ordered)).all()
        return _json(_ROWS.dump_json(_ROWS.validate_python(everything, from_attributes=True)))
    if mode == "stream":
        result = await session.stream_scalars(ordered.execution_options(yield_per=STREAM_BATCH))
        return StreamingResponse(_json_array(result), media_type="application/json")
    page = (
        await session.scalars(
            ordered.where(models.LabRow.id > min(after, models.MAX_ID)).limit(PAGE_SIZE + 1)
        )
    ).all()
    items = page[:PAGE_SIZE]
    next_id = items[-1].id if len(page) > PAGE_SIZE else None
    return _json(LabRowPage.model_validate({"items": items, "next": next_id}).model_dump_json())


@router.post("/purchases/seed")
async def seed_purchases(session: SessionDep) -> dict[str, int]:
    """Replace ``lab_merchant`` (50 rows) and ``lab_purchase`` (1000 rows)."""
    await session.execute(delete(models.LabPurchase))
    await session.execute(delete(models.LabMerchant))
    await session.execute(
        insert(models.LabMerchant),
        [
            {"id": i, "name": f"merchant-{i}", "category": _CATEGORIES[i % len(_CATEGORIES)]}
            for i in range(1, MERCHANTS + 1)
        ],
    )
    await session.execute(
        insert(models.LabPurchase),
        [
            {"id": i, "merchant_id": (i - 1) % MERCHANTS + 1, "amount": Decimal(i).scaleb(-2)}
            for i in range(1, PURCHASES + 1)
        ],
    )
    await session.commit()
    return {"merchants": MERCHANTS, "purchases": PURCHASES}


class StatementCounter:
    """A ``before_cursor_execute`` listener counting the SQL statements sent on one
    connection (SQLAlchemy's own instrumentation, not a guess)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self,
        conn: Connection,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        self.count += 1


@router.get("/purchases")
async def purchases(
    session: SessionDep,
    mode: Literal["naive", "eager"],
    limit: Annotated[int, Query(ge=1, le=PURCHASES)] = 100,
) -> Response:
    """The first ``limit`` purchases with their merchant; ``X-Query-Count`` says how many
    statements it took. ``naive`` loads each merchant lazily when it is touched (N+1;
    SQLAlchemy skips the query when the merchant is already in the session's identity map,
    so at most 1 + distinct merchants). ``eager`` joins them in (``joinedload``, SQLAlchemy's
    advice for many-to-one)."""
    connection = await session.connection()
    counter = StatementCounter()
    event.listen(connection.sync_connection, "before_cursor_execute", counter)
    try:
        statement = select(models.LabPurchase).order_by(models.LabPurchase.id).limit(limit)
        if mode == "eager":
            statement = statement.options(joinedload(models.LabPurchase.merchant))
        loaded = (await session.scalars(statement)).all()
        if mode == "naive":
            for purchase in loaded:
                await purchase.awaitable_attrs.merchant
        body = _PURCHASES.dump_json(_PURCHASES.validate_python(loaded, from_attributes=True))
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", counter)
    return _json(body, headers={"X-Query-Count": str(counter.count)})


async def get_httpx_client(request: Request) -> httpx.AsyncClient:
    """The lab's ``httpx.AsyncClient``, from the lifespan state."""
    client: httpx.AsyncClient = request.state.httpx_downstream
    return client


async def get_blocking_client(request: Request) -> httpx.Client:
    """The lab's blocking downstream client, from the lifespan state."""
    client: httpx.Client = request.state.blocking_downstream
    return client


HttpxDownstreamDep = Annotated[httpx.AsyncClient, Depends(get_httpx_client)]
BlockingDownstreamDep = Annotated[httpx.Client, Depends(get_blocking_client)]


@router.get("/io-httpx")
async def io_httpx(
    downstream: HttpxDownstreamDep,
    settings: SettingsDep,
    ms: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> IoResult:
    """``/io`` through ``httpx.AsyncClient``, the article's tip for internal calls, so the
    experiments can compare it with ``/io`` on aiohttp."""
    await wait_for_delay(downstream, ms, delay_timeout(ms, settings))
    return IoResult(downstream_ms=ms)


@router.get("/io-blocking")
async def io_blocking(
    downstream: BlockingDownstreamDep,
    settings: SettingsDep,
    ms: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> IoResult:
    """The article's "mixing sync/async" mistake: a blocking call inside ``async def``
    stalls the worker's event loop, and every other request on it, for ``ms``."""
    wait_for_delay_blocking(downstream, ms, delay_timeout(ms, settings))
    return IoResult(downstream_ms=ms)


@router.get("/io-sync")
def io_sync(
    downstream: BlockingDownstreamDep,
    settings: SettingsDep,
    ms: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> IoResult:
    """The same blocking call in a plain ``def`` route: FastAPI runs it in anyio's worker
    thread pool (40 threads by default), so the event loop stays free."""
    wait_for_delay_blocking(downstream, ms, delay_timeout(ms, settings))
    return IoResult(downstream_ms=ms)
