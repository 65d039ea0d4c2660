"""RFC 9457 problem details for every error, whichever layer produces it.

* DRF views: :func:`problem_exception_handler` (the ``EXCEPTION_HANDLER`` setting).
* Everything else: the ``handler400/403/404/500`` views wired in ``project/urls.py`` and the
  ``CSRF_FAILURE_VIEW`` setting; ``ProblemDetailsMiddleware`` converts what remains (405 from
  ``require_safe`` and friends, which have no hook).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from fwbench.contract import DATABASE_UNAVAILABLE, MAX_BODY_BYTES
from fwbench.services.django_service.downstream import DownstreamError, DownstreamTimeout

PROBLEM_CONTENT_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)


def problem_body(
    status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The problem document for ``status``; ``errors`` (``[{field, message}]``, default none)
    is added for validation errors."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> JsonResponse:
    """A problem+json response for views outside DRF (arguments as in :func:`problem_body`)."""
    return JsonResponse(
        problem_body(status, detail, errors), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


# --- Exceptions DRF does not define --------------------------------------------------------


class PayloadTooLarge(exceptions.APIException):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The request body is larger than {MAX_BODY_BYTES} bytes."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = HTTPStatus.CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    default_detail = "The service is not ready."
    default_code = "service_unavailable"


class BadGateway(exceptions.APIException):
    status_code = HTTPStatus.BAD_GATEWAY
    default_detail = "The downstream service failed."
    default_code = "bad_gateway"


class GatewayTimeout(exceptions.APIException):
    status_code = HTTPStatus.GATEWAY_TIMEOUT
    default_detail = "The downstream service did not answer in time."
    default_code = "gateway_timeout"


def field_errors(detail: Any, field: str = "") -> Iterator[dict[str, str]]:
    """Flatten a DRF ``ValidationError.detail`` (nested dicts and lists of messages) into
    ``{field, message}`` pairs; ``field`` is the enclosing field name (default: none, reported
    as ``body``, the key DRF's NON_FIELD_ERRORS_KEY is set to)."""
    if isinstance(detail, dict):
        for name, value in detail.items():
            yield from field_errors(value, f"{field}.{name}" if field else str(name))
    elif isinstance(detail, list):
        for item in detail:
            yield from field_errors(item, field)
    else:
        yield {"field": field or "body", "message": str(detail)}


def database_unavailable(exc: Exception) -> bool:
    """Whether ``exc`` says that the database cannot serve the request now (server down or
    connection lost, the pool's wait for a connection timed out, a SQLite file read-only or
    full: OperationalError or InterfaceError), so a retry may succeed; logged if so (the
    driver's error goes to the log, not to the caller)."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return True


def database_unavailable_response(request: HttpRequest, exc: Exception) -> JsonResponse | None:
    """The contract's 503 problem if ``exc`` says the database cannot serve (see
    :func:`database_unavailable`), else None. A ``process_exception`` hook: views outside DRF
    (the benchmark endpoints) would otherwise reach ``handler500``; ``request`` is unused."""
    if not database_unavailable(exc):
        return None
    return problem_response(HTTPStatus.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, answering problem+json. Validation errors answer 422 (DRF says
    400) with their fields; errors the views leave to us are mapped first: an oversized body
    (Django's RequestDataTooBig) to 413, downstream failures to 504/502, and a database that
    cannot serve the request now to 503 (:func:`database_unavailable`). Returns None for
    anything else, which DRF re-raises and Django's ``handler500`` answers."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif database_unavailable(exc):
        exc = ServiceUnavailable(DATABASE_UNAVAILABLE)
    elif isinstance(exc, DownstreamTimeout):
        exc = GatewayTimeout(str(exc))
    elif isinstance(exc, DownstreamError):
        exc = BadGateway(str(exc))

    # DRF's own handler maps Http404/PermissionDenied and sets WWW-Authenticate/Retry-After.
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.status_code = HTTPStatus.UNPROCESSABLE_ENTITY
        response.data = problem_body(
            response.status_code,
            "The request has invalid fields.",
            list(field_errors(exc.detail)),
        )
    else:
        data = response.data
        detail = data.get("detail") if isinstance(data, dict) else None
        response.data = problem_body(
            response.status_code, str(detail or HTTPStatus(response.status_code).phrase)
        )
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


# --- Django's error views (handler400/403/404/500, CSRF_FAILURE_VIEW) -----------------------


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    """Django's ``handler400``: suspicious or oversized requests outside DRF."""
    if isinstance(exception, RequestDataTooBig):
        return problem_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, PayloadTooLarge.default_detail)
    return problem_response(HTTPStatus.BAD_REQUEST, "The request is malformed.")


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    """Django's ``handler403``."""
    return problem_response(HTTPStatus.FORBIDDEN, "You may not access this resource.")


def page_not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    """Django's ``handler404``: unknown routes and Http404 outside DRF."""
    return problem_response(HTTPStatus.NOT_FOUND, f"There is no resource at {request.path}.")


def server_error(request: HttpRequest) -> JsonResponse:
    """Django's ``handler500``: any unhandled exception; the traceback goes to the log only."""
    return problem_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, "The server failed to complete the request."
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """The ``CSRF_FAILURE_VIEW`` (admin forms); ``reason`` is Django's explanation."""
    return problem_response(HTTPStatus.FORBIDDEN, f"CSRF verification failed: {reason}")
