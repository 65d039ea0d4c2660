"""What a host's fwbench checkout holds, told in one JSON line by a script that needs
nothing but Python's standard library: it runs on a host before fwbench is installed
there (:mod:`fwbench.harness.prepare` sends this file's source as ``python -c``), and
the driver computes the same file hashes here with it.

Run on a host as ``python -c SOURCE CHECKOUT`` with a JSON list of the checkout's files
(relative paths) on standard input. It prints::

    {"python": {"version": ..., "tag": ..., "platform": ..., "libc": ...},
     "executable": PATH, "hashes": {"PATH": "SHA256", ...}, "shipped": [...],
     "lock": "SHA256" | null,
     "wheels": [...], "free_bytes": N, "missing": ["wrk", ...], "error": null}

``error`` is one sentence when the checkout directory cannot be created or written,
and the rest is then left empty. Nothing here may import fwbench or a third-party
package.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import sys
import sysconfig
from pathlib import Path

#: Where prepare keeps its own files inside a checkout.
STATE_DIR = ".fwbench"
#: The files the last prepare shipped (a JSON list), to remove those no longer shipped.
SHIPPED = f"{STATE_DIR}/shipped.json"
#: The wheels shipped for the host's pip (``--no-index --find-links``).
WHEELS = f"{STATE_DIR}/wheels"
#: The copy of requirements.lock that ``scripts/bootstrap.sh``'s ``ensure_venv`` keeps
#: in the venv it made: the venv has exactly the lock's versions while it matches.
VENV_LOCK = ".venv/.fwbench-lock"
#: The Debian tools a run uses on hosts (haproxy: on the balancer, for ``--replicas``).
TOOLS = ("wrk", "taskset", "haproxy")


def python_facts() -> dict[str, str]:
    """What decides which wheels this Python can install: its version, its tag
    (``cpython-311``), its platform (``linux-x86_64``) and its C library
    (``glibc 2.36``; "" when unknown)."""
    libc, libc_version = platform.libc_ver()
    return {
        "version": platform.python_version(),
        "tag": sys.implementation.cache_tag or sys.implementation.name,
        "platform": sysconfig.get_platform(),
        "libc": f"{libc} {libc_version}" if libc else "",
    }


def file_hash(path: str, *, mode: bool = True) -> str | None:
    """The SHA-256 of a file's content and, unless ``mode`` is False, of whether it is
    executable (a symbolic link: of its target); None when it does not exist."""
    digest = hashlib.sha256()
    file = Path(path)
    if file.is_symlink():
        digest.update(b"link:" + str(file.readlink()).encode())
        return digest.hexdigest()
    try:
        with file.open("rb") as content:
            if mode:
                digest.update(b"x:" if os.fstat(content.fileno()).st_mode & 0o100 else b"f:")
            while chunk := content.read(1 << 20):
                digest.update(chunk)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return digest.hexdigest()


def state(checkout: str, paths: list[str]) -> dict[str, object]:
    """The checkout's state: ``paths``' hashes, the files the last prepare shipped, the
    venv's lock, the wheels present, the free space, the Debian tools missing.

    Args:
        checkout: the checkout's directory, created when missing.
        paths: its files, relative to it.
    """
    report: dict[str, object] = {
        "python": python_facts(),
        "executable": sys.executable,
        "hashes": {},
        "shipped": [],
        "lock": None,
        "wheels": [],
        "free_bytes": 0,
        "missing": [tool for tool in TOOLS if shutil.which(tool) is None],
        "error": None,
    }
    root = Path(checkout)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        report["error"] = f"cannot create {checkout} ({error.strerror})"
        return report
    if not os.access(root, os.W_OK | os.X_OK):
        reason = "a read-only file system" if _read_only(checkout) else "permission denied"
        report["error"] = f"cannot write in {checkout} ({reason})"
        return report
    report["hashes"] = {path: file_hash(str(root / path)) for path in paths}
    # Never prepared (or a damaged list: the files stay).
    with contextlib.suppress(OSError, ValueError):
        report["shipped"] = json.loads((root / SHIPPED).read_text(encoding="utf-8"))
    if os.access(root / ".venv/bin/python", os.X_OK):
        report["lock"] = file_hash(str(root / VENV_LOCK), mode=False)
    if (root / WHEELS).is_dir():
        report["wheels"] = sorted(wheel.name for wheel in (root / WHEELS).iterdir())
    usage = os.statvfs(checkout)
    report["free_bytes"] = usage.f_bavail * usage.f_frsize
    return report


def _read_only(path: str) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


if __name__ == "__main__":
    print(json.dumps(state(sys.argv[1], json.load(sys.stdin))))
