"""User-facing errors: what went wrong, in one sentence, and what to do about it.

Library code raises these for mistakes a user can fix (a busy port, an unreachable
database, an unknown server name ...). The CLI prints ``str(error)`` on one line and
exits non-zero, never with a traceback::

    try:
        ...
    except FwbenchError as error:
        raise click.ClickException(str(error)) from None

Anything else that escapes is a bug in fwbench and keeps its traceback.
"""

from __future__ import annotations


class FwbenchError(Exception):
    """Base class of every user-facing error.

    Args:
        problem: what went wrong, e.g. ``"port 8001 on 127.0.0.1 is already in use"``.
        action: what the user should do, e.g. ``"stop what listens there or pass --port"``.
    """

    def __init__(self, problem: str, action: str) -> None:
        super().__init__(f"{problem}; {action}")
        self.problem = problem
        self.action = action


class UnknownServer(FwbenchError):
    """A framework, server or framework/server pair that fwbench does not support."""


class InvalidOption(FwbenchError):
    """An option value that cannot be used (e.g. ``--threads`` for a server without threads)."""


class PortInUse(FwbenchError):
    """The TCP port a service should listen on is already taken."""


class DatabaseUnreachable(FwbenchError):
    """The database server cannot be reached, or refuses the connection."""


class BootstrapFailed(FwbenchError):
    """A service's database bootstrap (schema + seed) exited with an error."""


class ServiceStartFailed(FwbenchError):
    """A server process exited, or never answered its health check, while starting."""


class MissingTool(FwbenchError):
    """An external program fwbench needs (``wrk``, ``taskset``) is not installed."""
