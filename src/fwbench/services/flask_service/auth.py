"""Bearer-token authentication (APIFlask's Flask-HTTPAuth integration).

``api_auth`` guards ``/transactions*`` and ``/accounts*`` and accepts either token;
``admin_auth`` guards ``/audit-log`` with the ``admin`` role, so a valid API token there
is answered 403 and a missing or unknown token 401.
"""

from __future__ import annotations

import hmac
from http import HTTPStatus
from typing import Literal

from apiflask import HTTPError, HTTPTokenAuth
from flask import Response, current_app, request

from .problems import problem

Actor = Literal["api", "admin"]

api_auth = HTTPTokenAuth(
    scheme="Bearer", security_scheme_name="apiToken", description="API_TOKEN from the environment."
)
admin_auth = HTTPTokenAuth(
    scheme="Bearer",
    security_scheme_name="adminToken",
    description="ADMIN_TOKEN from the environment.",
)


def identify(token: str | None) -> Actor | None:
    """Who presents ``token``: ``"admin"``, ``"api"`` or ``None`` for no valid token.

    Compared in constant time so the answer's timing tells nothing about the tokens.
    """
    if not token:
        return None
    presented = token.encode()
    if hmac.compare_digest(presented, current_app.config["ADMIN_TOKEN"].encode()):
        return "admin"
    if hmac.compare_digest(presented, current_app.config["API_TOKEN"].encode()):
        return "api"
    return None


def _roles(actor: Actor) -> list[str]:
    return [actor]


def request_actor() -> Actor | None:
    """The actor of the current request from its ``Authorization`` header, whether or not
    the matched view (if any) requires authentication."""
    authorization = request.authorization
    if authorization is None or authorization.type != "bearer":
        return None
    return identify(authorization.token)


def _auth_problem(error: HTTPError) -> Response:
    if error.status_code == HTTPStatus.FORBIDDEN:
        return problem(error.status_code, "This endpoint needs the admin token.")
    return problem(
        error.status_code,
        "Send a valid bearer token: Authorization: Bearer <token>.",
        headers={"WWW-Authenticate": "Bearer"},
    )


# Registered by calls rather than decorators: Flask-HTTPAuth is untyped (a decorator would
# erase these functions' types for mypy) and APIFlask's error_processor returns None.
api_auth.verify_token(identify)
admin_auth.verify_token(identify)
admin_auth.get_user_roles(_roles)
api_auth.error_processor(_auth_problem)
admin_auth.error_processor(_auth_problem)
