from __future__ import annotations

from django.urls import path

from fwbench.services.django_service.lab import views

urlpatterns = [
    path("rows/seed", views.seed_rows, name="lab-rows-seed"),
    path("rows", views.rows, name="lab-rows"),
    path("purchases/seed", views.seed_purchases, name="lab-purchases-seed"),
    path("purchases", views.purchases, name="lab-purchases"),
    path("io-async", views.io_async, name="lab-io-async"),
]
