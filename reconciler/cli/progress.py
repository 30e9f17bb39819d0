"""Progress on a terminal: `12/100 clusters read` on stderr while a long step runs.

Shown only when stderr is a terminal, and never with --quiet, JSON logs or the daemon
(--interval: its log lines would interleave with a redrawn line). Each step's line is
drawn while the step runs and cleared when it ends, so nothing is left between the
command's own output. rich draws it: no escape codes written by hand.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from reconciler.core.progress import Progress, no_progress


class TerminalProgress:
    """A Progress drawn on a terminal, one line per step, cleared when the step is done."""

    def __init__(self, stream: TextIO) -> None:
        self._console = Console(file=stream, force_terminal=True)
        self._bar: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, step: str, *, done: int, total: int) -> None:
        if total <= 0:
            return
        if self._bar is None:
            self._bar = RichProgress(
                TextColumn("{task.completed}/{task.total} {task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._bar.start()
        task = self._tasks.get(step)
        if task is None:
            task = self._tasks[step] = self._bar.add_task(step, total=total)
        self._bar.update(task, completed=done, total=total)
        if all(t.finished for t in self._bar.tasks):
            self.close()

    def close(self) -> None:
        """Clear whatever is drawn and give the terminal back (after a step that failed too)."""
        if self._bar is not None:
            self._bar.stop()
        self._bar = None
        self._tasks.clear()


def progress_for(args: argparse.Namespace, *, stream: TextIO) -> Progress:
    """A terminal's progress display for this command, or one that shows nothing."""
    if getattr(args, "quiet", False) or getattr(args, "log_format", "text") == "json":
        return no_progress
    if getattr(args, "interval", None) or not stream.isatty():
        return no_progress
    return TerminalProgress(stream)
