"""Django settings, 12-factor style: everything that varies between deployments comes from
the environment (see docs/architecture.md for the variables shared by all implementations).

Django-specific variables:

* ``DJANGO_SECRET_KEY``: signs admin sessions; when unset it is derived from ADMIN_TOKEN
  (stable across workers, and flagged as insecure by ``manage.py check --deploy``).
* ``DJANGO_ALLOWED_HOSTS``: extra comma-separated host names besides loopback/localhost.
* ``DATABASE_POOL_MAX_SIZE`` (default 10) and ``DATABASE_POOL_TIMEOUT`` (seconds, default 3):
  the per-process PostgreSQL connection pool, under ASGI (WSGI threads keep a connection each).
* ``FWBENCH_DJANGO_MINIMAL=1``: drop the contrib apps (admin, auth, contenttypes, sessions,
  messages, staticfiles), their middleware and the admin URL, for the cold-start experiment.
  The contract endpoints work the same in both modes.
* ``FWBENCH_EXTRAS_OFF`` (shared, ``fwbench.contract.EXTRAS_OFF_FLAG``): the contract's extras
  left out for the fairness benchmark; an unknown name stops the service at start.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from fwbench.contract import EXTRAS_OFF_FLAG, LAB_FLAG, MAX_BODY_BYTES, extras_off
from fwbench.services.django_service import INTERFACE_ENV
from fwbench.services.django_service.benchmarks.openapi import (
    BENCHMARK_COMPONENTS,
    BENCHMARK_PATHS,
)


def _env_flag(name: str) -> bool:
    """True when the environment variable ``name`` is set to 1/true/yes (default false)."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def _env_number(name: str, default: float) -> float:
    """The environment variable ``name`` as a number, ``default`` when unset."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}.") from None


_PACKAGE = "fwbench.services.django_service"

MINIMAL = _env_flag("FWBENCH_DJANGO_MINIMAL")
LAB_ENABLED = _env_flag(LAB_FLAG)
try:
    EXTRAS_OFF = extras_off(os.environ.get(EXTRAS_OFF_FLAG))
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None


def _unless_off(extra: str, *middleware: str) -> list[str]:
    """``middleware`` unless the contract's ``extra`` is switched off (FWBENCH_EXTRAS_OFF)."""
    return [] if extra in EXTRAS_OFF else list(middleware)


# --- Service configuration shared by the three implementations -----------------------------

# The service refuses to start without its tokens: project/startup.py checks them when the
# WSGI/ASGI application is built. Management commands and mypy's Django plugin import these
# settings too and do not need them.
API_TOKEN = os.environ.get("API_TOKEN", "")
ADMIN_TOKEN = os.environ.get("ADMIN_TOKEN", "")

DOWNSTREAM_URL = os.environ.get("DOWNSTREAM_URL", "http://127.0.0.1:8900").rstrip("/")
DOWNSTREAM_TIMEOUT = _env_number("DOWNSTREAM_TIMEOUT", 2.0)

# --- Django core ---------------------------------------------------------------------------

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    "django-insecure-" + hashlib.sha256(f"fwbench-django:{ADMIN_TOKEN}".encode()).hexdigest()
)
DEBUG = False
ALLOWED_HOSTS = [
    "127.0.0.1",
    "localhost",
    "[::1]",
    *(host.strip() for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if host),
]

_CONTRIB_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
INSTALLED_APPS = [
    *([] if MINIMAL else _CONTRIB_APPS),
    "rest_framework",
    "drf_spectacular",
    f"{_PACKAGE}.payments",
    f"{_PACKAGE}.benchmarks",
    f"{_PACKAGE}.ops",
    # Always installed so that `migrate` creates its tables; its URLs exist only with FWBENCH_LAB.
    f"{_PACKAGE}.lab",
]

# Outermost first. Ours are sync-and-async capable, so under ASGI they add no thread hops.
MIDDLEWARE = [
    # Sees every response (also the ones built by the middleware below) for the metrics.
    *_unless_off("metrics", f"{_PACKAGE}.ops.middleware.prometheus_middleware"),
    *_unless_off("request-id", f"{_PACKAGE}.project.middleware.request_id_middleware"),
    f"{_PACKAGE}.project.middleware.problem_details_middleware",
    "django.middleware.security.SecurityMiddleware",
    *([] if MINIMAL else [f"{_PACKAGE}.project.middleware.admin_middleware"]),
    # Inside the request id (it stores it) and outside everything that can answer a request.
    *_unless_off("audit", f"{_PACKAGE}.payments.middleware.audit_middleware"),
    "django.middleware.common.CommonMiddleware",
]

#: Only requests under these prefixes pass through ADMIN_MIDDLEWARE (admin_middleware above).
ADMIN_PREFIXES = ["/admin/", "/static/"]
#: What the admin needs (Django docs, "The Django admin site": sessions, the user, messages)
#: plus clickjacking protection for its pages and its CSS and JS: WhiteNoise is the
#: static-file server Django's deployment docs point to for apps without a separate web
#: server ("How to deploy static files"). No CsrfViewMiddleware: every admin view checks the
#: CSRF token itself (AdminSite.admin_view and the login view use csrf_protect), and the API
#: authenticates with bearer tokens, which CSRF cannot forge.
ADMIN_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The admin's checks look for its middleware in MIDDLEWARE only; it is in ADMIN_MIDDLEWARE.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = f"{_PACKAGE}.project.urls"
WSGI_APPLICATION = f"{_PACKAGE}.project.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        # Django caches compiled templates by default when DEBUG is off.
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": []
            if MINIMAL
            else [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# --- Database ------------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///./fwbench-django.sqlite3")
try:
    _database = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL {DATABASE_URL!r} is not supported: {exc}") from None

_engine = _database.get("ENGINE", "")
if _engine == "django.db.backends.postgresql" and os.environ.get(INTERFACE_ENV) == "asgi":
    # Under ASGI the Django docs advise against persistent connections and for the
    # backend's pool instead ("Persistent connections", ref/databases): sync ORM calls run in
    # a thread per request there, so a connection kept by a thread would be left behind.
    # psycopg 3's pool, built into Django 5.1+, is one pool per worker process; pooling
    # requires CONN_MAX_AGE = 0 (a connection goes back to the pool after each request).
    # Size: at least one connection per thread that may query at once; `timeout` bounds how
    # long a request waits for one.
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": int(_env_number("DATABASE_POOL_MAX_SIZE", 10)),
            "timeout": _env_number("DATABASE_POOL_TIMEOUT", 3.0),
        },
    }
elif _engine == "django.db.backends.postgresql":
    # WSGI workers (gunicorn sync/gthread, granian) serve a request on one thread from start
    # to end: each thread keeps its connection for its lifetime, Django's persistent
    # connections ("Persistent connections", ref/databases). A request then neither opens
    # nor checks out a connection. CONN_HEALTH_CHECKS stays off (Django's default): it
    # sends a SELECT 1 before the first query of every request, about a tenth of /db's CPU
    # here; without it, a connection the server dropped fails one request and Django then
    # discards it (close_if_unusable_or_obsolete at the end of that request).
    _database["CONN_MAX_AGE"] = None
elif _engine == "django.db.backends.sqlite3":
    # Several worker processes share the file: WAL lets readers run during a write, the busy
    # timeout (sqlite3's `timeout`, seconds) makes a writer wait for the lock instead of failing
    # with "database is locked", and IMMEDIATE transactions take the write lock when the
    # transaction starts rather than on its first write, which is what avoids those errors
    # with transaction.atomic() (Django docs, ref/databases "SQLite notes": "Database is
    # locked errors", "Setting pragma options", new in Django 5.1). Opening a SQLite file is
    # cheap, so connections are not kept (persistent connections are discouraged under ASGI).
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    raise ImproperlyConfigured(
        f"DATABASE_URL {DATABASE_URL!r}: use sqlite:///path or postgresql://user@host:port/db."
    )
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Requests, time, language ----------------------------------------------------------------

# Larger bodies raise RequestDataTooBig when read, answered 413 (project/errors.py). Django
# checks both Content-Length and the bytes actually read; None turns the check off.
DATA_UPLOAD_MAX_MEMORY_SIZE = None if "body-limit" in EXTRAS_OFF else MAX_BODY_BYTES

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
# The API speaks English only; without the translation machinery the process starts faster.
USE_I18N = False

STATIC_URL = "static/"  # under ADMIN_PREFIXES
# WhiteNoise finds the admin's files in the installed apps at start-up, so no
# collectstatic step (and no writable STATIC_ROOT) is needed to run the service.
WHITENOISE_USE_FINDERS = True

# Our problem+json views instead of Django's HTML error pages.
CSRF_FAILURE_VIEW = f"{_PACKAGE}.project.errors.csrf_failure"

# --- Django REST Framework ---------------------------------------------------------------------

REST_FRAMEWORK: dict[str, Any] = {
    # Secure by default: every DRF view needs a bearer token unless it says otherwise.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        f"{_PACKAGE}.payments.authentication.BearerTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": [f"{_PACKAGE}.payments.permissions.IsApiClient"],
    # Not a Django user: our clients are the two tokens, and the auth app may not be installed.
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [f"{_PACKAGE}.project.drf.JSONBodyParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": f"{_PACKAGE}.project.drf.JSONOnlyNegotiation",
    # OPTIONS answers 405 like any other method the contract does not list.
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": f"{_PACKAGE}.project.errors.problem_exception_handler",
    # Errors that belong to the body as a whole (e.g. "not an object") are reported on "body".
    "NON_FIELD_ERRORS_KEY": "body",
    # RFC 3339, UTC, whole seconds: "2026-11-25T01:02:03Z".
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "fwbench payments service",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "A payments transactions microservice (the article's fintech case study) plus the six "
        "TechEmpower test types and an I/O-bound endpoint. Money is a decimal string."
    ),
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    # The TechEmpower endpoints are plain Django views, which drf-spectacular cannot inspect;
    # they are described next to them (benchmarks/openapi.py) and appended here.
    "APPEND_PATHS": BENCHMARK_PATHS,
    "APPEND_COMPONENTS": BENCHMARK_COMPONENTS,
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
}

# --- Logging -------------------------------------------------------------------------------

# With DEBUG off, Django's default logging sends server errors nowhere but to ADMINS by mail;
# a service logs them to stderr. 4xx responses are part of normal traffic and stay quiet.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {"django.request": {"level": "ERROR"}},
}
