"""Assertions and request helpers shared by the contract test modules."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Final

import httpx

#: A valid incoming X-Request-ID is echoed; anything else is replaced by a UUID4.
REQUEST_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

#: RFC 3339 UTC with a ``Z`` suffix and no fraction, e.g. ``2026-11-25T01:02:03Z``.
TIMESTAMP_PATTERN: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

#: RFC 1123 ``Date`` header, e.g. ``Tue, 25 Nov 2026 01:02:03 GMT``.
RFC1123_PATTERN: Final = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$"
)

#: How far a server clock reading (Date, created_at) may be from the test's clock. The
#: check is about the time zone and "current", not about speed, hence generous.
CLOCK_TOLERANCE: Final = timedelta(minutes=5)

TRANSACTION_FIELDS: Final = frozenset(
    {"id", "account_id", "amount", "currency", "merchant", "status", "fraud_score", "created_at"}
)
AUDIT_FIELDS: Final = frozenset(
    {"id", "request_id", "method", "path", "status", "duration_ms", "actor", "created_at"}
)


def media_type(response: httpx.Response) -> str:
    """The Content-Type without parameters, lower-cased."""
    value: str = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


def describe(response: httpx.Response) -> str:
    """A short description of a response for assertion messages."""
    return (
        f"{response.request.method} {response.request.url.raw_path.decode()} -> "
        f"{response.status_code} {response.headers.get('content-type')!r} {response.text[:300]!r}"
    )


def assert_problem(
    response: httpx.Response, status: int, *, fields: set[str] | None = None
) -> dict[str, Any]:
    """Assert an RFC 9457 problem response and return its body.

    Args:
        response: the response to check.
        status: the expected HTTP status.
        fields: when given, the response must be a validation problem whose ``errors``
            name exactly these request fields.
    """
    assert response.status_code == status, describe(response)
    assert media_type(response) == "application/problem+json", describe(response)
    assert "X-Request-ID" in response.headers, describe(response)
    text = response.text
    assert "<html" not in text.lower(), describe(response)
    assert "Traceback" not in text, describe(response)
    body = response.json()
    assert isinstance(body, dict), describe(response)
    assert body.get("type") == "about:blank", describe(response)
    assert body.get("title") == HTTPStatus(status).phrase, describe(response)
    assert body.get("status") == status, describe(response)
    assert isinstance(body.get("detail"), str), describe(response)
    if fields is not None:
        errors = body.get("errors")
        assert isinstance(errors, list), describe(response)
        assert errors, describe(response)
        for error in errors:
            assert isinstance(error, dict), describe(response)
            assert isinstance(error.get("field"), str), describe(response)
            assert isinstance(error.get("message"), str), describe(response)
        assert {error["field"] for error in errors} == fields, describe(response)
    return body


def assert_generated_request_id(value: str | None) -> None:
    """Assert ``value`` is a canonical UUID4 string."""
    assert value is not None
    parsed = uuid.UUID(value)
    assert parsed.version == 4, value
    assert str(parsed) == value, value


def assert_timestamp_now(value: object) -> datetime:
    """Assert an RFC 3339 UTC ``...Z`` timestamp close to now; return it parsed."""
    assert isinstance(value, str), value
    assert TIMESTAMP_PATTERN.match(value), value
    moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(moment - datetime.now(UTC)) < CLOCK_TOLERANCE, value
    return moment


def assert_transaction(body: object, **expected: object) -> dict[str, Any]:
    """Assert a transaction representation with exactly the contract's fields and the
    given field values; return it."""
    assert isinstance(body, dict), body
    assert set(body) == TRANSACTION_FIELDS, body
    assert isinstance(body["id"], int) and body["id"] >= 1, body
    assert isinstance(body["amount"], str), body
    assert re.fullmatch(r"\d+\.\d{2}", body["amount"]), body
    assert body["status"] in {"pending", "approved", "declined"}, body
    assert body["fraud_score"] is None or isinstance(body["fraud_score"], int | float), body
    assert_timestamp_now(body["created_at"])
    for name, value in expected.items():
        assert body[name] == value, (name, body)
    return body


def assert_date_header(response: httpx.Response) -> None:
    """Assert exactly one ``Date`` header, in RFC 1123 form and current."""
    values = response.headers.get_list("date")
    assert len(values) == 1, values
    assert RFC1123_PATTERN.match(values[0]), values[0]
    moment = parsedate_to_datetime(values[0])
    assert abs(moment - datetime.now(UTC)) < CLOCK_TOLERANCE, values[0]


def assert_server_header(response: httpx.Response) -> None:
    """Assert exactly one non-empty ``Server`` header."""
    values = response.headers.get_list("server")
    assert len(values) == 1, values
    assert values[0].strip(), values


class CreateTransaction:
    """Create transactions over HTTP (POST /transactions) and return the 201 body.

    Args:
        client: the service client.
        headers: the authorization headers.
        account: the default account id.
    """

    def __init__(self, client: httpx.Client, headers: dict[str, str], account: str) -> None:
        self.client = client
        self.headers = headers
        self.account = account

    def __call__(
        self,
        amount: str = "12.50",
        currency: str = "EUR",
        merchant: str = "Coffee Shop",
        account: str | None = None,
    ) -> dict[str, Any]:
        """POST one transaction; defaults: 12.50 EUR at "Coffee Shop" for the fixture's
        account."""
        response = self.client.post(
            "/transactions",
            headers=self.headers,
            json={
                "account_id": account or self.account,
                "amount": amount,
                "currency": currency,
                "merchant": merchant,
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body
