"""The guard that runs every remote command: it relays a command that ends by itself, and
stops the command's whole process group when its standard input ends."""

from __future__ import annotations

import subprocess
import sys

import psutil

from fwbench.harness.guard import STARTED
from tests.processes import snapshot, still_running


def guarded(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fwbench.harness.guard", "--", *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_relays_the_output_and_status_of_a_command_that_ends() -> None:
    guard = guarded("sh", "-c", "echo measured; exit 3")
    assert guard.stdout is not None and guard.stdin is not None
    # Its input stays open, as over a live SSH session: the command ends by itself.
    first, *rest = guard.stdout.read().splitlines()
    guard.wait(timeout=30)
    guard.stdin.close()
    assert first.startswith(STARTED) and int(first.removeprefix(STARTED)) > 0
    assert rest == ["measured"]
    assert guard.returncode == 3


def test_the_end_of_its_input_stops_the_whole_group() -> None:
    # A parent and a child that would each outlive the run by minutes.
    guard = guarded("sh", "-c", "sleep 300 & sleep 300")
    assert guard.stdout is not None and guard.stdin is not None
    pid = int(guard.stdout.readline().removeprefix(STARTED))
    parent = psutil.Process(pid)
    for _ in range(100):
        if parent.children():
            break
        psutil.wait_procs([], timeout=0.05)
    group = snapshot([parent, *parent.children(recursive=True)])
    assert len(group) >= 2  # the shell and its sleeps
    guard.stdin.close()  # what sshd does when the driver's session ends
    assert guard.wait(timeout=15) is not None
    assert still_running(group) == []
