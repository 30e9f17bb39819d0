"""The placement timeline, read back from the trailers of the fleet repo's commits.

Every move commit carries `Placement-Group`, `Placement-From`, `Placement-To` and
`Placement-Reason` trailers. One `git log` call reads them all, so a repository with
thousands of commits is read in one pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from reconciler.core.errors import GitError
from reconciler.gitrepo.git_command import git_succeeds, run_git

_TRAILERS = ("Placement-Group", "Placement-From", "Placement-To", "Placement-Reason")
_FIELD = "\x1f"
_RECORD = "\x1e"
_FORMAT = _FIELD.join(
    ["%H", "%ct", "%s"]
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
    when: datetime
    subject: str


def read_moves(repo_path: Path, *, ref: str = "HEAD") -> list[MoveRecord]:
    """Every commit reachable from ref whose trailers name a Placement-Group, oldest first.

    GitError when repo_path is not a repository, or ref not a commit in it.
    """
    if not repo_path.is_dir():
        raise GitError(f"{repo_path} is not a directory")
    if not git_succeeds(["rev-parse", "--verify", "-q", f"{ref}^{{commit}}"], cwd=repo_path):
        if ref == "HEAD" and git_succeeds(["rev-parse", "--git-dir"], cwd=repo_path):
            return []  # a repository without commits yet
        raise GitError(f"{ref} is not a commit in {repo_path}")
    log = ["log", "--no-show-signature", "--reverse", "--date-order", "--no-color"]
    log += ["--regexp-ignore-case", "--grep=^Placement-Group:", f"--format={_FORMAT}{_RECORD}"]
    out = run_git([*log, ref, "--"], cwd=repo_path).stdout.decode(errors="replace")
    records = []
    for raw in out.split(_RECORD):
        fields = raw.strip("\n").split(_FIELD)
        if len(fields) != 3 + len(_TRAILERS):
            continue
        sha, timestamp, subject, group, source, target, reason = fields
        if not _first(group):
            continue
        records.append(
            MoveRecord(
                group=_first(group),
                source=_first(source),
                target=_first(target),
                reason=_first(reason),
                commit=sha,
                when=datetime.fromtimestamp(int(timestamp), tz=UTC),
                subject=subject,
            )
        )
    return records


def last_moves(records: Iterable[MoveRecord]) -> dict[str, MoveRecord]:
    """The latest record per group (records are taken in order; the last one wins)."""
    latest: dict[str, MoveRecord] = {}
    for record in records:
        latest[record.group] = record
    return latest


def _first(values: str) -> str:
    """The first value of a trailer that may appear several times (joined by \\x1d)."""
    return values.split("\x1d", 1)[0].strip()
