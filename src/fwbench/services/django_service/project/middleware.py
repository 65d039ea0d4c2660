"""Project-wide middleware: the request id, the problem+json safety net, and the gate that
lets only admin requests through the admin's own middleware.

They run in the mode of the handler they wrap (sync under WSGI, async under ASGI) and do no
I/O, so they call the next layer directly. (Django's ``MiddlewareMixin`` would run hooks through
``sync_to_async`` under ASGI, a thread hop each; Django docs, "Asynchronous support" in
topics/http/middleware.)
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.decorators import sync_and_async_middleware
from django.utils.module_loading import import_string

from fwbench.services.django_service.project.errors import (
    PROBLEM_CONTENT_TYPE,
    database_unavailable_response,
    problem_body,
)

SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
GetResponse = SyncGetResponse | AsyncGetResponse
Middleware = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# A WSGI-environ style key (PEP 3333: extensions are named with dots), so it cannot clash
# with a header's HTTP_* key.
_REQUEST_ID_KEY = "fwbench.request_id"


def request_id(request: HttpRequest) -> str:
    """The id :func:`request_id_middleware` gave ``request``; assigned here when that
    middleware is switched off (FWBENCH_EXTRAS_OFF=request-id), since the audit log still
    records one."""
    rid = request.META.get(_REQUEST_ID_KEY)
    return _assign_request_id(request) if rid is None else cast(str, rid)


def _assign_request_id(request: HttpRequest) -> str:
    """Echo a valid incoming ``X-Request-ID`` (1-128 of ``[A-Za-z0-9._-]``), else a UUID4."""
    # META rather than request.headers, which would parse every header of the request.
    incoming = request.META.get("HTTP_X_REQUEST_ID")
    if incoming is None or not _VALID_REQUEST_ID.fullmatch(incoming):
        incoming = str(uuid.uuid4())
    request.META[_REQUEST_ID_KEY] = incoming
    return incoming


@sync_and_async_middleware
def request_id_middleware(get_response: GetResponse) -> Middleware:
    """Give every request an id and every response its ``X-Request-ID`` header."""
    if iscoroutinefunction(get_response):
        get_response_async = cast(AsyncGetResponse, get_response)

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            rid = _assign_request_id(request)
            response = await get_response_async(request)
            response["X-Request-ID"] = rid
            return response

        return middleware_async

    get_response_sync = cast(SyncGetResponse, get_response)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        rid = _assign_request_id(request)
        response = get_response_sync(request)
        response["X-Request-ID"] = rid
        return response

    return middleware


def _as_problem(response: HttpResponseBase) -> HttpResponseBase:
    """``response`` with a problem+json body if it is an error that is not one yet (other
    headers such as ``Allow`` are kept)."""
    if (
        response.status_code >= 400
        and isinstance(response, HttpResponse)
        and not response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
    ):
        body = problem_body(response.status_code, response.reason_phrase)
        response.content = json.dumps(body).encode()
        response["Content-Type"] = PROBLEM_CONTENT_TYPE
        if response.has_header("Content-Length"):  # set by CommonMiddleware for the old body
            response["Content-Length"] = str(len(response.content))
    return response


@sync_and_async_middleware
def problem_details_middleware(get_response: GetResponse) -> Middleware:
    """Turn error responses that Django builds without a hook (405 from ``require_safe`` or
    ``View``) into problem documents, so that no error is ever an HTML page; and answer a
    database that cannot serve with the contract's 503 problem in every view outside DRF
    (the benchmark endpoints), through the ``process_exception`` hook, which Django calls
    only when a view raises, so it costs the other requests nothing."""
    if iscoroutinefunction(get_response):
        get_response_async = cast(AsyncGetResponse, get_response)

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            return _as_problem(await get_response_async(request))

        # Django finds the hook as an attribute of the middleware it built (its
        # load_middleware asks hasattr), a function here as well as an instance.
        middleware_async.process_exception = database_unavailable_response  # type: ignore[attr-defined]
        return middleware_async

    get_response_sync = cast(SyncGetResponse, get_response)

    def middleware(request: HttpRequest) -> HttpResponseBase:
        return _as_problem(get_response_sync(request))

    middleware.process_exception = database_unavailable_response  # type: ignore[attr-defined]
    return middleware


#: Hooks Django's handler calls around the view for the middleware in MIDDLEWARE only.
_VIEW_HOOKS = ("process_view", "process_exception", "process_template_response")


def _admin_chain(get_response: GetResponse, is_async: bool) -> GetResponse:
    """``settings.ADMIN_MIDDLEWARE`` around ``get_response``, built the way Django builds
    MIDDLEWARE (each layer's exceptions become responses; a sync-only layer under ASGI runs in
    a thread). Django calls view hooks for MIDDLEWARE only, so a middleware that has them is
    refused here rather than silently left half-working."""
    handler = get_response
    for path in reversed(settings.ADMIN_MIDDLEWARE):
        factory = import_string(path)
        if is_async and not getattr(factory, "async_capable", False):
            layer = factory(async_to_sync(cast(AsyncGetResponse, handler)))
            wrapped: GetResponse = sync_to_async(layer, thread_sensitive=True)
        else:
            layer = wrapped = factory(handler)
        hooks = [hook for hook in _VIEW_HOOKS if hasattr(layer, hook)]
        if hooks:
            raise ImproperlyConfigured(
                f"{path} in ADMIN_MIDDLEWARE has {', '.join(hooks)}, which only MIDDLEWARE runs."
            )
        handler = cast(GetResponse, convert_exception_to_response(wrapped))
    return handler


@sync_and_async_middleware
def admin_middleware(get_response: GetResponse) -> Middleware:
    """Send requests under ``settings.ADMIN_PREFIXES`` (the admin and its static files)
    through ``settings.ADMIN_MIDDLEWARE`` (static files, session, user, messages,
    clickjacking protection) and every other request straight on: the API never uses them,
    so it does not pay for them on every request."""
    prefixes = tuple(settings.ADMIN_PREFIXES)
    if iscoroutinefunction(get_response):
        get_response_async = cast(AsyncGetResponse, get_response)
        admin_async = cast(AsyncGetResponse, _admin_chain(get_response, is_async=True))

        async def middleware_async(request: HttpRequest) -> HttpResponseBase:
            if request.path_info.startswith(prefixes):
                return await admin_async(request)
            return await get_response_async(request)

        return middleware_async

    get_response_sync = cast(SyncGetResponse, get_response)
    admin_sync = cast(SyncGetResponse, _admin_chain(get_response, is_async=False))

    def middleware(request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(prefixes):
            return admin_sync(request)
        return get_response_sync(request)

    return middleware
