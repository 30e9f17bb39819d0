"""Start reconciler processes for the hostile tests: the CLI, or `pass_worker` with options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a reconciler child: no global git config, this checkout importable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "PLACEMENT_RECONCILER_"))
    }
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def run_cli(
    args: Sequence[str], *, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m reconciler <args>` as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=ROOT,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def start_worker(options: Mapping[str, Any]) -> subprocess.Popen[str]:
    """A `pass_worker` process with these options (see its docstring)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.hostile.pass_worker", json.dumps(dict(options))],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, list[dict[str, Any]], str]:
    """Wait for a worker: its exit code, its JSON records, its stderr."""
    out, err = process.communicate(timeout=TIMEOUT)
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return process.returncode, records, err


def run_together(
    options: Sequence[Mapping[str, Any]], *, scratch: Path
) -> list[tuple[int, list[dict[str, Any]], str]]:
    """Start one worker per options, release them at the same moment, wait for all."""
    start = scratch / "start"
    ready = [scratch / f"ready-{index}" for index in range(len(options))]
    processes = [
        start_worker({**option, "start": str(start), "ready": str(mark)})
        for option, mark in zip(options, ready, strict=True)
    ]
    deadline = time.monotonic() + TIMEOUT
    while not all(mark.exists() for mark in ready):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            break
        time.sleep(0.01)
    start.touch()
    return [finish(process) for process in processes]
