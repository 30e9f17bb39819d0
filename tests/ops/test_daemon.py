"""The daemon loop: driven by an injected clock and stop event, so nothing sleeps for real."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from reconciler.gitrepo.git_command import GitError
from reconciler.ops.daemon import Daemon, stop_handler
from reconciler.ops.health import Health
from reconciler.ops.lease import WriteGate
from reconciler.ops.metrics import Metrics

START = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
REPO_ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """Wall and monotonic time that only move when told to."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def now(self) -> dt.datetime:
        return START + dt.timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return 1000.0 + self.elapsed

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


class DrivenStop:
    """A stop event whose wait() advances the fake clock instead of sleeping.

    It sets itself after `waits` waits, as a SIGTERM would during the last wait.
    """

    def __init__(self, clock: FakeClock, *, waits: int) -> None:
        self.clock = clock
        self.left = waits
        self.timeouts: list[float | None] = []
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True

    def wait(self, timeout: float | None = None) -> bool:
        self.timeouts.append(timeout)
        self.clock.advance(timeout or 0.0)
        self.left -= 1
        if self.left <= 0:
            self._set = True
        return self._set


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def test_a_pass_runs_every_interval_start_to_start_until_stopped() -> None:
    clock = FakeClock()
    stop = DrivenStop(clock, waits=3)
    seen: list[dt.datetime] = []

    def one_pass(now: dt.datetime) -> int:
        seen.append(now)
        clock.advance(5)  # the pass takes 5s
        return 0

    metrics = Metrics()
    daemon = Daemon(one_pass, every=60, stop=stop, clock=clock, metrics=metrics, mode="direct")
    assert daemon.run() == 0

    assert seen == [START, START + dt.timedelta(seconds=60), START + dt.timedelta(seconds=120)]
    assert stop.timeouts == [55, 55, 55]
    assert value(metrics, "placement_reconciler_passes_total", mode="direct", result="ok") == 3
    assert value(metrics, "placement_reconciler_pass_duration_seconds_sum", mode="direct") == 15


def test_a_pass_longer_than_the_interval_is_followed_at_once() -> None:
    clock = FakeClock()
    stop = DrivenStop(clock, waits=1)

    def slow(now: dt.datetime) -> int:
        clock.advance(90)
        return 0

    Daemon(slow, every=60, stop=stop, clock=clock).run()
    assert stop.timeouts == [0.0]


def test_an_error_in_one_pass_never_ends_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    stop = DrivenStop(clock, waits=4)
    failures: list[BaseException] = [
        RuntimeError("boom"),
        GitError(["fetch"], 128, "fatal: unable to access"),
    ]

    def flaky(now: dt.datetime) -> int:
        if failures:
            raise failures.pop(0)
        return 1 if clock.elapsed > 150 else 0

    metrics = Metrics()
    daemon = Daemon(flaky, every=60, stop=stop, clock=clock, metrics=metrics, mode="direct")
    assert daemon.run() == 0

    assert daemon.passes == 4
    assert value(metrics, "placement_reconciler_passes_total", mode="direct", result="error") == 2
    assert value(metrics, "placement_reconciler_passes_total", mode="direct", result="ok") == 1
    assert value(metrics, "placement_reconciler_passes_total", mode="direct", result="failed") == 1
    assert value(metrics, "placement_reconciler_git_errors_total", operation="pass") == 1
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "pass failed: unexpected failure: boom" in logged
    assert not any("RuntimeError" in message for message in logged)  # no class name for users


def test_the_last_successful_pass_time_is_kept() -> None:
    clock = FakeClock()
    metrics = Metrics()
    daemon = Daemon(
        lambda now: 0, every=60, stop=DrivenStop(clock, waits=1), clock=clock, metrics=metrics
    )
    daemon.run()
    stamp = value(metrics, "placement_reconciler_last_successful_pass_timestamp_seconds")
    assert stamp == START.timestamp()


def test_a_replica_without_the_lease_runs_no_pass_but_is_ready_and_alive() -> None:
    clock = FakeClock()
    leading = [False, False, True]  # the Lease comes on the third look
    gate = WriteGate(lambda: leading.pop(0) if len(leading) > 1 else leading[0])
    stop = DrivenStop(clock, waits=3)
    health = Health(stale_after=300, monotonic=clock.monotonic)
    passes: list[dt.datetime] = []

    def one_pass(now: dt.datetime) -> int:
        assert health.readiness()[0], "ready while it stood by"
        passes.append(now)
        return 0

    daemon = Daemon(
        one_pass, every=60, stop=stop, clock=clock, gate=gate, health=health, standby_poll=2
    )
    daemon.run()

    assert stop.timeouts == [2, 2, 60]  # two looks as a follower, then a pass as the leader
    assert passes == [START + dt.timedelta(seconds=4)]
    assert health.readiness() == (True, "ok (leader)")
    assert health.liveness() == (True, "ok")


def test_losing_the_lease_mid_pass_stops_that_pass_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    holds = {"lease": True}
    gate = WriteGate(lambda: holds["lease"])
    writes: list[str] = []

    def one_pass(now: dt.datetime) -> int:
        for group in ("first", "second"):
            gate.check(f"writing {group}")
            writes.append(group)
            holds["lease"] = False  # lost right after the first write
        return 0

    metrics = Metrics()
    stop = DrivenStop(clock, waits=2)
    Daemon(one_pass, every=60, stop=stop, clock=clock, gate=gate, metrics=metrics).run()

    assert writes == ["first"]
    assert value(metrics, "placement_reconciler_passes_total", mode="", result="stopped") == 1
    assert "does not hold the leader lease" in caplog.text
    assert stop.timeouts == [60, 2]  # then it waits for the Lease as a follower


def test_liveness_fails_when_the_loop_stops_turning() -> None:
    clock = FakeClock()
    health = Health(stale_after=420, monotonic=clock.monotonic)
    health.beat(role="running")
    clock.advance(400)
    assert health.liveness()[0] is True
    clock.advance(30)
    alive, why = health.liveness()
    assert not alive and "no loop heartbeat for 430s" in why


def test_the_first_signal_asks_to_stop_after_the_pass_and_a_second_stops_now() -> None:
    clock = FakeClock()
    stop = DrivenStop(clock, waits=100)
    stopping: list[bool] = []
    handle = stop_handler(stop, on_stop=lambda: stopping.append(True))

    handle(signal.SIGTERM, None)
    assert stop.is_set() and stopping == [True]
    with pytest.raises(KeyboardInterrupt):
        handle(signal.SIGINT, None)


_BLOCKING_PASS = """
import datetime as dt, sys, threading, time
from pathlib import Path
from reconciler.ops.daemon import Daemon, stop_on_signals

here = Path(sys.argv[1])

def one_pass(now: dt.datetime) -> int:
    (here / "started").write_text("yes")
    while not (here / "release").exists():  # the pass in flight, blocked until released
        time.sleep(0.01)
    (here / "finished").write_text("yes")
    return 0

stop = threading.Event()
stop_on_signals(stop)
daemon = Daemon(one_pass, every=3600, stop=stop)
code = daemon.run()
print(f"passes={daemon.passes}")
sys.exit(code)
"""


def _wait_for(predicate: object, *, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_sigterm_lets_the_pass_in_flight_finish_then_exits(tmp_path: Path) -> None:
    script = tmp_path / "blocking_pass.py"
    script.write_text(textwrap.dedent(_BLOCKING_PASS))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        _wait_for(lambda: (tmp_path / "started").exists())
        process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert process.poll() is None, "the pass in flight must not be cut short"
        (tmp_path / "release").write_text("go")
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert (tmp_path / "finished").exists()
    assert "passes=1" in out  # no second pass after the signal


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def test_run_interval_serves_probes_and_metrics_and_stops_on_sigterm(
    tmp_path: Path, no_global_git: None
) -> None:
    from reconciler.demo import DEMO_DIR, build_fleet_repo

    repo, _ = build_fleet_repo(tmp_path / "work", when=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    snapshots = tmp_path / "snapshots"  # fresh files: a snapshot's age is its file's age
    shutil.copytree(DEMO_DIR / "snapshots", snapshots, copy_function=shutil.copy)
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "run",
        "--repo",
        str(repo),
        "--status",
        str(snapshots),
        "--mode",
        "dry-run",
        "--interval",
        "1h",
        "--metrics-port",
        str(port),
        "--metrics-address",
        "127.0.0.1",
        "--log-format",
        "json",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _get(f"{base}/readyz")[0] == 200, seconds=15)
        assert _get(f"{base}/healthz") == (200, "ok\n")
        status, scrape = _get(f"{base}/metrics")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert status == 200
    assert 'placement_reconciler_passes_total{mode="dry-run",result="ok"} 1.0' in scrape
    assert 'placement_reconciler_groups{state="upgrade-stalled"} 1.0' in scrape
    assert process.returncode == 0, err
    assert '"message": "SIGTERM received: finishing the pass in flight, then exiting"' in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--once", "--leader-elect"], "--leader-elect needs --interval"),
        (["--interval", "60s", "--metrics-port", "70000"], "70000 is not a port number"),
        (["--interval", "soon"], "--interval"),
    ],
)
def test_daemon_flags_that_cannot_work_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    from reconciler.cli.main import main

    (tmp_path / "fleet.yaml").write_text("clusters: []\n")
    code = main(["run", "--repo", str(tmp_path), "--status", str(tmp_path), *flags])
    assert code == 2
    assert message in capsys.readouterr().err
