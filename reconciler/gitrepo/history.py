"""The placement timeline, read back from the trailers of the fleet repo's commits.

Every move commit carries `Placement-Group`, `Placement-From`, `Placement-To` and
`Placement-Reason` trailers, and a make-before-break phase also `Placement-Phase` (copy,
finish or revert). One `git log` call reads them all, with the parents that tell when
each move reached the branch, so a repository with thousands of commits is read in one pass.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from reconciler.core.errors import GitError
from reconciler.gitrepo.git_command import git_succeeds, run_git

_TRAILERS = (
    "Placement-Group",
    "Placement-From",
    "Placement-To",
    "Placement-Reason",
    "Placement-Phase",
)
_FIELD = "\x1f"
_RECORD = "\x1e"
# The pull request a move came through: GitHub's merge commit, or a squash merge's subject.
_PULL_REQUEST = re.compile(r"^Merge pull request #(\d+)\b|\(#(\d+)\)$")
_FORMAT = _FIELD.join(
    ["%H", "%ct", "%P", "%s"]
    + [f"%(trailers:key={key},valueonly,unfold,separator=%x1d)" for key in _TRAILERS]
)


@dataclasses.dataclass(frozen=True)
class MoveRecord:
    """One move of a group, as its commit recorded it."""

    group: str
    source: str
    target: str
    reason: str
    commit: str
    when: datetime  # when the move reached the branch (a merged pull request: the merge)
    subject: str
    phase: str = ""  # make-before-break: copy | finish | revert; "" for a whole move
    committed: datetime | None = None  # the move commit's own time, as its writer set it
    pull_request: int = 0  # the pull request it reached the branch through, when git tells

    @property
    def step(self) -> str:
        """What the commit did: a whole move, or one make-before-break phase."""
        return self.phase or "move"

    @property
    def reached(self) -> str:
        """When it reached the branch, in UTC with the zone (RFC 3339, to the minute)."""
        return f"{self.when.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def read_moves(repo_path: Path, *, ref: str = "HEAD") -> list[MoveRecord]:
    """Every commit reachable from ref whose trailers name a Placement-Group, oldest first.

    GitError when repo_path is not a repository, or ref not a commit in it.
    """
    if not repo_path.is_dir():
        raise GitError(f"{repo_path} is not a directory")
    verify = ["rev-parse", "--verify", "-q", f"{ref}^{{commit}}"]
    found = run_git(verify, cwd=repo_path, check=False)
    if found.returncode != 0:
        if ref == "HEAD" and git_succeeds(["rev-parse", "--git-dir"], cwd=repo_path):
            return []  # a repository without commits yet
        raise GitError(f"{ref} is not a commit in {repo_path}")
    tip = found.stdout.decode().strip()
    log = ["log", "--no-show-signature", "--reverse", "--date-order", "--no-color"]
    out = run_git([*log, f"--format={_FORMAT}{_RECORD}", ref, "--"], cwd=repo_path)
    commits: dict[str, tuple[datetime, list[str], str]] = {}  # sha: time, parents, subject
    moves = []
    for raw in out.stdout.decode(errors="replace").split(_RECORD):
        fields = raw.strip("\n").split(_FIELD)
        if len(fields) != 4 + len(_TRAILERS):
            continue
        sha, timestamp, parents, subject, *trailers = fields
        when = datetime.fromtimestamp(int(timestamp), tz=UTC)
        commits[sha] = (when, parents.split(), subject)
        # A trailer may appear several times (its values joined by \x1d): the first counts.
        group, source, target, reason, phase = (t.split("\x1d", 1)[0].strip() for t in trailers)
        if group:
            moves.append(MoveRecord(group, source, target, reason, sha, when, subject, phase))
    reached = _reached_branch(tip, commits)
    records = []
    for move in moves:
        when, through = reached.get(move.commit, (move.when, move.commit))
        number = _pull_request(commits[through][2]) or _pull_request(move.subject)
        records.append(
            dataclasses.replace(move, when=when, committed=move.when, pull_request=number)
        )
    return records


def _pull_request(subject: str) -> int:
    found = _PULL_REQUEST.search(subject)
    return int(found[1] or found[2]) if found else 0


def _reached_branch(
    tip: str, commits: dict[str, tuple[datetime, list[str], str]]
) -> dict[str, tuple[datetime, str]]:
    """When each commit reached the branch whose tip is tip, and through which commit: the
    first-parent commit that brought it in (itself in direct mode; a pull request's merge)."""
    chain = []
    commit: str | None = tip
    while commit is not None and commit in commits:
        chain.append(commit)
        parents = commits[commit][1]
        commit = parents[0] if parents else None
    reached: dict[str, tuple[datetime, str]] = {}
    for step in reversed(chain):  # oldest first: a commit is claimed by its first landing
        pending = [step]
        while pending:
            commit = pending.pop()
            if commit in reached or commit not in commits:
                continue
            reached[commit] = (commits[step][0], step)
            pending.extend(commits[commit][1])
    return reached


def last_moves(records: Iterable[MoveRecord]) -> dict[str, MoveRecord]:
    """The latest record per group (records are taken in order; the last one wins)."""
    latest: dict[str, MoveRecord] = {}
    for record in records:
        latest[record.group] = record
    return latest
