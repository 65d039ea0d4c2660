from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from fwbench.services.django_service.payments.authentication import ApiClient

# DRF imports permission classes named in its settings while importing rest_framework.views.
if TYPE_CHECKING:
    from rest_framework.views import APIView


class IsApiClient(BasePermission):
    """Any valid token (API or admin). Without one DRF answers 401, since authentication
    classes with a WWW-Authenticate header are configured."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, ApiClient)


class IsAdmin(BasePermission):
    """The admin token only; a valid API token gets 403."""

    message = "This endpoint needs the admin token."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, ApiClient) and request.user.is_admin
