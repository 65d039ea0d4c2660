"""``python -m fwbench.services.django_service.bootstrap``: create the schema with the
committed migrations, then seed ``world`` and ``fortune`` when empty. Idempotent; exits 1 with
one line on stderr when the database cannot be reached or prepared."""

from __future__ import annotations

import os
import sys

import django
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError

from fwbench.services.django_service import SETTINGS_MODULE


def _describe_database() -> str:
    """Where the default database is, without its password."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database.get("HOST"):
        return f"{database['NAME']} on {database['HOST']}:{database.get('PORT') or 5432}"
    return str(database["NAME"])


def _without_pool() -> None:
    """A one-shot command needs no connection pool; without it an unreachable server fails
    at once with the driver's own message instead of after the pool's timeout. (Django reads
    the option when it first connects, which has not happened yet.)"""
    from django.conf import settings

    settings.DATABASES["default"].get("OPTIONS", {}).pop("pool", None)


def main() -> int:
    """Migrate and seed; returns the process exit status."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    try:
        django.setup()
        _without_pool()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed", verbosity=0)
    except ImproperlyConfigured as exc:
        print(f"django bootstrap: bad configuration: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(
            f"django bootstrap: cannot prepare the database {_describe_database()}: {reason}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
