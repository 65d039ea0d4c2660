"""OpenAPI description of the TechEmpower endpoints.

They are plain Django views, which drf-spectacular cannot inspect, so they are declared here
and added through its APPEND_PATHS / APPEND_COMPONENTS settings. Pure data: the settings
module imports it.
"""

from __future__ import annotations

from typing import Any, Final


def _get(
    operation_id: str,
    summary: str,
    description: str,
    content: dict[str, Any],
    parameters: tuple[dict[str, Any], ...] = (),
    database: bool = False,
) -> dict[str, Any]:
    """A GET path item answering 200 with ``content`` (media type -> schema); ``parameters``
    are its parameter objects (default none); ``database`` (default False) says that it reads
    the database, so it answers the contract's 503 problem when the database cannot serve."""
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            **({"parameters": list(parameters)} if parameters else {}),
            "responses": {
                "200": {
                    "description": description,
                    "content": {media: {"schema": schema} for media, schema in content.items()},
                },
                **({"503": _DATABASE_DOWN} if database else {}),
            },
        }
    }


_WORLD: Final = {"$ref": "#/components/schemas/World"}
#: The Problem schema drf-spectacular generates from ProblemSerializer (the payments
#: operations use it for their errors, so it is always among the components).
_DATABASE_DOWN: Final = {
    "description": "Service Unavailable",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_QUERIES: Final = {
    "name": "queries",
    "in": "query",
    "required": False,
    "description": "Clamped to 1..500; missing or not an integer counts as 1.",
    "schema": {"type": "string"},
}

BENCHMARK_PATHS: Final[dict[str, Any]] = {
    "/json": _get(
        "tfbJson",
        "TechEmpower test type 1, JSON serialization.",
        '{"message": "Hello, World!"}',
        {"application/json": {"$ref": "#/components/schemas/HelloMessage"}},
    ),
    "/plaintext": _get(
        "tfbPlaintext",
        "TechEmpower test type 6, plaintext.",
        "Hello, World!",
        {"text/plain": {"type": "string"}},
    ),
    "/db": _get(
        "tfbDb",
        "TechEmpower test type 2, one random world row.",
        "A world row.",
        {"application/json": _WORLD},
        database=True,
    ),
    "/queries": _get(
        "tfbQueries",
        "TechEmpower test type 3, N random world rows with one query each.",
        "World rows.",
        {"application/json": {"type": "array", "items": _WORLD}},
        (_QUERIES,),
        database=True,
    ),
    "/updates": _get(
        "tfbUpdates",
        "TechEmpower test type 5, N random world rows read, renumbered and persisted.",
        "The updated world rows, as stored.",
        {"application/json": {"type": "array", "items": _WORLD}},
        (_QUERIES,),
        database=True,
    ),
    "/fortunes": _get(
        "tfbFortunes",
        "TechEmpower test type 4, fortunes rendered by the framework's template engine.",
        "An HTML table.",
        {"text/html": {"type": "string"}},
        database=True,
    ),
}

BENCHMARK_COMPONENTS: Final[dict[str, Any]] = {
    "schemas": {
        "HelloMessage": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
        "World": {
            "type": "object",
            "required": ["id", "randomNumber"],
            "properties": {"id": {"type": "integer"}, "randomNumber": {"type": "integer"}},
        },
    }
}
