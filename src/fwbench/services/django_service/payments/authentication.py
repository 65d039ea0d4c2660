"""Bearer-token authentication: API_TOKEN for clients, ADMIN_TOKEN for admins (who may also do
everything a client does). Tokens are compared in constant time."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

Actor = Literal["api", "admin"]


def actor_for(authorization: str | None) -> Actor | None:
    """Who an ``Authorization`` header value authenticates: "admin", "api", or None for a
    missing, malformed or unknown token."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    presented = token.encode()
    # Both comparisons always run, so the timing does not tell which token was close.
    is_admin = hmac.compare_digest(presented, settings.ADMIN_TOKEN.encode())
    is_api = hmac.compare_digest(presented, settings.API_TOKEN.encode())
    if is_admin:
        return "admin"
    return "api" if is_api else None


@dataclass(frozen=True)
class ApiClient:
    """``request.user`` of an authenticated request: which token it presented."""

    actor: Actor
    is_authenticated: bool = True

    @property
    def is_admin(self) -> bool:
        return self.actor == "admin"


class BearerTokenAuthentication(BaseAuthentication):
    """No header: unauthenticated (the permission answers 401). A wrong token: 401."""

    def authenticate(self, request: Request) -> tuple[ApiClient, None] | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        actor = actor_for(header)
        if actor is None:
            raise AuthenticationFailed("The bearer token is missing or invalid.")
        return ApiClient(actor), None

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 with `WWW-Authenticate: Bearer` rather than 403.
        return "Bearer"


class AdminTokenAuthentication(BearerTokenAuthentication):
    """The same tokens, for the admin-only audit log: a separate class only so that the schema
    documents its security scheme (adminToken); the API token still authenticates (and the
    permission then answers 403)."""


# drf-spectacular registers extensions in an unannotated __init_subclass__.
class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = BearerTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "API_TOKEN from the environment (ADMIN_TOKEN works too).",
        }


class AdminTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = AdminTokenAuthentication
    name = "adminToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "ADMIN_TOKEN from the environment.",
        }
