"""Django settings for running the article's tip, ``shell_plus --print-sql``, against the
lab service's database: the service's own settings plus django-extensions (which the
service does not need at run time), printing SQL as plain text to be counted."""

from __future__ import annotations

from fwbench.services.django_service.project import settings as _service

globals().update({name: getattr(_service, name) for name in dir(_service) if name.isupper()})

INSTALLED_APPS = [*_service.INSTALLED_APPS, "django_extensions"]
# Plain SQL, one statement per "Execution time" line: no colours, no reformatting.
SHELL_PLUS_PYGMENTS_ENABLED = False
SHELL_PLUS_SQLPARSE_ENABLED = False
