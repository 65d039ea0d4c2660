"""URLs: the contract, the schema, the admin (unless minimal) and the lab (when enabled)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularJSONAPIView

from fwbench.services.django_service.benchmarks import urls as benchmark_urls

_PACKAGE = "fwbench.services.django_service"

# Django tries the patterns in order and every miss costs a match attempt: the benchmark
# endpoints, the most requested, come first, and at the top level: behind include("") each
# request would be resolved twice (by the include's resolver, then by the pattern).
urlpatterns: list[URLPattern | URLResolver] = [
    *benchmark_urls.urlpatterns,
    path("", include(f"{_PACKAGE}.payments.urls")),
    path("", include(f"{_PACKAGE}.ops.urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
]

if apps.is_installed("django.contrib.admin"):
    from django.contrib import admin

    urlpatterns.append(path("admin/", admin.site.urls))

if settings.LAB_ENABLED:
    urlpatterns.append(path("_lab/", include(f"{_PACKAGE}.lab.urls")))

handler400 = f"{_PACKAGE}.project.errors.bad_request"
handler403 = f"{_PACKAGE}.project.errors.permission_denied"
handler404 = f"{_PACKAGE}.project.errors.page_not_found"
handler500 = f"{_PACKAGE}.project.errors.server_error"
