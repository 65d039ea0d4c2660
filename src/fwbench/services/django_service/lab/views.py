"""The lab endpoints: whole-table loading vs streaming vs a keyset page, N+1 vs
``select_related`` (with the SQL statement count), and an ``async def`` variant of ``/io``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from weakref import WeakKeyDictionary

import httpx
import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection, transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_POST, require_safe

from fwbench.services.django_service.lab.forms import IoForm, PurchasesForm, RowsForm, SeedRowsForm
from fwbench.services.django_service.lab.models import LabMerchant, LabPurchase, LabRow
from fwbench.services.django_service.project.errors import problem_response

_DEFAULT_SEED_ROWS = 10_000
_PAGE_SIZE = 100
_DEFAULT_PURCHASES = 100
_MERCHANTS = 50
_PURCHASES = 1000
_CATEGORIES = ("groceries", "travel", "electronics", "restaurants", "utilities")
# Rows per database round trip when streaming, and per chunk written to the client.
_CHUNK = 2000
_BATCH = 5000


def _invalid(form: Form) -> JsonResponse:
    """422 problem listing the form's errors as ``{field, message}``."""
    errors = [
        {"field": field, "message": str(message)}
        for field, messages in form.errors.items()
        for message in messages
    ]
    return problem_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "The request has invalid fields.", errors
    )


def _row(row: LabRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "account_id": row.account_id,
        "amount": str(row.amount),
        "payload": row.payload,
    }


def _batches(total: int, size: int) -> Iterator[range]:
    """Consecutive ids 1..total in ranges of ``size``."""
    for start in range(1, total + 1, size):
        yield range(start, min(start + size, total + 1))


@require_POST
def seed_rows(request: HttpRequest) -> HttpResponse:
    """``POST /_lab/rows/seed?count=N`` (0..200000, default 10000): replace the contents of
    ``lab_row`` with N rows (200-character payloads), inserted in batches."""
    form = SeedRowsForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    count: int | None = form.cleaned_data["count"]
    if count is None:
        count = _DEFAULT_SEED_ROWS
    with transaction.atomic():
        LabRow.objects.all().delete()
        for ids in _batches(count, _BATCH):
            LabRow.objects.bulk_create(
                LabRow(
                    id=i,
                    account_id=f"acct-{i % 100}",
                    amount=Decimal(i % 100_000) / 100,
                    payload=f"{i:08d}".ljust(200, "x"),
                )
                for i in ids
            )
    return JsonResponse({"rows": count})


def _encode(rows: list[LabRow]) -> bytes:
    return b",".join(orjson.dumps(_row(row)) for row in rows)


def _json_array(rows: Iterator[LabRow]) -> Iterator[bytes]:
    """``rows`` as a JSON array, written :data:`_CHUNK` rows at a time."""
    yield b"["
    separator = b""
    chunk: list[LabRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            yield separator + _encode(chunk)
            separator, chunk = b",", []
    if chunk:
        yield separator + _encode(chunk)
    yield b"]"


def _next_part(parts: Iterator[bytes]) -> bytes | None:
    return next(parts, None)


async def _one_part_at_a_time(parts: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Serve a sync iterator under ASGI without buffering it: each step runs in the
    request's thread (so the database cursor stays on its connection)."""
    step = sync_to_async(_next_part, thread_sensitive=True)
    while (part := await step(parts)) is not None:
        yield part


@require_safe
def rows(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """``GET /_lab/rows?mode=all|stream|page[&after=id]``.

    * ``all``: the article's mistake as its own code writes it,
      ``list(Data.objects.values())``: the whole table as dicts in one list (Django's JSON
      encoder writes the Decimal amounts as the other modes do).
    * ``stream``: constant memory, ``.iterator()`` (a server-side cursor on PostgreSQL) into a
      StreamingHttpResponse. Under ASGI Django would buffer a sync iterator whole before
      sending it, so there it is handed over as an async iterator, one part at a time.
    * ``page``: one keyset page of 100 (``{"items": [...], "next": id|null}``).
    """
    form = RowsForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    mode: str = form.cleaned_data["mode"]
    if mode == "all":
        return JsonResponse(list(LabRow.objects.values()), safe=False)
    ordered = LabRow.objects.order_by("id")
    if mode == "stream":
        parts = _json_array(ordered.iterator(chunk_size=_CHUNK))
        content: Iterator[bytes] | AsyncIterator[bytes] = (
            _one_part_at_a_time(parts) if isinstance(request, ASGIRequest) else parts
        )
        return StreamingHttpResponse(content, content_type="application/json")
    after: int | None = form.cleaned_data["after"]
    if after is not None:
        ordered = ordered.filter(id__gt=after)
    page = list(ordered[: _PAGE_SIZE + 1])
    next_cursor = page[_PAGE_SIZE - 1].id if len(page) > _PAGE_SIZE else None
    return JsonResponse({"items": [_row(row) for row in page[:_PAGE_SIZE]], "next": next_cursor})


@require_POST
def seed_purchases(request: HttpRequest) -> HttpResponse:
    """``POST /_lab/purchases/seed``: 50 merchants and 1000 purchases, replacing any."""
    with transaction.atomic():
        LabPurchase.objects.all().delete()
        LabMerchant.objects.all().delete()
        LabMerchant.objects.bulk_create(
            LabMerchant(id=i, name=f"Merchant {i}", category=_CATEGORIES[i % len(_CATEGORIES)])
            for i in range(1, _MERCHANTS + 1)
        )
        LabPurchase.objects.bulk_create(
            LabPurchase(id=i, merchant_id=i % _MERCHANTS + 1, amount=Decimal(i) / 4)
            for i in range(1, _PURCHASES + 1)
        )
    return JsonResponse({"merchants": _MERCHANTS, "purchases": _PURCHASES})


class QueryCounter:
    """A ``connection.execute_wrapper`` that counts the SQL statements executed."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@require_safe
def purchases(request: HttpRequest) -> HttpResponse:
    """``GET /_lab/purchases?mode=naive|eager&limit=N`` (N 1..1000, default 100): the first N
    purchases with their merchant. ``naive`` follows the foreign key lazily on every row (N+1
    queries), ``eager`` joins it with ``select_related`` (1 query). ``X-Query-Count`` tells."""
    form = PurchasesForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    limit: int = form.cleaned_data["limit"] or _DEFAULT_PURCHASES
    queryset = LabPurchase.objects.order_by("id")
    if form.cleaned_data["mode"] == "eager":
        queryset = queryset.select_related("merchant")
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        items = [
            {
                "id": purchase.id,
                "amount": str(purchase.amount),
                "merchant": {
                    "id": purchase.merchant.id,
                    "name": purchase.merchant.name,
                    "category": purchase.merchant.category,
                },
            }
            for purchase in queryset[:limit]
        ]
    response = JsonResponse(items, safe=False)
    response["X-Query-Count"] = str(counter.count)
    return response


# One httpx.AsyncClient (and its connection pool) per event loop: under ASGI that is one per
# worker process; an async view under WSGI runs in a fresh loop per request, and a client
# must not outlive its loop.
_clients: WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = WeakKeyDictionary()


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # Keep as many idle connections as the sync client does (downstream.py): httpx keeps
        # 20 by default and would reconnect beyond that under more concurrent requests.
        client = _clients[loop] = httpx.AsyncClient(
            base_url=settings.DOWNSTREAM_URL,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )
    return client


@require_safe
async def io_async(request: HttpRequest) -> HttpResponse:
    """``GET /_lab/io-async?ms=N``: ``/io`` as an ``async def`` view awaiting
    ``httpx.AsyncClient``, the way to wait on I/O without holding a thread under ASGI."""
    form = IoForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    ms: int = form.cleaned_data["ms"] or 0
    timeout = max(settings.DOWNSTREAM_TIMEOUT, ms / 1000 + 1)
    try:
        reply = await _client().get("/delay", params={"ms": ms}, timeout=timeout)
    except httpx.TimeoutException:
        return problem_response(
            HTTPStatus.GATEWAY_TIMEOUT, f"The downstream service did not answer in {timeout:g} s."
        )
    except httpx.HTTPError as exc:
        return problem_response(HTTPStatus.BAD_GATEWAY, f"The downstream call failed: {exc}")
    if not reply.is_success:
        return problem_response(
            HTTPStatus.BAD_GATEWAY, f"The downstream service answered {reply.status_code}."
        )
    return JsonResponse({"downstream_ms": ms})
