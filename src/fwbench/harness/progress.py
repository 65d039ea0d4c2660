"""The rich progress display of ``fwbench run``: what runs, how many steps are left,
elapsed time and ETA."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from fwbench.harness.plan import Step


class StepProgress:
    """The rich progress display: what runs, how many steps are left, elapsed and ETA.
    The bar advances by each finished step's estimate, so the ETA is the plan's
    estimate corrected by the speed observed so far."""

    def __init__(self, console: Console, steps: Sequence[Step]) -> None:
        self._steps = list(steps)
        self._done = 0
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[left]} steps left"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(
            "starting", total=sum(s.seconds for s in steps), left=len(steps)
        )

    def __enter__(self) -> StepProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def begin(self, description: str) -> None:
        """Show that the next step, ``description``, is running."""
        self._progress.update(self._task, description=description)

    def finish(self) -> None:
        """Count the running step as done."""
        estimate = self._steps[self._done].seconds if self._done < len(self._steps) else 0
        self._done += 1
        self._progress.update(
            self._task, advance=estimate, left=max(len(self._steps) - self._done, 0)
        )

    @contextlib.contextmanager
    def step(self, description: str) -> Iterator[None]:
        """Show ``description`` while the block runs, then count the step as done."""
        self.begin(description)
        yield
        self.finish()


class StepSequence:
    """Adapts a callback-driven loop (``on_step(description)`` before each step) to the
    progress display: a step is finished when the next one begins, or by :meth:`close`."""

    def __init__(self, progress: StepProgress) -> None:
        self._progress = progress
        self._running = False

    def __call__(self, description: str) -> None:
        self.close()
        self._progress.begin(description)
        self._running = True

    def close(self) -> None:
        if self._running:
            self._progress.finish()
            self._running = False
