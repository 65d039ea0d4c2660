from __future__ import annotations

from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "fwbench.services.django_service.benchmarks"
    label = "benchmarks"
    verbose_name = "Benchmarks"
