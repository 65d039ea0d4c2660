"""WSGI entry point for gunicorn (sync, gthread, gevent) and granian (``--interface wsgi``):
``fwbench.services.flask_service.wsgi:app``.

Under gunicorn's gevent worker nothing needs patching here: the worker monkey-patches the
standard library before importing this module, which makes urllib3's sockets and the
connection pool's locks cooperative, and psycopg 3 then picks a cooperative wait function
(see extensions.py). Do not combine the gevent worker with ``--preload``, which imports
the app (and psycopg) in the arbiter before any patching.
"""

from __future__ import annotations

from .app import create_app

app = create_app()
