"""The placement timeline, read back from the trailers of the fleet repo's commits.

Every move commit carries `Placement-Group`, `Placement-From`, `Placement-To` and
`Placement-Reason` trailers. One `git log` call reads them all, so a repository with
thousands of commits is read in one pass.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

_TRAILERS = ("Placement-Group", "Placement-From", "Placement-To", "Placement-Reason")
_FIELD = "\x1f"
_RECORD = "\x1e"
_FORMAT = _FIELD.join(
    ["%H", "%ct", "%s"]
    + [f"%(trailers:key={key},valueonly,unfold,separator=%x1d)" for key in _TRAILERS]
)


class HistoryError(RuntimeError):
    """The history cannot be read (not a git repository, or an unknown ref)."""


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
    """Every commit reachable from ref whose trailers name a Placement-Group, oldest first."""
    if not _git_ok(repo_path, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"):
        if ref == "HEAD" and _git_ok(repo_path, "rev-parse", "--git-dir"):
            return []  # a repository without commits yet
        raise HistoryError(f"{ref} is not a commit in {repo_path}")
    out = _git(
        repo_path,
        "-c",
        "log.showSignature=false",
        "log",
        "--reverse",
        "--date-order",
        "--no-color",
        "--regexp-ignore-case",
        "--grep=^Placement-Group:",
        f"--format={_FORMAT}{_RECORD}",
        ref,
        "--",
    )
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


def _git(repo_path: Path, *args: str) -> str:
    completed = _run(repo_path, *args)
    if completed.returncode != 0:
        stderr = completed.stderr.decode(errors="replace").strip()
        raise HistoryError(f"git log failed in {repo_path}: {stderr}")
    return completed.stdout.decode(errors="replace")


def _git_ok(repo_path: Path, *args: str) -> bool:
    return _run(repo_path, *args).returncode == 0


def _run(repo_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    if not repo_path.is_dir():
        raise HistoryError(f"{repo_path} is not a directory")
    return subprocess.run(["git", *args], cwd=repo_path, capture_output=True, check=False)
