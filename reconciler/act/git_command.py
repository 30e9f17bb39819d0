"""Run the git command line with argument lists, never through a shell."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

# Local operations are fast; network ones get a generous but finite limit so a hung
# remote cannot stall a reconcile pass forever.
LOCAL_TIMEOUT = 60.0
NETWORK_TIMEOUT = 300.0

_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


class GitError(RuntimeError):
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
    """Run `git <args>` in cwd; raise GitError on a non-zero exit when check is set."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    completed = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if check and completed.returncode != 0:
        raise GitError(args, completed.returncode, completed.stderr.decode(errors="replace"))
    return completed


def git_text(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = LOCAL_TIMEOUT,
) -> str:
    """Run git and return its stdout as text without the final newline."""
    completed = run_git(args, cwd=cwd, env=env, stdin=stdin, timeout=timeout)
    return completed.stdout.decode().rstrip("\n")


def git_succeeds(args: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> bool:
    """True when `git <args>` exits 0 (for questions like `cat-file -e`)."""
    return run_git(args, cwd=cwd, env=env, check=False).returncode == 0
