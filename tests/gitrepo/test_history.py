"""The placement timeline is rebuilt from commit trailers, oldest first, in one git call."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.core.errors import GitError
from reconciler.gitrepo.history import MoveRecord, last_moves, read_moves
from reconciler.gitrepo.workspace import Move, Workspace
from tests.fleet_repo import commit_file, git, move_message, write_fleet


def move(workspace: Workspace, group: str, source: str, target: str, reason: str) -> str:
    message = move_message(group, source, target, reason=reason)
    result = workspace.apply(Move(group, source, target, message))
    assert result.error == ""
    return result.commit


@pytest.fixture
def moved_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """A fleet where ray-pred went to cloud and back, batch went to onprem, among other work."""
    fleet = write_fleet(tmp_path / "fleet")
    workspace = Workspace.open(str(fleet), branch="main")
    commits = []
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-01T12:00:00+02:00")
    commits.append(move(workspace, "ray-pred", "onprem", "cloud", "upgrade-stalled"))
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-01T13:00:00+02:00")
    commit_file(fleet, "fleet.yaml", "# tuned\n", message="fleet: tune defaults")
    commits.append(move(workspace, "batch", "cloud", "onprem", "capacity"))
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-02T09:30:00Z")
    commits.append(move(workspace, "ray-pred", "cloud", "onprem", "failback"))
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    return fleet, commits


def test_every_move_is_read_back_oldest_first(moved_fleet: tuple[Path, list[str]]) -> None:
    fleet, commits = moved_fleet

    records = read_moves(fleet)

    assert [(r.group, r.source, r.target, r.reason) for r in records] == [
        ("ray-pred", "onprem", "cloud", "upgrade-stalled"),
        ("batch", "cloud", "onprem", "capacity"),
        ("ray-pred", "cloud", "onprem", "failback"),
    ]
    assert [r.commit for r in records] == commits
    assert records[0].subject == "placement: move ray-pred from onprem to cloud"


def test_the_time_is_the_committer_date_in_utc(moved_fleet: tuple[Path, list[str]]) -> None:
    fleet, _ = moved_fleet

    records = read_moves(fleet)

    assert records[0].when == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert records[2].when == datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
    assert all(r.when.utcoffset() is not None for r in records)


def test_last_moves_gives_the_latest_record_per_group(
    moved_fleet: tuple[Path, list[str]],
) -> None:
    fleet, commits = moved_fleet

    latest = last_moves(read_moves(fleet))

    assert sorted(latest) == ["batch", "ray-pred"]
    assert latest["ray-pred"].commit == commits[2]
    assert latest["ray-pred"].target == "onprem"
    assert latest["batch"].commit == commits[1]


def test_a_commit_with_only_the_group_trailer_has_empty_fields(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet")
    git(fleet, "commit", "--allow-empty", "-q", "-m", "manual move\n\nPlacement-Group: web")

    [record] = read_moves(fleet)

    assert (record.group, record.source, record.target, record.reason) == ("web", "", "", "")
    assert record.subject == "manual move"


def test_a_group_mentioned_outside_the_trailers_is_not_a_move(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet")
    message = "docs: explain trailers\n\nPlacement-Group: web\nis how a move is marked.\n\nBye."
    git(fleet, "commit", "--allow-empty", "-q", "-m", message)

    assert read_moves(fleet) == []


def test_moves_are_read_from_the_given_ref_only(
    moved_fleet: tuple[Path, list[str]],
) -> None:
    fleet, commits = moved_fleet
    git(fleet, "branch", "old", commits[0])

    assert [r.commit for r in read_moves(fleet, ref="old")] == commits[:1]


def test_a_repository_without_commits_has_no_history(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "empty")

    assert read_moves(tmp_path / "empty") == []


def test_an_unknown_ref_is_an_error(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet")

    with pytest.raises(GitError, match="no-such-branch is not a commit"):
        read_moves(fleet, ref="no-such-branch")


def test_thousands_of_commits_are_read_with_one_git_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "big"
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "fast-import", "--quiet", stdin=_many_commits(3000, every=10))
    calls: list[list[str]] = []
    real_popen = subprocess.Popen

    def counting_popen(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        calls.append(args)
        return real_popen(args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    started = time.perf_counter()
    records = read_moves(repo, ref="refs/heads/main")
    elapsed = time.perf_counter() - started

    assert len(records) == 300
    assert records[0].group == "group-0" and records[-1].group == "group-2990"
    assert sum("log" in args for args in calls) == 1
    assert elapsed < 5


def _many_commits(count: int, *, every: int) -> bytes:
    """A fast-import stream of count empty commits on main; every n-th one is a move."""
    chunks = []
    for n in range(count):
        message = f"commit {n}\n"
        if n % every == 0:
            message = move_message(f"group-{n}", "onprem", "cloud")
        data = message.encode()
        chunks.append(
            b"commit refs/heads/main\n"
            + f"committer Fleet Tester <t@example.invalid> {1_700_000_000 + n} +0000\n".encode()
            + f"data {len(data)}\n".encode()
            + data
            + b"\n"
        )
    return b"".join(chunks)


def test_records_are_plain_values() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    record = MoveRecord("g", "a", "b", "capacity", "abc", when, "subject")

    assert last_moves([record, record]) == {"g": record}


def test_a_merged_move_reached_the_branch_when_it_was_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot's commit is dated when it wrote the pull request; the move is the merge."""
    fleet = write_fleet(tmp_path / "fleet")
    git(fleet, "checkout", "-q", "-b", "placement/ray-pred")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-01T12:00:00Z")
    message = move_message("ray-pred", "onprem", "cloud")
    git(fleet, "commit", "--allow-empty", "-q", "-m", message)
    bot = git(fleet, "rev-parse", "HEAD")
    git(fleet, "checkout", "-q", "main")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-01T15:30:00Z")
    commit_file(fleet, "fleet.yaml", "# meanwhile\n", message="fleet: meanwhile on main")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-02T08:00:00Z")
    git(fleet, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "placement/ray-pred")

    [record] = read_moves(fleet)

    assert record.commit == bot
    assert record.committed == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert record.when == datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
    assert record.pull_request == 1  # GitHub's merge commit names it


def test_a_squash_merged_move_names_its_pull_request(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet")
    message = move_message("ray-pred", "onprem", "cloud").replace(
        "from onprem to cloud", "from onprem to cloud (#12)", 1
    )
    git(fleet, "commit", "--allow-empty", "-q", "-m", message)
    direct = move_message("web", "onprem", "cloud")
    git(fleet, "commit", "--allow-empty", "-q", "-m", direct)

    squashed, committed = read_moves(fleet)

    assert squashed.pull_request == 12
    assert committed.pull_request == 0  # a direct commit came through no pull request


def test_a_make_before_break_phase_is_read_with_its_phase(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet")
    revert = move_message("ray-pred", "onprem", "cloud") + "Placement-Phase: revert\n"
    git(fleet, "commit", "--allow-empty", "-q", "-m", revert)

    [record] = read_moves(fleet)

    assert (record.source, record.target, record.phase) == ("onprem", "cloud", "revert")
