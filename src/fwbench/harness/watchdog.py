"""Parent-death watchdog: stop a process group fwbench started when fwbench dies, however
it dies (SIGKILL, the OOM killer, a crash in C code), not only when it exits cleanly.

fwbench starts every server and every wrk in a session of its own, so that stopping one
reaches all its workers and a terminal's Ctrl-C reaches only fwbench. Nothing then ties
their lives to fwbench's: if fwbench dies without running its cleanup, they run on. So
for each group it starts, fwbench also starts this watchdog with the read end of a pipe
as standard input and keeps the only write end. The kernel closes that end when fwbench
dies; the watchdog reads end-of-file and stops the group (SIGTERM, a grace period for a
graceful shutdown of every worker, then SIGKILL). A clean stop writes one byte before
closing the pipe, which tells the watchdog to exit without touching the group (whose id
may by then belong to someone else).

Why not Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG)``): setting it needs
``preexec_fn``, which is unsafe in a process with threads (fwbench samples in a thread);
it fires when the *thread* that spawned the child exits, not the process; and it reaches
only the direct child, not the workers of a master that was itself killed.

Run as ``python -m fwbench.harness.watchdog PGID GRACE_SECONDS``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Final

#: Seconds a group gets between SIGTERM and SIGKILL: servers' graceful stops (gunicorn
#: waits for its workers) finish well within it.
GRACE_S: Final = 10.0

#: Byte a clean stop writes: the group is already stopped, leave it alone.
RELEASED: Final = b"r"


class Watchdog:
    """A watchdog process guarding one process group.

    Args:
        pgid: the group to stop if this process dies first.
        grace_s: seconds between SIGTERM and SIGKILL, default :data:`GRACE_S`.
    """

    def __init__(self, pgid: int, grace_s: float = GRACE_S) -> None:
        read_end, self._write_end = os.pipe()  # both non-inheritable (PEP 446)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(pgid), repr(grace_s)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                # Its own session: a terminal's Ctrl-C must not stop the watchdog before
                # the group it guards.
                start_new_session=True,
            )
        except BaseException:
            os.close(self._write_end)
            raise
        finally:
            os.close(read_end)

    @property
    def pid(self) -> int:
        """The watchdog's process id."""
        return self._process.pid

    def release(self) -> None:
        """Tell the watchdog the group is stopped and wait for it to exit; idempotent."""
        if self._write_end < 0:
            return
        with contextlib.suppress(BrokenPipeError):
            os.write(self._write_end, RELEASED)
        os.close(self._write_end)
        self._write_end = -1
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pgid: int, grace_s: float) -> None:
    """SIGTERM ``pgid``, wait up to ``grace_s`` seconds for it to be gone, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(pgid, signal.SIGKILL)


def main() -> None:
    """Wait for the end of standard input, then stop the group unless released."""
    # Only the end of the pipe may end the watch, not a signal meant for fwbench.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pgid, grace_s = int(sys.argv[1]), float(sys.argv[2])
    released = False
    while chunk := os.read(0, 64):
        released = released or RELEASED in chunk
    if not released:
        stop_group(pgid, grace_s)


if __name__ == "__main__":
    main()
