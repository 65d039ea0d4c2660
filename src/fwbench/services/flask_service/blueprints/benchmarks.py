"""The six TechEmpower test types and the I/O-bound ``/io`` (no auth, no audit).

These views build their responses directly (``jsonify``, ``render_template``) instead of
going through ``@bp.output``: TechEmpower measures a framework's own serialisation, and
marshmallow's dump would add a layer a Flask team would not put on such a hot path.
Their documented response shapes are declared with ``@bp.doc``.
"""

from __future__ import annotations

from operator import attrgetter
from random import randint, sample

from apiflask import APIBlueprint
from flask import Response, jsonify, render_template
from sqlalchemy import Connection, Row, bindparam, select, update

from fwbench.contract import EXTRA_FORTUNE, MAX_RANDOM_NUMBER, WORLD_ROWS, clamp_queries

from .. import downstream, openapi
from ..extensions import db, read_only
from ..models import Fortune, World
from ..schemas import HelloMessage, IoQuery, IoQueryData, IoResult, QueriesQuery, QueriesQueryData
from ..schemas import World as WorldSchema

bp = APIBlueprint("benchmarks", __name__, tag="Benchmarks")

# Built once, run with a new id each time: SQLAlchemy caches the compiled SQL, but
# building the select() itself for every row costs more CPU than executing it. A SELECT
# per call, even for an id already in the session: TechEmpower wants one query per row,
# which Session.get() would skip for a repeated id.
#: The read-only views serialise two columns and need no entity, so they run a Core
#: select of the table: Session.execute() hands it straight to the connection, without
#: the ORM's compile and loading steps (half the CPU per query of an ORM select of the
#: same columns, measured here).
_WORLD_TABLE = World.__table__
_WORLD_ROW = select(_WORLD_TABLE.c.id, _WORLD_TABLE.c.randomnumber).where(
    _WORLD_TABLE.c.id == bindparam("id")
)
#: /updates reads the same rows and writes them back with SQLAlchemy's "ORM bulk UPDATE by
#: primary key" (``Session.execute(update(World), [{"id": ..., "randomnumber": ...}, ...])``,
#: https://docs.sqlalchemy.org/en/20/orm/queryguide/dml.html#orm-bulk-update-by-primary-key):
#: one executemany UPDATE, as the unit of work would flush, without loading an entity per
#: row into the identity map and diffing it at flush time.
_UPDATE_WORLDS = update(World)
_FORTUNES = select(Fortune)

#: The views that read the database answer the contract's 503 problem when it cannot serve
#: (the app-wide error handler of ``problems`` maps the error; documented here).
_DATABASE_DOWN = openapi.errors(503)


@bp.get("/json")
@bp.doc(
    operation_id="tfbJson",
    responses=openapi.ok('{"message": "Hello, World!"}', HelloMessage, "application/json"),
)
def json_serialization() -> Response:
    """TechEmpower test type 1, JSON serialization."""
    return jsonify(message="Hello, World!")


@bp.get("/plaintext")
@bp.doc(
    operation_id="tfbPlaintext",
    responses=openapi.ok("Hello, World!", {"type": "string"}, "text/plain"),
)
def plaintext() -> Response:
    """TechEmpower test type 6, plaintext."""
    # An explicit content_type: a mimetype would get "; charset=utf-8" appended.
    return Response(b"Hello, World!", content_type="text/plain")


@bp.get("/db")
@bp.doc(
    operation_id="tfbDb",
    responses={**openapi.ok("A world row.", WorldSchema, "application/json"), **_DATABASE_DOWN},
)
def single_query() -> Response:
    """TechEmpower test type 2, one random world row."""
    world = _random_world_row(read_only())
    return jsonify(id=world.id, randomNumber=world.randomnumber)


@bp.get("/queries")
@bp.input(QueriesQuery, location="query", arg_name="query")
@bp.doc(
    operation_id="tfbQueries",
    responses={
        **openapi.ok("World rows.", WorldSchema(many=True), "application/json"),
        **_DATABASE_DOWN,
    },
)
def multiple_queries(query: QueriesQueryData) -> Response:
    """TechEmpower test type 3, N random world rows with one query each."""
    connection = read_only()
    count = clamp_queries(query.get("queries"))
    worlds = [_random_world_row(connection) for _ in range(count)]
    return jsonify([{"id": world.id, "randomNumber": world.randomnumber} for world in worlds])


@bp.get("/updates")
@bp.input(QueriesQuery, location="query", arg_name="query")
@bp.doc(
    operation_id="tfbUpdates",
    responses={
        **openapi.ok(
            "The updated world rows, as stored.", WorldSchema(many=True), "application/json"
        ),
        **_DATABASE_DOWN,
    },
)
def updates(query: QueriesQueryData) -> Response:
    """TechEmpower test type 5, N random world rows read, renumbered and persisted."""
    # Distinct ids, so every row returned is what is stored afterwards; sorted, so the
    # UPDATEs lock rows in primary-key order and concurrent requests cannot deadlock.
    ids = sorted(sample(range(1, WORLD_ROWS + 1), clamp_queries(query.get("queries"))))
    rows = [db.session.execute(_WORLD_ROW, {"id": world_id}).one() for world_id in ids]
    worlds = [{"id": row.id, "randomnumber": randint(1, MAX_RANDOM_NUMBER)} for row in rows]
    db.session.execute(_UPDATE_WORLDS, worlds)
    db.session.commit()
    return jsonify([{"id": world["id"], "randomNumber": world["randomnumber"]} for world in worlds])


@bp.get("/fortunes")
@bp.doc(
    operation_id="tfbFortunes",
    responses={
        **openapi.ok("An HTML table.", {"type": "string"}, "text/html"),
        **_DATABASE_DOWN,
    },
)
def fortunes() -> str:
    """TechEmpower test type 4, fortunes rendered by the framework's template engine."""
    read_only()
    rows = list(db.session.scalars(_FORTUNES))
    rows.append(Fortune(id=0, message=EXTRA_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render_template("fortunes.html", fortunes=rows)


@bp.get("/io")
@bp.input(IoQuery, location="query", arg_name="query")
@bp.doc(
    operation_id="io",
    responses={
        **openapi.ok("The downstream answered.", IoResult, "application/json"),
        **openapi.errors(422, 502, 504),
    },
)
def io(query: IoQueryData) -> Response:
    """The article's I/O-bound workload; waits for GET {DOWNSTREAM_URL}/delay?ms=N."""
    downstream.current().delay(query["ms"])
    return jsonify(downstream_ms=query["ms"])


def _random_id() -> int:
    return randint(1, WORLD_ROWS)


def _random_world_row(connection: Connection) -> Row[int, int]:
    return connection.execute(_WORLD_ROW, {"id": _random_id()}).one()
