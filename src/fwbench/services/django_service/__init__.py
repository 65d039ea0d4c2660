"""The Django 5.2 + Django REST Framework implementation of the fwbench contract.

Layout (a regular Django project, one app per concern):

* ``project/``    settings (all from the environment), URLs, WSGI/ASGI entry points, the
  problem+json error handling and the DRF plumbing every app shares.
* ``payments/``   the article's fintech case study: transactions, the audit log, bearer-token
  auth, the audit middleware and the admin.
* ``benchmarks/`` the TechEmpower test types as plain Django views (like TechEmpower's own
  Django entry), ``/io``, and the ``seed`` management command.
* ``ops/``        health, readiness and Prometheus metrics.
* ``lab/``        the ``/_lab/*`` experiment endpoints, mounted only when ``FWBENCH_LAB=1``.

Entry points: WSGI ``project.wsgi:application``, ASGI ``project.asgi:application``,
``python -m fwbench.services.django_service.bootstrap`` (migrate + seed) and
``python -m fwbench.services.django_service.manage`` (Django's ``manage.py``, e.g.
``createsuperuser`` for the admin).
"""

from __future__ import annotations

#: The settings module every entry point uses unless DJANGO_SETTINGS_MODULE says otherwise.
SETTINGS_MODULE = "fwbench.services.django_service.project.settings"

#: Set to ``asgi`` by the ASGI entry point before Django loads the settings, which then take
#: PostgreSQL connections from a pool instead of keeping one per thread (see the settings).
INTERFACE_ENV = "FWBENCH_DJANGO_INTERFACE"
