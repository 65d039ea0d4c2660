"""Helpers for ``@bp.doc(responses=...)``: the OpenAPI response objects APIFlask cannot
infer, written once so every operation documents exactly the contract's responses.

APIFlask's automatic 404/401/422 responses are turned off in the app factory (it would
add a 404 to every operation with a path parameter and a 422 to every one with query
parameters, neither of which matches the contract).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from apiflask import Schema

from . import schemas
from .problems import PROBLEM_MIMETYPE

#: What ``@bp.doc(responses=...)`` takes: status code to OpenAPI response object.
ResponseObjects = dict[int | str, dict[str, Any]]


def errors(*statuses: int) -> ResponseObjects:
    """Problem responses for ``statuses``: ``ValidationProblem`` for 422, else ``Problem``."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {
                PROBLEM_MIMETYPE: {
                    "schema": schemas.ValidationProblem if status == 422 else schemas.Problem
                }
            },
        }
        for status in statuses
    }


def ok(
    description: str, schema: type[Schema] | Schema | dict[str, Any], media_type: str
) -> ResponseObjects:
    """The 200 response of a view that builds its response itself instead of going through
    ``@bp.output`` (the benchmark endpoints skip marshmallow's dump on their hot path).

    Args:
        description: The response description.
        schema: A marshmallow schema (class, or instance such as ``World(many=True)``) or a
            plain JSON schema dict.
        media_type: The response's media type, e.g. ``"application/json"``.
    """
    return {200: {"description": description, "content": {media_type: {"schema": schema}}}}


def require_request_bodies(spec: dict[str, Any] | str) -> dict[str, Any] | str:
    """``app.spec_processor`` hook: mark every request body required.

    APIFlask leaves ``requestBody.required`` unset, which OpenAPI reads as "optional"; every
    body this API declares is required (a request without one answers 422).
    """
    if isinstance(spec, dict):
        for operations in spec["paths"].values():
            for operation in operations.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    operation["requestBody"]["required"] = True
    return spec
