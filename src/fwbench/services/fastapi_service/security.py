"""Bearer-token authentication and the admin role.

The token is checked by :class:`AuthenticatedRoute`, the route class of the protected
routers, right after routing and before FastAPI reads the body, converts parameters or
solves dependencies: the contract has 401 win over 400, 404 and 422, while FastAPI parses
a JSON body before it runs any dependency. Routes still declare their scheme with
``Security`` (which documents it in ``/openapi.json``) and the admin role with
:func:`require_admin`."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any, Literal

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from .settings import Settings, get_settings

Actor = Literal["api", "admin"]

#: The API token's scheme (the admin token is accepted too: admin can do everything).
API_BEARER = HTTPBearer(
    scheme_name="apiToken", description="API_TOKEN from the environment.", auto_error=False
)

#: The admin token's scheme.
ADMIN_BEARER = HTTPBearer(
    scheme_name="adminToken", description="ADMIN_TOKEN from the environment.", auto_error=False
)


def actor_for_token(token: str | None, settings: Settings) -> Actor | None:
    """``admin`` or ``api`` when ``token`` is one of the configured tokens, else None.

    Constant-time comparisons, so the response time does not reveal how much of a guess
    was right."""
    if not token:
        return None
    candidate = token.encode()
    if hmac.compare_digest(candidate, settings.admin_token.get_secret_value().encode()):
        return "admin"
    if hmac.compare_digest(candidate, settings.api_token.get_secret_value().encode()):
        return "api"
    return None


def actor_for_header(authorization: str | None, settings: Settings) -> Actor | None:
    """The actor behind a raw ``Authorization`` header value (``Bearer <token>``)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return actor_for_token(token.strip(), settings) if scheme.lower() == "bearer" else None


class AuthenticatedRoute(APIRoute):
    """A route that answers 401 unless the request carries the API or admin token, and
    otherwise stores the caller in ``request.state.actor`` (FastAPI's documented extension
    point "Custom Request and APIRoute class")."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authenticate_then_handle(request: Request) -> Response:
            actor = actor_for_header(request.headers.get("authorization"), get_settings())
            if actor is None:
                raise HTTPException(
                    HTTPStatus.UNAUTHORIZED,
                    "Send Authorization: Bearer <token> with a valid API or admin token.",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            request.state.actor = actor
            return await handle(request)

        return authenticate_then_handle


async def require_admin(request: Request) -> None:
    """403 unless the (already authenticated) caller used the admin token."""
    if request.state.actor != "admin":
        raise HTTPException(HTTPStatus.FORBIDDEN, "This endpoint needs the admin token.")
