"""Run the git command line with argument lists, never through a shell."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
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
    process = subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        env=_full_env(env),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = _communicate(process, stdin=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise
    except BaseException:
        process.kill()
        raise
    completed = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    if check and completed.returncode != 0:
        raise GitError(args, completed.returncode, completed.stderr.decode(errors="replace"))
    return completed


class GitProcess:
    """A git command started by `start_git`, running while the caller does other work.

    stderr goes to an unnamed temporary file, so a chatty git never blocks on a full
    pipe; stdout is a pipe (and stdin too, for the long-lived batch commands).
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None,
        interactive: bool,
    ) -> None:
        self.args = list(args)
        self._errors = tempfile.TemporaryFile()
        self._stderr: str | None = None
        self.popen = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=_full_env(env),
            stdin=subprocess.PIPE if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._errors,
        )

    def finish(self, *, check: bool = True, timeout: float = LOCAL_TIMEOUT) -> bytes:
        """Wait for the end (stdin closed first); its stdout. GitError on failure if check."""
        try:
            out, _ = _communicate(self.popen, stdin=None, timeout=timeout)
        except BaseException:
            self.stop()
            raise
        if check and self.popen.returncode != 0:
            raise self.error()
        self._read_errors()
        return out

    def succeeded(self) -> bool:
        """Wait for the end; True when git exited 0 (for questions like `remote get-url`)."""
        self.finish(check=False)
        return self.popen.returncode == 0

    def error(self) -> GitError:
        """The GitError that says why the process failed (call once it has exited)."""
        self.popen.poll()
        return GitError(self.args, self.popen.returncode or 128, self._read_errors())

    def close(self) -> None:
        """Close stdin (a batch command then ends), wait for the end, and reap it."""
        if self.popen.returncode is None:
            try:
                _communicate(self.popen, stdin=None, timeout=LOCAL_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass  # killed at the deadline
        self._read_errors()

    def stop(self) -> None:
        """Kill the process if it still runs, and reap it (again: a no-op)."""
        if self.popen.returncode is None:
            if self.popen.poll() is None:
                self.popen.kill()
            self.popen.communicate()
        self._read_errors()

    def _read_errors(self) -> str:
        if self._stderr is None:
            self._errors.seek(0)
            self._stderr = self._errors.read().decode(errors="replace")
            self._errors.close()
        return self._stderr


def start_git(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    interactive: bool = False,
) -> GitProcess:
    """Start `git <args>` in cwd without waiting for it (stdin is a pipe when interactive)."""
    return GitProcess(args, cwd=cwd, env=env, interactive=interactive)


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


def _communicate(
    process: subprocess.Popen[bytes], *, stdin: bytes | None, timeout: float
) -> tuple[bytes, bytes]:
    """`process.communicate(stdin)` within timeout, else TimeoutExpired (the process killed).

    subprocess's own timeout waits for the exit in a loop of short sleeps, about a
    millisecond more per git command. Here a thread talks to the process and simply
    blocks, and the caller waits for that thread with the deadline. At the deadline git is
    killed and reaped, and TimeoutExpired raised at once, as subprocess.run does (a child
    of git may hold the pipes open longer: the thread ends when it lets go).
    """
    outcome: list[tuple[bytes, bytes] | BaseException] = []

    def talk() -> None:
        try:
            outcome.append(process.communicate(stdin))
        except BaseException as error:  # handed to the caller
            outcome.append(error)

    talker = threading.Thread(target=talk, name="git-communicate", daemon=True)
    talker.start()
    talker.join(timeout)
    if talker.is_alive():
        process.kill()
        process.wait()
        raise subprocess.TimeoutExpired(process.args, timeout)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    out, err = result
    return out or b"", err or b""


def _full_env(env: Mapping[str, str] | None) -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}


def git_succeeds(args: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> bool:
    """True when `git <args>` exits 0 (for questions like `cat-file -e`)."""
    return run_git(args, cwd=cwd, env=env, check=False).returncode == 0
