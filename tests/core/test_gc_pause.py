"""collector_paused: the cycle collector is off inside, and on again only after the last pause."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from reconciler.core.gc_pause import collector_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_on_again_after_an_exception() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_nested_pause_ending_does_not_resume_the_outer_one() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_thread_finishing_first_does_not_resume_under_another_still_reading() -> None:
    # A pauses, B pauses, A ends while B still reads, then B ends: with a save-and-restore
    # per caller A would turn the collector back on under B, and B would leave it off.
    a_paused, b_paused, a_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collector_paused():
            a_paused.set()
            b_paused.wait(timeout=10)
        a_done.set()

    def second() -> None:
        a_paused.wait(timeout=10)
        with collector_paused():
            b_paused.set()
            a_done.wait(timeout=10)
            seen["inside B after A ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert a_done.is_set()
    assert seen == {"inside B after A ended": False}
    assert gc.isenabled()


def test_many_threads_pausing_at_once_leave_the_collector_on() -> None:
    start = threading.Barrier(8)

    def read() -> None:
        start.wait(timeout=10)
        for _ in range(200):
            with collector_paused(), collector_paused():
                assert not gc.isenabled()

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert gc.isenabled()
