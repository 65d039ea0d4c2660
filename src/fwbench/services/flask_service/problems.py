"""RFC 9457 problem details: how every error of this service is answered."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any, Final, TypedDict

from apiflask import APIFlask, HTTPError
from flask import Response, current_app
from sqlalchemy import exc as sqlalchemy_errors
from werkzeug.exceptions import HTTPException

from fwbench.contract import DATABASE_UNAVAILABLE

from .downstream import DownstreamError, DownstreamTimeout

PROBLEM_MIMETYPE: Final = "application/problem+json"

#: Errors that mean the database cannot serve the request now, not that the request is
#: wrong: the server is down or the connection was lost (OperationalError, InterfaceError,
#: a pool connection found dead), no pooled connection came free in time, or a SQLite file
#: is read-only or full (OperationalError too).
DATABASE_UNAVAILABLE_ERRORS: Final[tuple[type[Exception], ...]] = (
    sqlalchemy_errors.OperationalError,
    sqlalchemy_errors.InterfaceError,
    sqlalchemy_errors.DisconnectionError,
    sqlalchemy_errors.TimeoutError,
)


class FieldProblem(TypedDict):
    field: str
    message: str


def problem(
    status: int,
    detail: str,
    *,
    errors: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An ``application/problem+json`` response.

    Args:
        status: HTTP status; the title is its standard reason phrase.
        detail: One sentence for the client saying what went wrong.
        errors: The invalid request fields, for validation errors only (default: none).
        headers: Extra response headers, e.g. ``Allow`` or ``WWW-Authenticate``.
    """
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return current_app.response_class(
        current_app.json.dumps(body), status=status, headers=headers, mimetype=PROBLEM_MIMETYPE
    )


def init_app(app: APIFlask) -> None:
    """Answer every error of ``app`` with a problem, never an HTML page or a traceback."""
    app.error_processor(_from_api_error)
    # Registered after error_processor(), which maps werkzeug errors through APIFlask's
    # HTTPError and drops their description; this keeps it. Unhandled exceptions also land
    # here: Flask logs them and hands this handler an InternalServerError, whose
    # description is generic.
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(DownstreamTimeout, _from_downstream_timeout)
    app.register_error_handler(DownstreamError, _from_downstream_error)
    for error in DATABASE_UNAVAILABLE_ERRORS:
        app.register_error_handler(error, _from_database_unavailable)


def _from_http_exception(error: HTTPException) -> Response:
    status = error.code or HTTPStatus.INTERNAL_SERVER_ERROR
    headers = {name: value for name, value in error.get_headers() if name != "Content-Type"}
    # webargs attaches the JSON decoding error to the 400 it raises for a malformed body.
    if isinstance(getattr(error, "exc", None), ValueError):
        detail = "The request body is not valid JSON."
    else:
        detail = error.description or HTTPStatus(status).phrase
    return problem(status, detail, headers=headers)


def _from_api_error(error: HTTPError) -> Response:
    """APIFlask's errors: request validation, whose ``detail`` maps each request location
    to its invalid fields."""
    if isinstance(error.detail, Mapping) and error.detail:
        errors = list(_field_problems(error.detail))
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if error.status_code == HTTPStatus.UNPROCESSABLE_ENTITY:
            return problem(error.status_code, detail, errors=errors)
        # A validation declared with another status (an invalid transaction id is a 404).
        return problem(error.status_code, detail)
    return problem(error.status_code, error.message or HTTPStatus(error.status_code).phrase)


def _field_problems(detail: Mapping[str, Any]) -> Iterator[FieldProblem]:
    for location_errors in detail.values():
        for field, messages in location_errors.items():
            # marshmallow reports a body that is not an object under "_schema".
            name = "body" if field == "_schema" else field
            for message in _flatten(messages):
                yield {"field": name, "message": message}


def _flatten(messages: Any) -> Iterator[str]:
    if isinstance(messages, str):
        yield messages
    elif isinstance(messages, Mapping):
        for nested in messages.values():
            yield from _flatten(nested)
    else:
        for nested in messages:
            yield from _flatten(nested)


def _from_downstream_timeout(error: DownstreamTimeout) -> Response:
    return problem(HTTPStatus.GATEWAY_TIMEOUT, str(error))


def _from_downstream_error(error: DownstreamError) -> Response:
    return problem(HTTPStatus.BAD_GATEWAY, str(error))


def _from_database_unavailable(error: Exception) -> Response:
    """503: the database cannot serve the request now; a retry may succeed."""
    # The driver's own error, without the statement and parameters SQLAlchemy appends.
    cause = getattr(error, "orig", None) or error
    current_app.logger.warning("database unavailable: %s: %s", type(cause).__name__, cause)
    return problem(HTTPStatus.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE)
