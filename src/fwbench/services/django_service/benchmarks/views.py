"""The TechEmpower test types as plain Django views, the way TechEmpower's own Django entry
writes them (a C JSON encoder and HttpResponse, no DRF in the path), and ``/io``.

No auth and no audit; the server sets ``Server`` and ``Date``.
"""

from __future__ import annotations

import random
from operator import itemgetter

import orjson
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from fwbench.contract import EXTRA_FORTUNE, MAX_RANDOM_NUMBER, WORLD_ROWS, clamp_queries
from fwbench.services.django_service import downstream
from fwbench.services.django_service.benchmarks.models import Fortune, World
from fwbench.services.django_service.benchmarks.serializers import (
    IoQuerySerializer,
    IoResultSerializer,
)
from fwbench.services.django_service.ops.views import OpenView
from fwbench.services.django_service.project.openapi import problem_responses

_JSON = "application/json"


def _json(data: object) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), content_type=_JSON)


def _random_world() -> dict[str, int]:
    """One random world row, read with its own query."""
    world = World.objects.get(pk=random.randint(1, WORLD_ROWS))
    return {"id": world.id, "randomNumber": world.randomnumber}


@require_safe
def json_view(request: HttpRequest) -> HttpResponse:
    return _json({"message": "Hello, World!"})


@require_safe
def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"Hello, World!", content_type="text/plain")


@require_safe
def db(request: HttpRequest) -> HttpResponse:
    return _json(_random_world())


@require_safe
def queries(request: HttpRequest) -> HttpResponse:
    count = clamp_queries(request.GET.get("queries"))
    return _json([_random_world() for _ in range(count)])


@require_safe
def updates(request: HttpRequest) -> HttpResponse:
    count = clamp_queries(request.GET.get("queries"))
    # Distinct ids, so every row returned is exactly what is stored afterwards; sorted, so
    # concurrent requests lock rows in the same order.
    ids = sorted(random.sample(range(1, WORLD_ROWS + 1), count))
    worlds = [World.objects.get(pk=world_id) for world_id in ids]
    for world in worlds:
        world.randomnumber = random.randint(1, MAX_RANDOM_NUMBER)
    # One UPDATE ... CASE statement for all rows (the TechEmpower rules allow batched writes).
    World.objects.bulk_update(worlds, ["randomnumber"])
    return _json([{"id": world.id, "randomNumber": world.randomnumber} for world in worlds])


@require_safe
def fortunes(request: HttpRequest) -> HttpResponse:
    # Plain rows rather than model instances ("Use QuerySet.values() ... when you just want
    # a dict", Django docs, "Database access optimization").
    rows = list(Fortune.objects.values("id", "message"))
    rows.append({"id": 0, "message": EXTRA_FORTUNE})
    rows.sort(key=itemgetter("message"))
    # Rendered without the request: the page uses no context processor's variables, so the
    # admin's (user, messages) need not run. Django's autoescaping renders ' as &#x27;.
    return HttpResponse(render_to_string("benchmarks/fortunes.html", {"fortunes": rows}))


class IoView(OpenView):
    """The article's I/O-bound workload: one blocking downstream call on a pooled client.

    A sync view is Django's idiom under WSGI (gunicorn sync/gthread, granian wsgi). Under ASGI
    Django runs it in a thread of its own per request; ``/_lab/io-async`` is the async variant.
    """

    @extend_schema(
        operation_id="io",
        summary="The article's I/O-bound workload; waits for GET {DOWNSTREAM_URL}/delay?ms=N.",
        parameters=[IoQuerySerializer],
        responses={200: IoResultSerializer, **problem_responses(422, 502, 504)},
    )
    def get(self, request: Request) -> Response:
        params = IoQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        ms: int = params.validated_data["ms"]
        downstream.delay(ms)
        return Response({"downstream_ms": ms})
