"""Schemathesis hooks loaded by every fuzz run (``SCHEMATHESIS_HOOKS=tests.fuzz.hooks``).

The built-in checks already cover what the OpenAPI document states (status codes, content
types, declared headers such as ``Location``, response bodies, 4xx on invalid input,
2xx on valid input). These add the rules the contract states in prose: every error is
an RFC 9457 problem (with ``errors`` on 422), every response carries ``X-Request-ID``,
and a created transaction's ``Location`` names it.
"""

from __future__ import annotations

import os
from typing import Any, Final

import schemathesis

#: Environment variable carrying the tokens no response may contain.
SECRETS_ENV: Final = "FWBENCH_FUZZ_SECRETS"

#: Largest ``/io?ms=`` a fuzz case may ask for: the endpoint waits that long by design,
#: so the 10,000 ms the contract allows would spend the run's budget on sleeping.
IO_MS_CAP: Final = 50


@schemathesis.hook("map_query").apply_to(path="/io")
def short_io_delays(context: schemathesis.HookContext, query: dict[str, Any] | None) -> Any:
    """Keep valid ``ms`` values small; invalid ones (the point of a negative case) pass."""
    if query is not None:
        ms = query.get("ms")
        if isinstance(ms, int) and not isinstance(ms, bool) and IO_MS_CAP < ms <= 10_000:
            query["ms"] = ms % (IO_MS_CAP + 1)
    return query


@schemathesis.check
def problem_details(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every 4xx/5xx is ``application/problem+json`` with type, title, status and detail;
    a 422 also lists the invalid fields in ``errors``."""
    if response.status_code < 400:
        return None
    media_type = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    assert media_type == "application/problem+json", (
        f"{response.status_code} answered with {media_type!r}, not application/problem+json"
    )
    body = response.json()
    assert isinstance(body, dict), "the problem body is not a JSON object"
    for name, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
        assert isinstance(body.get(name), kind), f"the problem has no {kind.__name__} {name!r}"
    assert body["status"] == response.status_code, (
        f"the problem says status {body['status']}, the response {response.status_code}"
    )
    if response.status_code == 422:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, "a 422 problem has no errors"
        for error in errors:
            assert isinstance(error, dict), "an entry of errors is not an object"
            assert isinstance(error.get("field"), str), "an entry of errors has no field"
            assert isinstance(error.get("message"), str), "an entry of errors has no message"
    return True


@schemathesis.check
def no_token_in_the_body(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """No response echoes a bearer token (``FWBENCH_FUZZ_SECRETS``: the tokens, one per
    line, set by the runner)."""
    secrets = [line for line in os.environ.get(SECRETS_ENV, "").splitlines() if line]
    text = response.text
    assert not any(secret in text for secret in secrets), "the response contains a token"
    return True


@schemathesis.check
def request_id(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every response carries exactly one non-empty ``X-Request-ID``."""
    values = response.headers.get("x-request-id") or []
    assert len(values) == 1 and values[0], f"X-Request-ID is {values!r}, not one value"
    return True


@schemathesis.check
def location_names_the_transaction(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A 201 from ``POST /transactions`` has ``Location: /transactions/{id}``."""
    if response.status_code != 201 or case.operation.path != "/transactions":
        return None
    location = (response.headers.get("location") or [""])[0]
    expected = f"/transactions/{response.json()['id']}"
    assert location.endswith(expected), f"Location is {location!r}, expected ...{expected}"
    return True
