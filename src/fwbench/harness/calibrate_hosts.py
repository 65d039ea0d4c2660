"""``fwbench calibrate --hosts FILE``: each load host's own wrk ceiling, for the
``generator_bound`` check of ``fwbench run --hosts`` (docs/hosts.md).

A load host is calibrated by running ``fwbench calibrate`` on it, over SSH under the
guard (:mod:`fwbench.harness.remote`): the same calibration as on this machine, with wrk
on the CPUs where ``run --hosts`` pins that host's wrk (the hosts file's ``cpus``, else
the lower half; ``--load-cpus``), the trivial server on the rest, and one wrk thread per
load CPU, at the connections the host gets of each point (its share of ``--connections``,
:func:`~.generators.split_connections`). The result is stored on this machine, one file
per host (:func:`host_calibration_path`), and ``run --hosts`` uses it while the host's
machine, wrk, placement and threads match, as a local run uses the local one.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from fwbench.harness.calibrate import calibration_path, load_calibration
from fwbench.harness.databases import default_state_dir
from fwbench.harness.documents import load
from fwbench.harness.errors import InvalidOption
from fwbench.harness.generators import split_connections
from fwbench.harness.machine import chosen_placement, format_cpu_list
from fwbench.harness.remote import HostFacts, Remote, RemoteError
from fwbench.harness.results import Calibration, Placement

#: Seconds the calibration of one level may take on a host beyond its measurements
#: (starting the interpreter and the trivial servers).
_OVERHEAD_S: Final = 120


def host_calibration_path(url: str, state_dir: Path | None = None) -> Path:
    """Where the calibration of the load host ``url`` is stored on this machine:
    ``STATE_DIR/hosts/<url as a file name>/calibration.json``.

    Args:
        url: the host, as the hosts file names it.
        state_dir: None (default) is fwbench's state directory (``~/.cache/fwbench``).
    """
    base = state_dir if state_dir is not None else default_state_dir()
    return calibration_path(base / "hosts" / re.sub(r"[^A-Za-z0-9.@-]", "_", url))


def host_shares(connections: Sequence[int], hosts: int, index: int) -> tuple[int, ...]:
    """The connections load host ``index`` (from 0) of ``hosts`` gets at each of
    ``connections``, ascending, repeats dropped."""
    return tuple(sorted({split_connections(c, hosts)[index] for c in connections}))


def host_placement(facts: HostFacts, load_cpus: Sequence[int]) -> Placement:
    """The placement of a load host's calibration: wrk on ``load_cpus``, the trivial
    server on the host's other CPUs (as ``fwbench calibrate --load-cpus`` places them)."""
    return chosen_placement(None, load_cpus, facts.cpus)


def host_calibration(
    url: str, facts: HostFacts, load_cpus: Sequence[int], state_dir: Path | None = None
) -> Calibration | None:
    """The stored calibration of load host ``url`` if it holds for the host as described
    now (``facts``) with wrk on ``load_cpus``, else None.

    Args:
        url: the host, as the hosts file names it.
        facts: what :meth:`~.remote.Remote.describe` found on it.
        load_cpus: the CPUs its wrk runs on, one thread each.
        state_dir: None (default) is fwbench's state directory.
    """
    return load_calibration(
        host_calibration_path(url, state_dir),
        facts.machine,
        host_placement(facts, load_cpus),
        len(load_cpus),
    )


def calibrate_host(
    remote: Remote,
    connections: Sequence[int],
    load_cpus: Sequence[int],
    *,
    duration_s: int,
    ports: range | None = None,
    on_step: Callable[[str], None] = lambda step: None,
) -> Calibration:
    """Run ``fwbench calibrate`` on a load host and return what it measured.

    Args:
        remote: the load host.
        connections: the wrk connections to calibrate there (its shares).
        load_cpus: the CPUs its wrk runs on (:meth:`~.hosts.HostsFile.load_cpus`).
        duration_s: seconds per measurement.
        ports: TCP ports of the host for the trivial servers; None: ones free there.
        on_step: called with a description before the calibration starts.

    Raises:
        FwbenchError: the host's threads exceed a share, or the calibration failed there.
    """
    threads = len(load_cpus)
    if min(connections) < threads:
        raise InvalidOption(
            f"{remote.url} runs {threads} wrk threads, more than the {min(connections)} "
            "connections it gets of a point",
            "pass more --connections, or fewer load hosts",
        )
    workdir = remote.run("mktemp -d /tmp/fwbench-calibrate-XXXXXXXX").strip()
    output = f"{workdir}/calibration.json"
    argv = [remote.python, "-m", "fwbench", "calibrate", "--output", output]
    argv += ["--load-cpus", format_cpu_list(load_cpus)]
    argv += ["--connections", ",".join(map(str, connections)), "--duration", str(duration_s)]
    if ports is not None:
        argv += ["--ports", f"{ports[0]}-{ports[-1]}"]
    on_step(f"calibrating wrk on {remote.url} at {', '.join(map(str, connections))} connections")
    try:
        process = remote.start(argv, {"COLUMNS": "100"})
        try:
            budget = len(connections) * 2 * (duration_s + 1) + _OVERHEAD_S * len(connections)
            status, _, stderr = process.finish(budget)
        finally:
            process.stop()
        if status != 0:
            lines = [line.removeprefix("Error: ") for line in stderr.splitlines() if line.strip()]
            raise RemoteError(
                f"the calibration failed on {remote.url}: "
                f"{lines[-1] if lines else f'status {status}'}",
                f"run `{shlex.join(['fwbench', *argv[3:]])}` there to see why",
            )
        return load(Calibration, json.loads(remote.run(f"cat {shlex.quote(output)}")))
    finally:
        # An unreachable host keeps the directory (under /tmp): nothing more can be done.
        with contextlib.suppress(RemoteError):
            remote.run(f"rm -rf {shlex.quote(workdir)}")
