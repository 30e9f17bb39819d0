"""Run the git command line with argument lists, never through a shell."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler.core import errors

# Local operations are fast; network ones get a generous but finite limit so a hung
# remote cannot stall a reconcile pass forever.
LOCAL_TIMEOUT = 60.0
NETWORK_TIMEOUT = 300.0

_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


class GitError(errors.GitError):
    """A git command failed; the message holds its stderr, with credentials removed."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = scrub(stderr.strip())
        super().__init__(f"git {args[0]} failed: {self.stderr or f'exit {returncode}'}")


def scrub(text: str) -> str:
    """The text without any `user:token@` part of a URL."""
    return _CREDENTIALS_IN_URL.sub(r"\g<scheme>", text)


def run_git(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    check: bool = True,
    timeout: float = LOCAL_TIMEOUT,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git <args>` in cwd; GitError on a non-zero exit when check is set, or past timeout.

    git runs in a process group of its own, so that at the deadline whatever it started
    (a hook, an alias's shell, a credential helper) is killed with it.
    """
    process = subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})},
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except BaseException as interrupted:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        if isinstance(interrupted, subprocess.TimeoutExpired):
            raise GitError(args, -signal.SIGKILL, f"timed out after {timeout:g}s") from None
        raise
    if check and process.returncode != 0:
        raise GitError(args, process.returncode, err.decode(errors="replace"))
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def git_text(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = LOCAL_TIMEOUT,
) -> str:
    """Run git and return its stdout as text without the final newline."""
    done = run_git(args, cwd=cwd, env=env, stdin=stdin, timeout=timeout)
    return done.stdout.decode().rstrip("\n")


def git_succeeds(args: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> bool:
    """True when `git <args>` exits 0 (for questions like `cat-file -e`)."""
    return run_git(args, cwd=cwd, env=env, check=False).returncode == 0
