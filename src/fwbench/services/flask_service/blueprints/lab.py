"""``/_lab/*``: endpoints for issue 4's experiments, registered only when FWBENCH_LAB=1.

Not part of the contract: no auth, no audit, not in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypedDict

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response, current_app, jsonify, stream_with_context
from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import MAX_ID, LabMerchant, LabPurchase, LabRow

bp = APIBlueprint("lab", __name__, url_prefix="/_lab", enable_openapi=False)

MAX_ROWS: Final = 200_000
PAGE_SIZE: Final = 100
MERCHANTS: Final = 50
PURCHASES: Final = 1000
_INSERT_BATCH: Final = 10_000
_STREAM_BATCH: Final = 1000
_PAYLOAD_CHARS: Final = 200


class SeedQuery(Schema):
    count = fields.Integer(required=True, validate=validators.Range(0, MAX_ROWS))


class SeedQueryData(TypedDict):
    count: int


class RowsQuery(Schema):
    mode = fields.String(required=True, validate=validators.OneOf(("all", "stream", "page")))
    after = fields.Integer(load_default=0, validate=validators.Range(min=0))


class RowsQueryData(TypedDict):
    mode: str
    after: int


class PurchasesQuery(Schema):
    mode = fields.String(required=True, validate=validators.OneOf(("naive", "eager")))
    limit = fields.Integer(load_default=100, validate=validators.Range(1, PURCHASES))


class PurchasesQueryData(TypedDict):
    mode: str
    limit: int


@bp.post("/rows/seed")
@bp.input(SeedQuery, location="query", arg_name="query")
def seed_rows(query: SeedQueryData) -> dict[str, int]:
    """Replace the contents of ``lab_row`` with ``count`` rows, inserted in batches."""
    count = query["count"]
    db.session.execute(delete(LabRow))
    for start in range(1, count + 1, _INSERT_BATCH):
        stop = min(start + _INSERT_BATCH, count + 1)
        db.session.execute(insert(LabRow), [_lab_row(i) for i in range(start, stop)])
    db.session.commit()
    return {"rows": count}


@bp.get("/rows")
@bp.input(RowsQuery, location="query", arg_name="query")
def rows(query: RowsQueryData) -> Response:
    """The ``lab_row`` table three ways.

    ``all``: the article's mistake, every row loaded as an ORM object, then serialised.
    ``stream``: every row, streamed with ``yield_per`` in constant memory.
    ``page``: one keyset page of 100 rows after ``after``, as ``{"items": [...]}``.
    """
    ordered = select(LabRow).order_by(LabRow.id)
    if query["mode"] == "all":
        return jsonify([_row_json(row) for row in db.session.scalars(ordered).all()])
    if query["mode"] == "page":
        page = db.session.scalars(
            ordered.where(LabRow.id > min(query["after"], MAX_ID)).limit(PAGE_SIZE)
        )
        return jsonify(items=[_row_json(row) for row in page])
    return Response(stream_with_context(_stream_rows()), mimetype="application/json")


@bp.post("/purchases/seed")
def seed_purchases() -> dict[str, int]:
    """Replace ``lab_merchant`` (50 rows) and ``lab_purchase`` (1000 rows)."""
    db.session.execute(delete(LabPurchase))
    db.session.execute(delete(LabMerchant))
    db.session.execute(
        insert(LabMerchant),
        [
            {"id": i, "name": f"merchant-{i}", "category": f"category-{i % 5}"}
            for i in range(1, MERCHANTS + 1)
        ],
    )
    db.session.execute(
        insert(LabPurchase),
        [
            {"id": i, "merchant_id": (i - 1) % MERCHANTS + 1, "amount": Decimal(i) / 100}
            for i in range(1, PURCHASES + 1)
        ],
    )
    db.session.commit()
    return {"merchants": MERCHANTS, "purchases": PURCHASES}


@bp.get("/purchases")
@bp.input(PurchasesQuery, location="query", arg_name="query")
def purchases(query: PurchasesQueryData) -> Response:
    """The first ``limit`` purchases with their merchant; ``X-Query-Count`` says how many
    SQL statements the request ran.

    ``naive`` touches ``purchase.merchant`` lazily, one SELECT per merchant not yet in the
    session's identity map (SQLAlchemy resolves a many-to-one already loaded without SQL,
    so at most 1 + 50 statements here); ``eager`` loads them in the same query with
    ``joinedload``, the loader SQLAlchemy recommends for many-to-one.
    """
    statement = select(LabPurchase).order_by(LabPurchase.id).limit(query["limit"])
    if query["mode"] == "eager":
        statement = statement.options(joinedload(LabPurchase.merchant))
    with _counted_statements() as counter:
        items = [
            {
                "id": purchase.id,
                "amount": f"{purchase.amount:.2f}",
                "merchant": {
                    "id": purchase.merchant.id,
                    "name": purchase.merchant.name,
                    "category": purchase.merchant.category,
                },
            }
            for purchase in db.session.scalars(statement)
        ]
    response = jsonify(items)
    response.headers["X-Query-Count"] = str(counter.statements)
    return response


@dataclass
class _Counter:
    statements: int = 0


@contextmanager
def _counted_statements() -> Iterator[_Counter]:
    """Count the statements the session runs in the block, with SQLAlchemy's own
    ``before_cursor_execute`` event on the session's connection (this request's only)."""
    counter = _Counter()
    connection = db.session.connection()

    def count(*_args: Any) -> None:
        counter.statements += 1

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _stream_rows() -> Iterator[str]:
    # yield_per fetches in batches (a server-side cursor on PostgreSQL) and the identity
    # map holds rows weakly, so memory stays constant whatever the table's size.
    result = db.session.scalars(
        select(LabRow).order_by(LabRow.id).execution_options(yield_per=_STREAM_BATCH)
    )
    dumps = current_app.json.dumps
    yield "["
    for index, row in enumerate(result):
        yield ("," if index else "") + dumps(_row_json(row))
    yield "]"


def _lab_row(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "account_id": f"account-{i % 100}",
        "amount": Decimal(i % 100_000 + 1) / 100,
        "payload": f"{i:010d}".ljust(_PAYLOAD_CHARS, "x"),
    }


def _row_json(row: LabRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "account_id": row.account_id,
        "amount": f"{row.amount:.2f}",
        "payload": row.payload,
    }
