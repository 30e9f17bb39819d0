"""Pausing Python's cycle collector while a large input is read into objects.

Reading a fleet, a snapshot or a large cluster's live lists creates millions of objects
that all stay alive and hold no cycles. The collector would walk them again and again as
they pile up (40% of a large read; it doubled a 20,000-pod parse in
bench/live_ingest.py), to free nothing.

The pause is one process-wide count, not a save-and-restore per caller: live reads run
clusters in threads, and with save-and-restore a thread that finished first would resume
the collector under one still reading (or one that started second would never resume it).
The first pause turns the collector off; the last one to end turns it back on, if it was
on before the first.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_pausers = 0  # pauses in progress, in every thread
_resume = False  # whether the collector was on when the first of them began


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cycle collector off for the block; safe to nest and to use from threads."""
    global _pausers, _resume
    with _lock:
        if _pausers == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _resume:
                gc.enable()
