"""Run one command on a host for a remote fwbench, and stop it when that fwbench is gone.

fwbench starts every remote service and wrk as ``python -m fwbench.harness.guard ...`` over
an SSH session (:mod:`fwbench.harness.remote`) whose standard input it keeps open and
never writes to. The guard starts the command in a session of its own (so that stopping
it reaches every worker), prints ``FWBENCH_GUARD <pid>`` and then waits for either:

* the command's exit: the guard stops what is left of its group and exits with its
  status (wrk's normal end);
* the end of its standard input: fwbench closed it to stop the command, or fwbench died
  (Ctrl-C, a failure, SIGKILL, a lost network): the kernel closes fwbench's socket, sshd
  ends the session, and the guard reads end-of-file. It then stops the group as the
  local watchdog does (:func:`fwbench.harness.watchdog.stop_group`: SIGTERM, a grace
  period, SIGKILL).

So nothing fwbench starts on a host outlives the SSH session that started it.

Run as ``python -m fwbench.harness.guard [--output FILE] -- ARGV...``; ``--output`` sends
the command's output to FILE (a service's log, which nobody reads during the run: over
the session, unread output would fill SSH's window and block the service).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Final

from fwbench.harness.watchdog import GRACE_S, stop_group

#: First line the guard prints, followed by the command's process id.
STARTED: Final = "FWBENCH_GUARD "


def main(argv: list[str] | None = None) -> int:
    """Run the command until it exits or standard input ends; return its exit status."""
    parser = argparse.ArgumentParser(prog="python -m fwbench.harness.guard")
    parser.add_argument("--output", help="write the command's output to this file")
    parser.add_argument("command", nargs="+", help="the command and its arguments")
    args = parser.parse_args(argv)
    # Only the end of standard input may stop the command, not a signal to the session.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    output = Path(args.output).open("ab") if args.output else None  # noqa: SIM115 - for the run
    # Without --output the command's output is relayed, so that the first line is always
    # the guard's, whatever the command prints at once.
    child = subprocess.Popen(
        args.command,
        stdin=subprocess.DEVNULL,
        stdout=output if output is not None else subprocess.PIPE,
        stderr=output if output is not None else sys.stderr,
        start_new_session=True,
    )
    print(f"{STARTED}{child.pid}", flush=True)
    relay = None
    if child.stdout is not None:
        relay = threading.Thread(target=_copy, args=(child.stdout.fileno(),), daemon=True)
        relay.start()
    stopped = threading.Event()

    def watch_stdin() -> None:
        while os.read(0, 4096):
            pass
        stopped.set()
        stop_group(child.pid, GRACE_S)

    watcher = threading.Thread(target=watch_stdin, daemon=True)
    watcher.start()
    status = child.wait()
    if stopped.is_set():
        watcher.join()  # the stop reaches every worker before the guard exits
    else:
        stop_group(child.pid, 0)  # workers the command left behind
    if relay is not None:
        relay.join()
    return status


def _copy(source: int) -> None:
    """Copy ``source`` to standard output until its end."""
    while chunk := os.read(source, 65536):
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    sys.exit(main())
