"""The served /openapi.json describes the contract: same paths, methods, status codes,
parameters, request fields and response fields once $refs are resolved.

Documents are compared through a normaliser that keeps what the contract fixes and drops
what the tools are free to spell their own way (titles, descriptions, examples, formats,
schema names, how a nullable type is written, header name case).
"""

from __future__ import annotations

from typing import Any, Final

import httpx
import pytest
from openapi_spec_validator import validate

from fwbench.contract import openapi_document
from tests.contract._checks import describe, media_type

METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

#: Nesting deeper than this means a recursive schema, which the contract does not have.
MAX_DEPTH: Final = 12

Shape = dict[str, Any] | str | list[Any]


def _resolve(document: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        reference = node["$ref"]
        assert isinstance(reference, str) and reference.startswith("#/"), reference
        target: Any = document
        for part in reference[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
        seen += 1
        assert seen < 50, f"$ref loop at {reference}"
    return node


def shape(document: dict[str, Any], schema: Any, depth: int = 0) -> Shape:
    """What the contract fixes of a schema: for objects their property names (recursively)
    and required list, for arrays the shape of their items, and ``"scalar"`` otherwise.

    Args:
        document: the OpenAPI document the schema's $refs point into.
        schema: the schema (or a $ref to one).
        depth: current nesting, to stop on recursive schemas.
    """
    assert depth < MAX_DEPTH, "schema nested too deep"
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return "scalar"
    if "allOf" in schema:
        merged: dict[str, Any] = {"properties": {}, "required": []}
        parts = [shape(document, part, depth + 1) for part in schema["allOf"]]
        for part in parts:
            if not isinstance(part, dict) or "properties" not in part:
                return parts[0] if len(parts) == 1 else sorted(parts, key=repr)
            merged["properties"].update(part["properties"])
            merged["required"] = sorted({*merged["required"], *part["required"]})
        return merged
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            branches = [
                shape(document, branch, depth + 1)
                for branch in schema[combinator]
                if _resolve(document, branch).get("type") != "null"
            ]
            unique = sorted({repr(branch): branch for branch in branches}.items())
            if len(unique) == 1:
                return unique[0][1]
            return [branch for _, branch in unique]
    kind = schema.get("type")
    kinds = set(kind) - {"null"} if isinstance(kind, list) else {kind}
    if "object" in kinds or "properties" in schema:
        return {
            "properties": {
                name: shape(document, sub, depth + 1)
                for name, sub in schema.get("properties", {}).items()
            },
            "required": sorted(schema.get("required", [])),
        }
    if "array" in kinds:
        return {"items": shape(document, schema.get("items", {}), depth + 1)}
    return "scalar"


def _content(document: dict[str, Any], holder: dict[str, Any]) -> dict[str, Shape]:
    return {
        media: shape(document, body.get("schema", {}))
        for media, body in holder.get("content", {}).items()
    }


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation of ``document`` keyed by (path, method), normalised to its
    parameters, request body and responses."""
    normalised: dict[tuple[str, str], dict[str, Any]] = {}
    for path, raw_item in document.get("paths", {}).items():
        item = _resolve(document, raw_item)
        shared = [_resolve(document, p) for p in item.get("parameters", [])]
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = {
                (p["in"], p["name"]): p
                for p in [
                    *shared,
                    *(_resolve(document, p) for p in operation.get("parameters", [])),
                ]
            }
            body = operation.get("requestBody")
            normalised[(path, method)] = {
                "parameters": sorted(
                    (
                        location,
                        name.lower() if location == "header" else name,
                        bool(parameter.get("required", False)),
                    )
                    for (location, name), parameter in parameters.items()
                ),
                "request": None
                if body is None
                else {
                    "required": bool(_resolve(document, body).get("required", False)),
                    "content": _content(document, _resolve(document, body)),
                },
                "responses": {
                    str(status): _content(document, _resolve(document, response))
                    for status, response in operation.get("responses", {}).items()
                },
            }
    return normalised


@pytest.fixture
def served(api: httpx.Client) -> dict[str, Any]:
    """The implementation's /openapi.json."""
    response = api.get("/openapi.json")
    assert response.status_code == 200, describe(response)
    # drf-spectacular answers with the registered OpenAPI media type; both are JSON.
    assert media_type(response) in {"application/json", "application/vnd.oai.openapi+json"}
    document: dict[str, Any] = response.json()
    return document


def _differences(served: dict[str, Any], aspect: str) -> list[str]:
    contract = operations(openapi_document())
    actual = operations(served)
    lines = []
    for key in sorted(contract.keys() & actual.keys()):
        if contract[key][aspect] != actual[key][aspect]:
            lines.append(
                f"{key[1].upper()} {key[0]}:\n  contract: {contract[key][aspect]}\n"
                f"  served:   {actual[key][aspect]}"
            )
    return lines


def test_the_contract_is_a_valid_openapi_document() -> None:
    validate(openapi_document())


def test_the_served_document_is_valid_openapi(served: dict[str, Any]) -> None:
    validate(served)


def test_the_served_paths_are_the_contract_paths(served: dict[str, Any]) -> None:
    expected = set(openapi_document()["paths"])
    actual = set(served.get("paths", {}))
    assert actual == expected, f"missing {expected - actual}, extra {actual - expected}"


def test_each_path_has_the_contract_methods(served: dict[str, Any]) -> None:
    expected = set(operations(openapi_document()))
    actual = {key for key in operations(served) if key[0] in openapi_document()["paths"]}
    assert actual == expected, f"missing {expected - actual}, extra {actual - expected}"


def test_each_operation_has_the_contract_status_codes(served: dict[str, Any]) -> None:
    contract = operations(openapi_document())
    actual = operations(served)
    lines = [
        f"{method.upper()} {path}: contract {sorted(contract[(path, method)]['responses'])}, "
        f"served {sorted(actual[(path, method)]['responses'])}"
        for path, method in sorted(contract.keys() & actual.keys())
        if set(contract[(path, method)]["responses"]) != set(actual[(path, method)]["responses"])
    ]
    assert not lines, "\n".join(lines)


def test_each_operation_has_the_contract_parameters(served: dict[str, Any]) -> None:
    lines = _differences(served, "parameters")
    assert not lines, "\n".join(lines)


def test_each_operation_has_the_contract_request_body(served: dict[str, Any]) -> None:
    lines = _differences(served, "request")
    assert not lines, "\n".join(lines)


def test_each_response_has_the_contract_media_types_and_fields(served: dict[str, Any]) -> None:
    contract = operations(openapi_document())
    actual = operations(served)
    lines = []
    for key in sorted(contract.keys() & actual.keys()):
        expected_responses = contract[key]["responses"]
        served_responses = actual[key]["responses"]
        for status in sorted(expected_responses.keys() & served_responses.keys()):
            if expected_responses[status] != served_responses[status]:
                lines.append(
                    f"{key[1].upper()} {key[0]} {status}:\n"
                    f"  contract: {expected_responses[status]}\n"
                    f"  served:   {served_responses[status]}"
                )
    assert not lines, "\n".join(lines)


def test_the_normaliser_sees_the_fields_it_compares() -> None:
    """Guards the comparison against passing vacuously: the contract's create operation
    normalises to its real fields, and dropping a required field changes the result."""
    document = openapi_document()
    create = operations(document)[("/transactions", "post")]
    fields = ["account_id", "amount", "currency", "merchant"]
    assert create["request"] == {
        "required": True,
        "content": {
            "application/json": {
                "properties": dict.fromkeys(fields, "scalar"),
                "required": fields,
            }
        },
    }
    assert create["parameters"] == [("header", "idempotency-key", False)]
    created = create["responses"]["201"]["application/json"]
    assert sorted(created["properties"]) == sorted(created["required"])
    assert len(created["required"]) == 8
    problem = create["responses"]["422"]["application/problem+json"]
    assert problem["properties"]["errors"] == {
        "items": {
            "properties": {"field": "scalar", "message": "scalar"},
            "required": ["field", "message"],
        }
    }
    page = operations(document)[("/transactions", "get")]["responses"]["200"]
    assert page["application/json"]["properties"]["items"]["items"] == created
    mutated = {
        **document,
        "components": {
            **document["components"],
            "schemas": {
                **document["components"]["schemas"],
                "Transaction": {
                    **document["components"]["schemas"]["Transaction"],
                    "required": ["id"],
                },
            },
        },
    }
    assert operations(mutated)[("/transactions", "post")] != create
