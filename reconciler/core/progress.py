"""How a long step tells how far it has come, without knowing who is watching.

Reading a hundred clusters, rendering their groups and writing moves take a while; on a
terminal the command line shows it (cli/progress.py, with rich). The I/O packages only call
a Progress they were handed; the pure packages never see one.
"""

from __future__ import annotations

from typing import Protocol

CLUSTERS_READ = "clusters read"
GROUPS_RENDERED = "clusters' groups rendered"
MOVES_WRITTEN = "moves written"


class Progress(Protocol):
    """Told that `done` of `total` items of a step are done (0 when the step starts)."""

    def __call__(self, step: str, *, done: int, total: int) -> None: ...


def no_progress(step: str, *, done: int, total: int) -> None:
    """Progress nobody watches: pipes, JSON logs, --quiet, tests, the daemon."""
