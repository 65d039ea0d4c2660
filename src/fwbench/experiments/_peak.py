"""The exact peak memory of one process during one request, from the Linux kernel.

Sampling RSS every few milliseconds can miss a short peak; the kernel keeps the peak
itself (``VmHWM`` in ``/proc/PID/status``, the resident set's high-water mark), and
writing ``5`` to ``/proc/PID/clear_refs`` resets it to the current RSS (Linux >= 4.0,
proc(5)). Reset, send the request, read the mark: the difference with the RSS before is
what the request made the process hold at its worst moment.
"""

from __future__ import annotations

from pathlib import Path

from fwbench.harness.errors import FwbenchError


class PeakUnavailable(FwbenchError):
    """The kernel's peak-RSS counters cannot be read or reset for a process."""


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise PeakUnavailable(f"/proc/{pid}/status has no {field}", "run on Linux")


def reset_peak(pid: int) -> int:
    """Reset the peak RSS of ``pid`` to its current RSS; return that RSS in bytes.

    Raises:
        PeakUnavailable: not Linux, or the process is not ours.
    """
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5", encoding="ascii")
        return _status_kib(pid, "VmRSS") * 1024
    except OSError as error:
        raise PeakUnavailable(
            f"cannot reset the peak memory of process {pid}: {error.strerror}",
            "run fwbench on Linux as the user that started the service",
        ) from None


def read_peak(pid: int) -> int:
    """The peak RSS of ``pid`` since the last :func:`reset_peak`, in bytes."""
    try:
        return _status_kib(pid, "VmHWM") * 1024
    except OSError as error:
        raise PeakUnavailable(
            f"cannot read the peak memory of process {pid}: {error.strerror}",
            "run fwbench on Linux as the user that started the service",
        ) from None
