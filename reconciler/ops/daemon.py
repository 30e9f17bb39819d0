"""The daemon loop: a pass every interval until SIGTERM, never killed by one bad pass.

The clock and the stop event are injected, so tests drive the loop without sleeping.
A signal only sets the stop event: the pass in flight runs to its end (its writes are
atomic anyway), the loop does not start another, and a second signal stops at once.
Each pass re-reads git and cluster status from scratch (the pass function does).
A replica that may not write (it does not hold the leader Lease) runs no pass: it keeps
its heartbeat, answers the probes and waits for the Lease.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from reconciler.core.errors import UsageError, in_plain_words
from reconciler.ops.health import Health, serve
from reconciler.ops.lease import OPEN_GATE, LeaderElector, LeadershipLost, WriteGate
from reconciler.ops.metrics import Metrics

log = logging.getLogger(__name__)

# The pass at this time; its exit code: 0 ok, 1 a write failed, 3 nothing could be judged.
PassFunction = Callable[[dt.datetime], int]
STALE_GRACE_SECONDS = 300.0  # /healthz fails when the loop has not turned for 2 intervals + this


class PortUnavailable(UsageError):
    """The metrics port cannot be listened on (in use, or not ours to bind): a usage error."""


class Clock(Protocol):
    """Wall time for the pass (its `now`), monotonic time for durations."""

    def now(self) -> dt.datetime: ...

    def monotonic(self) -> float: ...


class StopEvent(Protocol):
    """What the loop needs of a threading.Event."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class SystemClock:
    """The real clocks."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclasses.dataclass
class Daemon:
    """Runs `one_pass` every `every` seconds (start to start) until `stop` is set."""

    one_pass: PassFunction
    every: float
    stop: StopEvent
    mode: str = ""
    clock: Clock = dataclasses.field(default_factory=SystemClock)
    gate: WriteGate = OPEN_GATE
    health: Health | None = None
    metrics: Metrics | None = None
    standby_poll: float = 2.0  # how often a non-leader looks whether it holds the Lease now
    passes: int = 0

    def run(self) -> int:
        """Loop until stopped; always 0 (a failed pass is logged and counted, not fatal)."""
        log.info("running a %s pass every %gs until SIGTERM", self.mode or "reconcile", self.every)
        standing_by = False
        while not self.stop.is_set():
            if not self.gate.allows():
                if not standing_by:
                    log.info("not the leader: serving health and metrics, waiting for the lease")
                    standing_by = True
                self._beat("standby")
                if self.health is not None:
                    self.health.mark_ready()
                self.stop.wait(self.standby_poll)
                continue
            standing_by = False
            elapsed = self.run_one()
            self.stop.wait(max(0.0, self.every - elapsed))
        log.info("stopped after %d pass%s", self.passes, "" if self.passes == 1 else "es")
        return 0

    def run_one(self) -> float:
        """One pass with its bookkeeping; returns how long it took in seconds."""
        role = "leader" if self.gate.elected else "running"
        self._beat(role)
        started = self.clock.monotonic()
        result = self._attempt(self.clock.now())
        elapsed = self.clock.monotonic() - started
        self.passes += 1
        if self.metrics is not None:
            finished = self.clock.now().timestamp()
            self.metrics.record_pass(
                mode=self.mode, result=result, seconds=elapsed, finished_at=finished
            )
        if self.health is not None:
            self.health.mark_ready()
        self._beat(role)
        return elapsed

    def _attempt(self, now: dt.datetime) -> str:
        try:
            code = self.one_pass(now)
        except LeadershipLost as lost:
            log.warning("pass stopped: %s", lost)
            return "stopped"
        except Exception as error:  # one failed pass never ends the loop
            log.error("pass failed: %s", in_plain_words(error))
            log.debug("pass failed", exc_info=True)  # the class and traceback, for a bug
            if self.metrics is not None:
                self.metrics.record_error(error)
            return "error"
        return "failed" if code == 1 else "ok"  # a blind pass is logged and has its gauge

    def _beat(self, role: str) -> None:
        if self.health is not None:
            self.health.beat(role=role)


def stop_on_signals(
    stop: StopEvent,
    *,
    on_stop: Callable[[], None] | None = None,
    signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT),
) -> Callable[[], None]:
    """Make SIGTERM/SIGINT set `stop`; a second one interrupts at once. Returns an undo."""
    handler = stop_handler(stop, on_stop=on_stop)
    previous = {signum: signal.signal(signum, handler) for signum in signals}

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore


def stop_handler(
    stop: StopEvent, *, on_stop: Callable[[], None] | None = None
) -> Callable[[int, Any], None]:
    """The signal handler: the first signal asks the loop to stop after the pass in flight."""

    def handle(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            raise KeyboardInterrupt(f"second {name}: stopping now")
        log.info("%s received: finishing the pass in flight, then exiting", name)
        stop.set()
        if on_stop is not None:
            on_stop()

    return handle


def run_daemon(
    one_pass: PassFunction,
    *,
    every: float,
    mode: str,
    metrics: Metrics,
    elector: LeaderElector | None,
    gate: WriteGate,
    port: int,
    host: str,
) -> int:
    """The --interval loop with its probes, its metrics port and its Lease, until SIGTERM."""
    stop = threading.Event()
    health = Health(stale_after=2 * every + STALE_GRACE_SECONDS)
    restore = stop_on_signals(stop, on_stop=health.mark_stopping)
    lease_stop = threading.Event()
    lease_thread = None
    if elector is not None:
        log.info(
            "leader election on lease %s/%s as %s",
            elector.namespace,
            elector.name,
            elector.identity,
        )
        elector.try_acquire_or_renew()  # so a replica that can lead starts its first pass now
        lease_thread = threading.Thread(
            target=elector.run, args=(lease_stop,), name="leader-election", daemon=True
        )
        lease_thread.start()
    try:
        with serving(metrics, health, port=port, host=host):
            daemon = Daemon(
                one_pass,
                every=every,
                stop=stop,
                mode=mode,
                gate=gate,
                health=health,
                metrics=metrics,
            )
            return daemon.run()
    finally:
        restore()
        lease_stop.set()
        if lease_thread is not None:
            lease_thread.join(timeout=10)


@contextlib.contextmanager
def serving(metrics: Metrics, health: Health, *, port: int, host: str) -> Iterator[None]:
    """Serve /metrics, /healthz and /readyz on host:port for the duration (port 0: nothing)."""
    if not port:
        yield
        return
    try:
        server = serve(metrics.registry, health, port=port, host=host)
    except OSError as error:
        raise PortUnavailable(f"--metrics-port {port}: cannot listen: {error.strerror}") from None
    log.info("serving /metrics, /healthz and /readyz on %s", server.url)
    try:
        yield
    finally:
        server.close()
