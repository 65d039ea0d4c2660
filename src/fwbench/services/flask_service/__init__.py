"""The contract implemented the way a Flask team ships it.

APIFlask (Flask plus apispec and marshmallow) for routing, validation and the generated
OpenAPI document; Flask-SQLAlchemy 3 with SQLAlchemy 2-style queries (psycopg 3 for
PostgreSQL, the standard library's sqlite3 for SQLite); a pooled urllib3 client for the
downstream service. Each plugin sits behind a small module (``auth``, ``audit``,
``metrics``, ``downstream``) so it can be replaced without touching the views.

Entry points: ``fwbench.services.flask_service.wsgi:app`` (WSGI) and
``python -m fwbench.services.flask_service.bootstrap`` (schema and seed data).
"""

from __future__ import annotations

from .app import create_app
from .settings import ConfigError, Settings

__all__ = ["ConfigError", "Settings", "create_app"]
