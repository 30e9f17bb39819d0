"""Whether the checkout has local changes in a move's paths, asked while the move is built.

`git status` on the move's paths runs as its own process from the start of a move, so its
time hides behind the commit being built; its verdict is read before anything is pushed or
any ref moves, and it wins over any other outcome, as when it ran first. It runs without
optional locks: the verdict is the same, but git does not write the refreshed index back
(a 4 MB write in a fleet repo, for nothing the move needs).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.gitrepo.git_command import GitProcess, start_git
from reconciler.gitrepo.move_commit import MoveRefused

_NO_OPTIONAL_LOCKS = {"GIT_OPTIONAL_LOCKS": "0"}


class LocalChanges:
    """`git status --porcelain --untracked-files=all -- <paths>`, started now, read later."""

    def __init__(self, repo: Path, *, paths: Sequence[str]) -> None:
        self._status: GitProcess | None = start_git(
            ["status", "--porcelain", "--untracked-files=all", "--", *paths],
            cwd=repo,
            env=_NO_OPTIONAL_LOCKS,
        )

    def refuse_if_any(self, group: str) -> None:
        """Raise MoveRefused naming the changed paths (GitError when status failed)."""
        if self._status is None:
            return
        status, self._status = self._status, None
        out = status.finish().decode().rstrip("\n")
        if out:
            changed = ", ".join(line[3:] for line in out.splitlines())
            raise MoveRefused(group, f"the checkout has local changes in {changed}")

    def stop(self) -> None:
        """Forget the verdict (the branch is not checked out here, or the move is over)."""
        if self._status is not None:
            self._status.stop()
            self._status = None
