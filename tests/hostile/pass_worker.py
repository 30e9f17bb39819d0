"""A reconciler process for the hostile tests: `python -m tests.hostile.pass_worker '<json>'`.

It opens its own clone of the fleet repo (`repo` URL, `workdir`), touches `ready` once
imported and waits until the file `start` exists (so that several workers begin at
once), runs `passes` passes in `mode` (direct, or pr against the fake GitHub at
`base_url` with `token`, unpaced), and prints one JSON line per pass: what it wrote
(in pr mode also every commit it pushed).

With `crash_at` set, it SIGKILLs itself at that step of a move (see CRASH_POINTS): the
step's function is wrapped so the process dies right after (or, for `before-checkout`,
right before) it, as a power cut or an OOM kill would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubRetry

from reconciler.github import branch_publish, pull_requests
from reconciler.github.credentials import GitHubCredential, git_push_env
from reconciler.gitrepo import branch
from reconciler.gitrepo import workspace as git_writer
from reconciler.gitrepo.branch import UP_TO_DATE
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR, Workspace
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import snapshot_status
from reconciler.reconcile.writers import DirectWriter, PullRequestWriter

PUSHED: list[dict[str, str]] = []


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _after(owner: Any, name: str, *, when: Callable[[Any], bool] = lambda _: True) -> None:
    original = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when(result):
            _die()
        return result

    setattr(owner, name, wrapped)


def _before(owner: Any, name: str) -> None:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _die()

    setattr(owner, name, wrapped)


# Each step of a move, in order, and how to die there.
CRASH_POINTS: dict[str, Callable[[], None]] = {
    # direct: the commit object exists (built off to the side), nothing pushed yet
    "direct:after-commit": lambda: _after(git_writer, "build_move_commit"),
    # direct: origin has the commit, the local branch has not moved
    "direct:after-push": lambda: _after(git_writer, "push", when=lambda p: p in ("", UP_TO_DATE)),
    # direct: the local branch moved, the working tree has not followed (journal written)
    "direct:after-branch-moved": lambda: _before(branch, "_update_checkout"),
    # direct: the working tree changed, the journal not yet removed
    "direct:after-working-tree": lambda: _after(branch, "_update_checkout"),
    # pr: the move commit for the branch exists, nothing pushed
    "pr:after-commit": lambda: _after(branch_publish, "build_move_commit"),
    # pr: placement/<group> pushed, no pull request yet
    "pr:after-push": lambda: _after(branch_publish, "push", when=lambda p: not p),
    # pr: the pull request is open, without labels
    "pr:after-pr-created": lambda: _after(pull_requests.PullRequests, "_create"),
    # pr: labels added, the pass not finished
    "pr:after-labels": lambda: _after(pull_requests.PullRequests, "_label"),
}


def _record_publishes() -> None:
    original = pull_requests.publish_move_branch

    def recording(*args: Any, **kwargs: Any) -> branch_publish.PublishResult:
        result = original(*args, **kwargs)
        if result.pushed:
            PUSHED.append({"branch": result.branch, "commit": result.commit})
        return result

    pull_requests.publish_move_branch = recording  # type: ignore[assignment]


def _pulls(options: dict[str, Any]) -> pull_requests.PullRequests:
    client = Github(
        base_url=options["base_url"],
        auth=Auth.Token(options["token"]),
        retry=GithubRetry(total=2, backoff_factor=0, secondary_rate_wait=0),
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return pull_requests.PullRequests(
        client,
        repo="org/fleet",
        base="main",
        bot_email=DEFAULT_AUTHOR[1],
        secrets=[options["token"]],
    )


def main(options: dict[str, Any]) -> None:
    now = dt.datetime.fromisoformat(options["now"].replace("Z", "+00:00"))
    status = snapshot_status(Path(options["snapshots"]))
    crash_at = options.get("crash_at", "")
    if crash_at:
        CRASH_POINTS[crash_at]()
    _record_publishes()
    if options.get("ready"):
        Path(options["ready"]).touch()
    start = Path(options["start"]) if options.get("start") else None
    while start is not None and not start.exists():
        time.sleep(0.005)
    for number in range(int(options.get("passes", 1))):
        workspace = Workspace.open(
            options["repo"], branch="main", workdir=Path(options["workdir"]), sleep=lambda _: None
        )
        record: dict[str, Any] = {"pass": number}
        if options["mode"] == "pr":
            credential = GitHubCredential(kind="token", token=options["token"])
            outcome = run_pass(
                workspace,
                status=status,
                writer=PullRequestWriter(_pulls(options)),
                now=now,
                git_env=git_push_env(credential, base_url=options["base_url"]),
            )
            record["proposals"] = [
                [r.group, r.action, r.number, r.error] for r in outcome.results if not r.withdrawal
            ]
            record["withdrawals"] = [
                [r.group, r.action, r.number, r.error] for r in outcome.results if r.withdrawal
            ]
            record["pushed"] = list(PUSHED)
            PUSHED.clear()
        else:
            result = run_pass(workspace, status=status, writer=DirectWriter(), now=now)
            record["results"] = [
                [r.group, r.commit, r.pushed, r.error, r.action == "already-moved"]
                for r in result.results
            ]
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
