"""Django's ``manage.py`` for this project: ``python -m fwbench.services.django_service.manage
<command>`` (e.g. ``createsuperuser`` for the admin, ``migrate``, ``seed``, ``check``)."""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line

from fwbench.services.django_service import SETTINGS_MODULE


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
