"""RFC 9457 problem details: the one shape of every error response, and its OpenAPI docs.

Exception handlers turn FastAPI's and Starlette's exceptions (HTTPException, request
validation, routing 404/405, malformed JSON, anything unhandled) into
``application/problem+json``; nothing ever answers with HTML or a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema
from sqlalchemy import exc as sqlalchemy_errors
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from fwbench.contract import DATABASE_UNAVAILABLE

from .schemas import FieldError, Problem, ValidationProblem

PROBLEM_MEDIA_TYPE = "application/problem+json"

#: Every response carries it; set by the request-id middleware, and by the 500 handler,
#: which runs outside all middleware.
REQUEST_ID_HEADER = "X-Request-ID"

#: Errors that may mean the database cannot serve the request now, not that the request is
#: wrong (:func:`database_unavailable` decides for a DBAPIError). asyncpg raises a refused
#: connection as the OSError it is, unwrapped: ConnectionError covers it and no other
#: error of the service, whose downstream failures are DownstreamError.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy_errors.DBAPIError,
    sqlalchemy_errors.DisconnectionError,
    sqlalchemy_errors.TimeoutError,
    ConnectionError,
)

#: SQLSTATE classes of a database that cannot serve now: 08 connection exception, 53
#: insufficient resources (disk full, too many connections), 57P operator intervention
#: (shutting down, starting up). SQLAlchemy's asyncpg dialect raises most of these as a
#: plain DBAPIError, not an OperationalError.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def database_unavailable(exc: Exception) -> bool:
    """Whether ``exc`` (one of DATABASE_ERRORS) says the database cannot serve the request
    now: the server is down, refuses connections or the connection was lost, no pooled
    connection came free in time, or a SQLite file is read-only or full (an
    OperationalError)."""
    if not isinstance(exc, sqlalchemy_errors.DBAPIError):
        return True
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    return (
        exc.statement is None  # raised while connecting, before any statement
        or exc.connection_invalidated
        or isinstance(exc, sqlalchemy_errors.OperationalError | sqlalchemy_errors.InterfaceError)
        or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    )


logger = logging.getLogger(__name__)


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] | None = None,
) -> ProblemResponse:
    """A problem response; ``title`` is the status's reason phrase (``http.HTTPStatus``), the
    same in the three implementations. ``errors`` (default none) lists invalid fields."""
    body: Problem = (
        Problem(type="about:blank", title=HTTPStatus(status).phrase, status=status, detail=detail)
        if errors is None
        else ValidationProblem(
            type="about:blank",
            title=HTTPStatus(status).phrase,
            status=status,
            detail=detail,
            errors=list(errors),
        )
    )
    return ProblemResponse(body.model_dump(), status_code=status, headers=headers)


async def validation_exception_handler(request: Request, exc: Exception) -> Response:
    """422 with one entry per invalid field, or 400 when the body is not JSON at all."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    for error in errors:
        if error["type"] == "json_invalid":
            reason = error.get("ctx", {}).get("error", "malformed JSON")
            return problem(HTTPStatus.BAD_REQUEST, f"The request body is not valid JSON: {reason}.")
    return problem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "The request is invalid; see errors for each field.",
        errors=[
            FieldError(field=_field_name(error["loc"]), message=error["msg"]) for error in errors
        ],
    )


async def database_error_handler(request: Request, exc: Exception) -> Response:
    """503 when the database cannot serve the request now (a retry may succeed), answered
    inside the middleware, so the request keeps its id, metrics and audit row. Any other
    database error is re-raised for the 500 handler."""
    if not database_unavailable(exc):
        raise exc
    # The driver's own error, without the statement and parameters SQLAlchemy appends.
    cause = getattr(exc, "orig", None) or exc
    logger.warning(
        "database unavailable in request %s: %s: %s",
        getattr(request.state, "request_id", ""),
        type(cause).__name__,
        cause,
    )
    return problem(HTTPStatus.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE)


async def unhandled_exception_handler(request: Request, exc: Exception) -> Response:
    """Any other exception: a 500 problem without internals. Starlette's
    ServerErrorMiddleware calls this outside the user middleware, so the request id header
    is added here; the server still logs the traceback."""
    request_id = str(getattr(request.state, "request_id", ""))
    logger.error("unhandled %s in request %s", type(exc).__name__, request_id)
    return problem(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        f"An unexpected error occurred; quote request id {request_id} when reporting it.",
        headers={REQUEST_ID_HEADER: request_id} if request_id else None,
    )


def install_exception_handlers(app: FastAPI, routes: Sequence[APIRoute]) -> None:
    """Register the problem-details handlers on ``app``; ``routes`` are all the service's
    routes, so that a 405 lists every method served at the path (RFC 9110 section 15.5.6;
    Starlette's own Allow header names only the first matching route's methods)."""
    methods_at = [(route.path_regex, route.methods or set()) for route in routes]

    async def http_exception_handler(request: Request, exc: Exception) -> Response:
        """``HTTPException`` from the routes, and the router's own 404 and 405."""
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        detail = str(exc.detail)
        path = request.scope["path"]
        if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            allowed = {m for regex, methods in methods_at if regex.match(path) for m in methods}
            headers["Allow"] = ", ".join(sorted(allowed))
            detail = f"{request.method} is not allowed on {path}; use {headers['Allow']}."
        elif exc.status_code == HTTPStatus.NOT_FOUND and "endpoint" not in request.scope:
            detail = f"Nothing is served at {path}; see /openapi.json for the routes."
        return problem(exc.status_code, detail, headers=headers)

    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, database_error_handler)
    app.add_exception_handler(Exception, unhandled_exception_handler)


def _field_name(loc: Sequence[int | str]) -> str:
    """``("body", "amount")`` -> ``amount``; ``("query", "limit")`` -> ``limit``; a whole
    body that is missing or not an object -> ``body``."""
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for a route's ``responses=``: each status documented as
    ``application/problem+json`` (422 with the ``errors`` list)."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {
                        "$ref": "#/components/schemas/"
                        + ("ValidationProblem" if status == 422 else "Problem")
                    }
                }
            },
        }
        for status in statuses
    }


def problem_schemas() -> dict[str, Any]:
    """The component schemas :func:`problem_responses` refers to."""
    _, document = models_json_schema(
        [(Problem, "serialization"), (ValidationProblem, "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = document["$defs"]
    return schemas
