"""Move pull requests through real PyGithub against a stateful fake GitHub and a bare remote."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Auth, Github, GithubRetry

from reconciler.github.branch_publish import publish_move_branch
from reconciler.github.move_pull_request import (
    MARKER,
    GitHubUnavailable,
    MoveProposal,
    ProposalResult,
    RateLimited,
    parse_marker,
)
from reconciler.github.pull_requests import PullRequests
from reconciler.gitrepo.history import read_moves
from reconciler.gitrepo.workspace import Move, Workspace
from tests.fleet_repo import (
    BOT_EMAIL,
    MOVE_BRANCH,
    clone,
    commit_file,
    git,
    move_message,
    remote_sha,
)

from ..fakes.github_server import START, FakeGitHub

TOKEN = "test-token"
BOT = BOT_EMAIL
BRANCH = MOVE_BRANCH
# PyGithub's own retry, kept, but without real waiting: no backoff, no secondary wait.
FAST_RETRY = GithubRetry(total=2, backoff_factor=0, secondary_rate_wait=0)
RAY_MOVE = MoveProposal(
    group="ray-pred",
    source="onprem",
    target="cloud",
    reason="upgrade-stalled",
    title="placement: move ray-pred from onprem to cloud",
    body="RayService prediction/ray-pred: upgrade stalled, 3 pods unschedulable for 7m.",
    commit_message=move_message("ray-pred", "onprem", "cloud", reason="upgrade-stalled"),
)
WEB_MOVE = MoveProposal(
    **{
        **RAY_MOVE.__dict__,
        "group": "web",
        "title": "move web",
        "commit_message": move_message("web", "onprem", "cloud", reason="upgrade-stalled"),
    }
)


@pytest.fixture
def fake(remote: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub(remote=remote) as server:
        yield server


def client(fake: FakeGitHub, *, token: str = TOKEN, per_page: int = 30) -> Github:
    return Github(
        base_url=fake.base_url,
        auth=Auth.Token(token),
        retry=FAST_RETRY,
        per_page=per_page,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def pull_requests(fake: FakeGitHub, *, per_page: int = 30) -> PullRequests:
    github = client(fake, per_page=per_page)
    return PullRequests(github, repo="org/fleet", base="main", bot_email=BOT)


def opened(fake: FakeGitHub, workspace: Workspace) -> ProposalResult:
    result = pull_requests(fake).propose(RAY_MOVE, workspace=workspace)
    assert result.action == "opened", result
    return result


# Opening, updating, adopting


def test_first_propose_opens_one_pr_with_labels_and_marker(
    fake: FakeGitHub, workspace: Workspace, remote: Path
) -> None:
    result = pull_requests(fake).propose(RAY_MOVE, workspace=workspace)

    assert (result.action, result.number, result.error) == ("opened", 1, "")
    assert result.url.endswith("/org/fleet/pull/1")
    [pr] = fake.pulls.values()
    assert (pr.head, pr.base, pr.title) == (BRANCH, "main", RAY_MOVE.title)
    assert pr.body.startswith(RAY_MOVE.body)
    assert pr.body.rstrip().endswith(
        f"<!-- {MARKER} group=ray-pred from=onprem to=cloud reason=upgrade-stalled -->"
    )
    assert pr.labels == ["placement", "placement:upgrade-stalled"]
    assert pr.head_sha == remote_sha(remote)
    assert "Placement-Group: ray-pred" in git(remote, "log", "-1", "--format=%B", BRANCH)


def test_changed_evidence_updates_the_same_pr(fake: FakeGitHub, workspace: Workspace) -> None:
    opened(fake, workspace)
    newer = MoveProposal(**{**RAY_MOVE.__dict__, "body": RAY_MOVE.body + "\n\nNow 5 pods."})

    result = pull_requests(fake).propose(newer, workspace=workspace)

    assert (result.action, result.number) == ("updated", 1)
    [pr] = fake.pulls.values()
    assert "Now 5 pods." in pr.body and pr.body.count(MARKER) == 1
    assert len(fake.requests_to("POST", "/repos/org/fleet/pulls")) == 1  # opened once


def test_nothing_changed_is_unchanged_and_pushes_nothing(
    fake: FakeGitHub, workspace: Workspace, remote: Path
) -> None:
    opened(fake, workspace)
    sha = remote_sha(remote)
    writes_before = [r for r in fake.log if r.method != "GET"]

    result = pull_requests(fake).propose(RAY_MOVE, workspace=workspace)

    assert (result.action, result.number) == ("unchanged", 1)
    assert remote_sha(remote) == sha
    assert [r for r in fake.log if r.method != "GET"] == writes_before


def test_a_new_base_tip_rebuilds_the_branch_and_updates_the_pr(
    fake: FakeGitHub, workspace: Workspace, remote: Path, tmp_path: Path
) -> None:
    opened(fake, workspace)
    other = clone(remote, tmp_path / "other")
    commit_file(other, "README.md", "fleet\n", message="docs")
    git(other, "push", "--quiet", "origin", "main")

    result = pull_requests(fake).propose(RAY_MOVE, workspace=workspace)

    assert (result.action, result.number, len(fake.pulls)) == ("updated", 1, 1)
    assert git(remote, "rev-parse", f"{BRANCH}^") == remote_sha(remote, "main")


def test_already_exists_after_a_retried_create_adopts_the_pr(
    fake: FakeGitHub, workspace: Workspace
) -> None:
    fake.fail_next_create_after_commit()  # stored, answered 502; PyGithub retries the POST

    result = pull_requests(fake).propose(RAY_MOVE, workspace=workspace)

    assert (result.action, result.number, result.error) == ("adopted", 1, "")
    assert [r.status for r in fake.requests_to("POST", "/repos/org/fleet/pulls")] == [502, 422]
    assert len(fake.pulls) == 1
    assert fake.pulls[1].labels == ["placement", "placement:upgrade-stalled"]


def test_a_human_commit_on_the_branch_leaves_branch_and_pr_alone(
    fake: FakeGitHub, workspace: Workspace, remote: Path, tmp_path: Path
) -> None:
    opened(fake, workspace)
    person = clone(remote, tmp_path / "person")
    git(person, "fetch", "--quiet", "origin", f"{BRANCH}:{BRANCH}")
    git(person, "switch", "--quiet", BRANCH)
    human = commit_file(person, "clusters/cloud/groups/ray-pred/NOTE.md", "x\n", message="wait")
    git(person, "push", "--quiet", "origin", BRANCH)
    writes_before = [r for r in fake.log if r.method != "GET"]
    newer = MoveProposal(**{**RAY_MOVE.__dict__, "body": "changed evidence"})

    result = pull_requests(fake).propose(newer, workspace=workspace)

    assert result.action == "left-alone"
    assert result.error == f"{BRANCH} has a commit by Fleet Tester: left alone"
    assert (result.number, result.human) == (1, "Fleet Tester")  # named for the report
    assert result.url.endswith("/org/fleet/pull/1")
    assert remote_sha(remote) == human
    assert fake.pulls[1].body.startswith(RAY_MOVE.body)
    assert [r for r in fake.log if r.method != "GET"] == writes_before


def test_crash_after_push_before_pr_opens_it_on_the_next_pass(
    fake: FakeGitHub, workspace: Workspace, remote: Path
) -> None:
    move = Move("ray-pred", "onprem", "cloud", "placement: move ray-pred\n")
    pushed = publish_move_branch(workspace, move, branch=BRANCH, bot_email=BOT)
    assert pushed.pushed and fake.pulls == {}

    result = pull_requests(fake).propose(RAY_MOVE, workspace=workspace)

    assert (result.action, len(fake.pulls)) == ("opened", 1)
    assert remote_sha(remote) == pushed.commit  # same change: the branch was not pushed again


def test_crash_after_pr_before_labels_adds_them_on_the_next_pass(
    fake: FakeGitHub, workspace: Workspace
) -> None:
    opened(fake, workspace)
    fake.pulls[1].labels.clear()

    result = pull_requests(fake).propose(RAY_MOVE, workspace=workspace)

    assert (result.action, result.number) == ("updated", 1)
    assert fake.pulls[1].labels == ["placement", "placement:upgrade-stalled"]


def test_two_reconcilers_racing_on_the_same_group_make_one_pr(
    fake: FakeGitHub, remote: Path, tmp_path: Path
) -> None:
    spaces = [Workspace.open(str(clone(remote, tmp_path / n)), branch="main") for n in "ab"]
    fake.hold_open_lookups(2)  # both look for the open PR before either creates one
    results: list[ProposalResult] = []

    def propose(workspace: Workspace) -> None:
        results.append(pull_requests(fake).propose(RAY_MOVE, workspace=workspace))

    threads = [threading.Thread(target=propose, args=(w,)) for w in spaces]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(r.action for r in results) == ["adopted", "opened"], [r.error for r in results]
    assert {r.number for r in results} == {1}
    assert len(fake.pulls) == 1


def test_an_invalid_group_name_is_refused_before_anything_is_written(
    fake: FakeGitHub, workspace: Workspace
) -> None:
    bad = MoveProposal(**{**RAY_MOVE.__dict__, "group": "../etc"})

    result = pull_requests(fake).propose(bad, workspace=workspace)

    assert result.action == "failed" and "not a valid name" in result.error
    assert fake.log == []


# Withdrawing


def test_withdraw_comments_closes_and_deletes_the_branch(
    fake: FakeGitHub, workspace: Workspace, remote: Path
) -> None:
    opened(fake, workspace)

    result = pull_requests(fake).withdraw(
        "ray-pred", why="ray-pred is no longer stuck: all pods scheduled", workspace=workspace
    )

    assert result is not None
    assert (result.action, result.number, result.error) == ("closed", 1, "")
    assert fake.pulls[1].state == "closed" and not fake.pulls[1].merged
    assert fake.pulls[1].comments == [
        "ray-pred is no longer stuck: all pods scheduled\n\n<!-- placement-reconciler:withdrawn -->"
    ]
    assert remote_sha(remote) is None


def test_withdraw_without_an_open_pr_is_none(fake: FakeGitHub, workspace: Workspace) -> None:
    assert pull_requests(fake).withdraw("ray-pred", why="-", workspace=workspace) is None


def test_withdraw_keeps_a_branch_that_carries_a_human_commit(
    fake: FakeGitHub, workspace: Workspace, remote: Path, tmp_path: Path
) -> None:
    opened(fake, workspace)
    person = clone(remote, tmp_path / "person")
    git(person, "fetch", "--quiet", "origin", f"{BRANCH}:{BRANCH}")
    git(person, "switch", "--quiet", BRANCH)
    human = commit_file(person, "NOTE.md", "mine\n", message="mine")
    git(person, "push", "--quiet", "origin", BRANCH)

    result = pull_requests(fake).withdraw("ray-pred", why="not stuck", workspace=workspace)
    again = pull_requests(fake).withdraw("ray-pred", why="not stuck", workspace=workspace)

    # Issue 12: the person's PR is theirs; the bot says why once and leaves it open.
    assert result is not None and (result.action, result.number) == ("left-alone", 1)
    assert result.error == f"{BRANCH} has a commit by Fleet Tester: left open"
    assert result.human == "Fleet Tester"
    assert again == result
    assert remote_sha(remote) == human
    assert fake.pulls[1].state == "open" and "placement:withdrawn" not in fake.pulls[1].labels
    [comment] = fake.pulls[1].comments
    assert (
        comment.startswith("not stuck\n\n") and "<!-- placement-reconciler:left-open -->" in comment
    )


def test_a_withdrawal_is_marked_and_read_back_as_no_veto(
    fake: FakeGitHub, workspace: Workspace
) -> None:
    opened(fake, workspace)
    assert pull_requests(fake).propose(WEB_MOVE, workspace=workspace).action == "opened"
    fake.close(2)  # a human veto

    pull_requests(fake).withdraw("ray-pred", why="not stuck", workspace=workspace)

    assert "placement:withdrawn" in fake.pulls[1].labels
    assert fake.pulls[1].comments[-1].rstrip().endswith("<!-- placement-reconciler:withdrawn -->")
    moves = pull_requests(fake).closed_moves(since=START)
    assert [(m.number, m.merged, m.withdrawn) for m in moves] == [
        (1, False, True),
        (2, False, False),
    ]


def test_a_withdrawn_pr_reopened_and_closed_by_a_person_is_a_veto(
    fake: FakeGitHub, workspace: Workspace
) -> None:
    opened(fake, workspace)
    pull_requests(fake).withdraw("ray-pred", why="not stuck", workspace=workspace)
    fake.reopen(1)  # a person wants it after all; the bot proposes it again, then ...

    assert pull_requests(fake).propose(RAY_MOVE, workspace=workspace).number == 1
    fake.close(1)  # ... a person closes it: that close is theirs

    assert "placement:withdrawn" not in fake.pulls[1].labels
    [move] = pull_requests(fake).closed_moves(since=START)
    assert (move.number, move.withdrawn, move.vetoed) == (1, False, True)


def test_the_branch_of_a_merged_pr_is_deleted_only_while_it_holds_what_was_merged(
    fake: FakeGitHub, workspace: Workspace, remote: Path
) -> None:
    opened(fake, workspace)
    fake.merge(1)
    merged = pull_requests(fake).closed_moves(since=START)
    assert [(m.number, m.head_sha) for m in merged] == [(1, remote_sha(remote))]
    git(remote, "update-ref", f"refs/heads/{BRANCH}", "main")  # moved on: the next PR's

    assert pull_requests(fake).delete_merged_branches(merged, workspace=workspace) == []
    assert remote_sha(remote) == remote_sha(remote, "main")

    git(remote, "update-ref", f"refs/heads/{BRANCH}", merged[0].head_sha)
    assert pull_requests(fake).delete_merged_branches(merged, workspace=workspace) == [BRANCH]
    assert remote_sha(remote) is None
    assert pull_requests(fake).delete_merged_branches(merged, workspace=workspace) == []


# Reading the memory back


def test_open_moves_reads_markers_and_ignores_other_prs(
    fake: FakeGitHub, workspace: Workspace, remote: Path
) -> None:
    opened(fake, workspace)
    git(remote, "branch", "placement/web", "main")
    git(remote, "branch", "feature", "main")
    fake.open_pull(head="placement/web", title="my web change", body="no marker here")
    fake.open_pull(
        head="feature",
        title="copied",
        body=f"<!-- {MARKER} group=web from=onprem to=cloud reason=x -->",
    )

    moves = pull_requests(fake).open_moves()

    assert [(m.group, m.source, m.target, m.reason, m.number) for m in moves] == [
        ("ray-pred", "onprem", "cloud", "upgrade-stalled", 1)
    ]
    assert moves[0].head_sha == remote_sha(remote)


def test_closed_moves_tell_a_human_veto_from_a_merged_move(
    fake: FakeGitHub, workspace: Workspace, remote: Path, tmp_path: Path
) -> None:
    opened(fake, workspace)
    assert pull_requests(fake).propose(WEB_MOVE, workspace=workspace).action == "opened"
    fake.close(2)  # a human veto
    fake.merge(1)

    moves = pull_requests(fake).closed_moves(since=START)

    assert [(m.group, m.number, m.merged) for m in moves] == [
        ("ray-pred", 1, True),
        ("web", 2, False),
    ]
    assert moves[0].merged_at == moves[0].closed_at and moves[1].merged_at is None
    assert pull_requests(fake).open_moves() == []
    assert pull_requests(fake).closed_moves(since=moves[0].closed_at) == moves[:1]
    # The merge put the bot's commit, trailers and all, on main: the move is in history.
    [record] = read_moves(clone(remote, tmp_path / "after"), ref="main")
    assert (record.group, record.source, record.target) == ("ray-pred", "onprem", "cloud")


def test_closed_moves_page_through_and_stop_at_since(fake: FakeGitHub, remote: Path) -> None:
    git(remote, "branch", "placement/web", "main")
    for n in range(7):
        body = f"<!-- {MARKER} group=web from=onprem to=cloud reason=r{n} -->"
        fake.close(fake.open_pull(head="placement/web", title=f"#{n}", body=body, user="bot"))
    since = fake.pulls[5].closed_at
    assert since is not None

    moves = pull_requests(fake, per_page=2).closed_moves(since=since)

    assert [m.number for m in moves] == [7, 6, 5]  # since is inclusive
    pages = fake.requests_to("GET", "/repos/org/fleet/pulls")
    assert [r.query.get("page", "1") for r in pages] == ["1", "2"]  # no more than needed
    assert all(m.closed_at >= since for m in moves)


# Rate limits and failures


@pytest.mark.parametrize("kind", ["primary", "secondary", "retry-after"])
def test_a_rate_limit_after_pygithubs_retries_raises_rate_limited_without_waiting(
    fake: FakeGitHub, kind: str
) -> None:
    fake.rate_limit_next(10, kind=kind)
    started = time.monotonic()

    with pytest.raises(RateLimited, match="rate limit"):
        pull_requests(fake).open_moves()

    assert time.monotonic() - started < 2
    assert len(fake.log) == 3  # the first try and PyGithub's two retries


def test_a_passing_rate_limit_is_retried_by_pygithub(
    fake: FakeGitHub, workspace: Workspace
) -> None:
    fake.rate_limit_next(1, kind="secondary")

    assert pull_requests(fake).open_moves() == []
    assert [r.status for r in fake.log] == [403, 200, 200]  # the repo, again; its pulls


def test_propose_stops_on_a_rate_limit(fake: FakeGitHub, workspace: Workspace) -> None:
    fake.rate_limit_next(10)

    with pytest.raises(RateLimited):
        pull_requests(fake).propose(RAY_MOVE, workspace=workspace)


def test_bad_credentials_fail_the_proposal_and_a_read(
    fake: FakeGitHub, workspace: Workspace
) -> None:
    prs = PullRequests(client(fake, token="wrong"), repo="org/fleet", base="main", bot_email=BOT)

    result = prs.propose(RAY_MOVE, workspace=workspace)

    assert result.action == "failed"
    assert result.error == "cannot propose moving ray-pred: GitHub answered 401: Bad credentials"
    with pytest.raises(GitHubUnavailable, match="401"):
        prs.open_moves()


def test_closed_moves_take_a_naive_since_as_utc(fake: FakeGitHub, workspace: Workspace) -> None:
    opened(fake, workspace)
    fake.close(1)

    moves = pull_requests(fake).closed_moves(since=START.replace(tzinfo=None))

    assert [m.number for m in moves] == [1]
    assert moves[0].closed_at.tzinfo is not None
    assert moves[0].closed_at > START - dt.timedelta(seconds=1)


def test_parse_marker_reads_the_fields_and_rejects_partial_ones() -> None:
    body = f"evidence\n\n<!-- {MARKER} group=g from=a to=b reason=capacity -->\n"
    assert parse_marker(body) == {"group": "g", "from": "a", "to": "b", "reason": "capacity"}
    assert parse_marker(f"<!-- {MARKER} group=g -->") is None
    assert parse_marker("no marker") is None
    assert parse_marker(None) is None
