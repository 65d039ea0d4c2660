from __future__ import annotations

from django.urls import path

from fwbench.services.django_service.benchmarks import views

urlpatterns = [
    path("json", views.json_view, name="tfb-json"),
    path("plaintext", views.plaintext, name="tfb-plaintext"),
    path("db", views.db, name="tfb-db"),
    path("queries", views.queries, name="tfb-queries"),
    path("updates", views.updates, name="tfb-updates"),
    path("fortunes", views.fortunes, name="tfb-fortunes"),
    path("io", views.IoView.as_view(), name="io"),
]
