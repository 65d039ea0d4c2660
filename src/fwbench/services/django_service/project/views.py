"""A base for the API views of every app."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.views import APIView


class RouteFirstMixin(APIView):
    """Answer 405 for a method the route does not serve *before* authenticating, as routing
    does in FastAPI and Flask (DRF authenticates first). Only the contract's methods exist:
    OPTIONS, PUT, PATCH, DELETE, TRACE are 405 with an ``Allow`` header."""

    http_method_names = ["get", "post", "head"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)
