"""A private PostgreSQL cluster the fault tests may stop and start at will.

The machine's shared server on 5432 serves other users; these tests never touch it. The
cluster lives in a temporary directory, listens on a free port of 127.0.0.1 with trust
authentication, and runs as the ``postgres`` user when the tests run as root (PostgreSQL
refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from fwbench.harness.process import free_port

#: Seconds pg_ctl waits for a start or a stop.
PG_CTL_TIMEOUT_S: Final = 60


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class PrivateCluster:
    """``initdb`` + ``pg_ctl`` in a temporary directory.

    Attributes:
        port: the port it listens on (127.0.0.1 only).
        url: ``postgresql://postgres@127.0.0.1:PORT/postgres`` (the maintenance database).
    """

    def __init__(self, bin_dir: Path) -> None:
        self._bin = bin_dir
        self._root = Path(tempfile.mkdtemp(prefix="fwbench-pg-"))
        self._data = self._root / "data"
        self._log = self._root / "server.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._user: list[str] = []
        if os.geteuid() == 0:
            self._user = ["runuser", "-u", "postgres", "--"]
            entry = pwd.getpwnam("postgres")
            os.chown(self._root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self._data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        result = subprocess.run(
            [*self._user, str(self._bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=PG_CTL_TIMEOUT_S + 30,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr or result.stdout}\n{self.log()}")
        return result.returncode

    def log(self) -> str:
        """The server's log so far."""
        with contextlib.suppress(OSError):
            return self._log.read_text(encoding="utf-8", errors="replace")
        return ""

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._root} "
            # Durability is not under test here; a quick restart is.
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self._data), "-l", str(self._log), "-o", options,
            "-w", "-t", str(PG_CTL_TIMEOUT_S), "start",
        )  # fmt: skip

    def running(self) -> bool:
        """Whether the server runs (``pg_ctl status``)."""
        return self._run("pg_ctl", "-D", str(self._data), "status", check=False) == 0

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: ``immediate`` is a crash (connections cut, no checkpoint),
        ``fast`` a clean shutdown."""
        self._run("pg_ctl", "-D", str(self._data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster."""
        with contextlib.suppress(RuntimeError):
            self.stop("fast")
        shutil.rmtree(self._root, ignore_errors=True)


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster | None]:
    """A started private cluster, removed afterwards; None when PostgreSQL's server
    binaries are not installed."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        yield None
        return
    cluster = PrivateCluster(bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
