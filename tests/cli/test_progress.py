"""Progress on stderr: drawn on a terminal (a real pty here), absent everywhere else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fleet_repo import DEMO_NOW as NOW
from tests.fleet_repo import taken_at

COMMAND = "from reconciler.cli.main import main; raise SystemExit(main())"


def run_with_stderr_on_a_pty(args: list[str], *, tmp_path: Path) -> tuple[int, bytes, str]:
    """Run the command line with stderr on a pseudo-terminal: exit code, what the terminal
    received, and stdout (a plain file)."""
    master, slave = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    with (tmp_path / "stdout").open("w+") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-c", COMMAND, *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=slave,
            env=env,
        )
        os.close(slave)
        received = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the last writer closed the terminal (Linux: EIO)
                break
            if not chunk:
                break
            received += chunk
        os.close(master)
        code = process.wait(timeout=120)
        stdout.seek(0)
        return code, received, stdout.read()


def run_with_stderr_on_a_pipe(args: list[str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    return done.returncode, done.stderr, done.stdout


def plan_args(fleet: Path, snapshots: Path) -> list[str]:
    return ["plan", "--repo", str(fleet), "--status", str(taken_at(snapshots, NOW)), "--now", NOW]


def test_a_terminal_sees_clusters_read_and_groups_rendered(
    fleet: Path, snapshots: Path, tmp_path: Path
) -> None:
    code, terminal, stdout = run_with_stderr_on_a_pty(
        plan_args(fleet, snapshots), tmp_path=tmp_path
    )
    assert code == 0
    assert b"2/2 clusters read" in terminal
    assert b"2/2 clusters' groups rendered" in terminal
    assert "1 move decided." in stdout and "\x1b" not in stdout  # stdout stays plain


def test_a_move_written_is_counted_on_a_terminal(
    fleet: Path, snapshots: Path, tmp_path: Path
) -> None:
    args = [*plan_args(fleet, snapshots), "--mode", "direct"]
    args[0] = "run"
    code, terminal, _ = run_with_stderr_on_a_pty(args, tmp_path=tmp_path)
    assert code == 0
    assert b"1/1 moves written" in terminal


def test_nothing_is_drawn_on_a_pipe(fleet: Path, snapshots: Path) -> None:
    code, stderr, stdout = run_with_stderr_on_a_pipe(plan_args(fleet, snapshots))
    assert code == 0 and "1 move decided." in stdout
    assert stderr == ""


def test_quiet_and_json_logs_draw_nothing_even_on_a_terminal(
    fleet: Path, snapshots: Path, tmp_path: Path
) -> None:
    code, terminal, _ = run_with_stderr_on_a_pty(
        [*plan_args(fleet, snapshots), "--quiet"], tmp_path=tmp_path
    )
    assert code == 0 and b"clusters read" not in terminal and b"\x1b[" not in terminal
    run = [*plan_args(fleet, snapshots), "--mode", "dry-run", "--log-format", "json"]
    run[0] = "run"
    code, terminal, _ = run_with_stderr_on_a_pty(run, tmp_path=tmp_path)
    assert code == 0 and b"clusters read" not in terminal and b"moves written" not in terminal
