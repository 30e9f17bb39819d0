"""A small stateful fake of the GitHub REST API, on 127.0.0.1, for PyGithub to talk to.

It holds one repository linked to a real bare git repo (branches are read from it, a
merge is a real `git merge --no-ff`), its pull requests with labels and comments, and
serves exactly the endpoints the reconciler uses. It also serves that bare repo over
git's smart HTTP at `/<owner>/<name>.git` (Basic auth, `x-access-token`), and can answer
with rate limits, a 502 after storing a pull request, and a request log for assertions.
Timestamps come from a clock that moves one minute per change, so tests are exact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from .git_http import serve_git
from .github_json import (
    BOT_LOGIN,
    FakePull,
    comment_json,
    commit_json,
    json_response,
    label_json,
    pull_json,
    repo_json,
    validation_failed,
)

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
_Handler = Callable[[Request, re.Match[str]], Response]


class _QuickStopServer(HTTPServer):
    """pytest-httpserver's server, polling for shutdown often so a test ends at once."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.01)


@dataclasses.dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int


class FakeGitHub:
    """The fake: `with FakeGitHub(remote=...) as fake:` serves it at `fake.base_url`."""

    def __init__(
        self, *, remote: Path, repo: str = "org/fleet", tokens: tuple[str, ...] = ("test-token",)
    ) -> None:
        self.remote = remote
        self.repo = repo
        self.owner = repo.split("/")[0]
        self.tokens = set(tokens)
        self.pulls: dict[int, FakePull] = {}
        self.log: list[LoggedRequest] = []
        self.now = START
        self.installation_tokens: list[str] = []
        self.statuses: list[dict[str, str]] = []  # commit statuses, in the order set
        self._lock = threading.RLock()
        self._server = _QuickStopServer(host="127.0.0.1", port=0, threaded=True)
        self._rate_limits: list[str] = []
        self._fail_create = 0
        self._lookup_barrier: threading.Barrier | None = None
        api = f"/repos/{re.escape(repo)}"
        self._routes: list[tuple[str, re.Pattern[str], _Handler]] = [
            ("GET", re.compile(rf"{api}"), self._get_repo),
            ("GET", re.compile(rf"{api}/pulls"), self._list_pulls),
            ("POST", re.compile(rf"{api}/pulls"), self._create_pull),
            ("GET", re.compile(rf"{api}/pulls/(?P<n>\d+)"), self._get_pull),
            ("PATCH", re.compile(rf"{api}/pulls/(?P<n>\d+)"), self._edit_pull),
            ("GET", re.compile(rf"{api}/issues/(?P<n>\d+)/labels"), self._get_labels),
            ("POST", re.compile(rf"{api}/issues/(?P<n>\d+)/labels"), self._add_labels),
            (
                "DELETE",
                re.compile(rf"{api}/issues/(?P<n>\d+)/labels/(?P<name>[^/]+)"),
                self._remove_label,
            ),
            ("GET", re.compile(rf"{api}/issues/(?P<n>\d+)/comments"), self._get_comments),
            ("POST", re.compile(rf"{api}/issues/(?P<n>\d+)/comments"), self._add_comment),
            ("PATCH", re.compile(rf"{api}/issues/comments/(?P<id>\d+)"), self._edit_comment),
            ("GET", re.compile(rf"{api}/commits/(?P<sha>[0-9a-f]{{40}})"), self._get_commit),
            ("POST", re.compile(rf"{api}/statuses/(?P<sha>[0-9a-f]{{40}})"), self._add_status),
            ("DELETE", re.compile(rf"{api}/git/refs/heads/(?P<ref>.+)"), self._delete_ref),
            ("POST", re.compile(r"/app/installations/(?P<id>\d+)/access_tokens"), self._app_token),
        ]

    # Serving

    def __enter__(self) -> FakeGitHub:
        self._server.expect_request(re.compile(".*")).respond_with_handler(self._handle)
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.clear()
        if self._server.is_running():
            self._server.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def git_url(self) -> str:
        return f"{self.base_url}/{self.repo}.git"

    # Helpers for tests

    def rate_limit_next(self, n: int, *, kind: str = "primary") -> None:
        """Answer the next n API requests with a rate limit: primary, secondary or retry-after."""
        assert kind in ("primary", "secondary", "retry-after"), kind
        with self._lock:
            self._rate_limits += [kind] * n

    def fail_next_create_after_commit(self) -> None:
        """The next pull-request creation is stored, but answered 502."""
        with self._lock:
            self._fail_create += 1

    def hold_open_lookups(self, parties: int) -> None:
        """The next `parties` look-ups of open PRs by head wait for each other, then answer."""
        self._lookup_barrier = threading.Barrier(parties, timeout=30)

    def open_pull(
        self, *, head: str, title: str, body: str, user: str = "alice", base: str = "main"
    ) -> int:
        """A pull request opened by someone else (not through the API under test)."""
        with self._lock:
            return self._store_pull(head=head, base=base, title=title, body=body, user=user).number

    def merge(self, number: int) -> str:
        """Merge the PR with a real `git merge --no-ff` into its base, pushed to the remote."""
        with self._lock:
            pull = self.pulls[number]
            assert pull.state == "open", f"#{number} is {pull.state}"
            with tempfile.TemporaryDirectory(prefix="fake-github-merge-") as scratch:
                work = Path(scratch)
                _git(work, "clone", "--quiet", "--branch", pull.base, str(self.remote), "w")
                work = work / "w"
                message = (
                    f"Merge pull request #{number} from {self.owner}/{pull.head}\n\n{pull.title}"
                )
                _git(work, "merge", "--no-ff", "--quiet", "-m", message, f"origin/{pull.head}")
                _git(work, "push", "--quiet", "origin", f"HEAD:refs/heads/{pull.base}")
                merge_commit = _git(work, "rev-parse", "HEAD")
            pull.head_sha = self._branches().get(pull.head, pull.head_sha)
            pull.state, pull.merged = "closed", True
            pull.closed_at = pull.merged_at = pull.updated_at = self._tick()
            return merge_commit

    def close(self, number: int) -> None:
        """A human closes the PR without merging."""
        with self._lock:
            pull = self.pulls[number]
            pull.state = "closed"
            pull.closed_at = pull.updated_at = self._tick()

    def reopen(self, number: int) -> None:
        """A human reopens a PR closed without merging."""
        with self._lock:
            pull = self.pulls[number]
            assert pull.state == "closed" and not pull.merged, f"#{number} cannot be reopened"
            pull.state, pull.closed_at = "open", None
            pull.updated_at = self._tick()

    def requests_to(self, method: str, path_pattern: str) -> list[LoggedRequest]:
        """The logged requests with this method whose path matches the pattern."""
        pattern = re.compile(path_pattern)
        return [r for r in self.log if r.method == method and pattern.fullmatch(r.path)]

    def expire_token(self, token: str) -> None:
        """GitHub no longer accepts the token (an installation token past its expires_at)."""
        with self._lock:
            self.tokens.discard(token)

    def branch_sha(self, branch: str) -> str | None:
        return self._branches().get(branch)

    # Dispatch

    def _handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith(f"/{self.repo}.git/"):
            suffix = path[len(f"/{self.repo}.git") :]
            return serve_git(request, remote=self.remote, suffix=suffix, tokens=self.tokens)
        response = self._answer(request)
        query = {key: request.args[key] for key in request.args}
        self.log.append(LoggedRequest(request.method, path, query, response.status_code))
        return response

    def _answer(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        scheme, _, credential = auth.partition(" ")
        is_app_jwt = scheme == "Bearer" and credential.count(".") == 2
        if not (scheme in ("token", "Bearer") and (credential in self.tokens or is_app_jwt)):
            return json_response({"message": "Bad credentials"}, status=401)
        if is_app_jwt and not request.path.startswith("/app/"):
            return json_response({"message": "A JSON web token cannot be used here"}, status=401)
        limited = self._take_rate_limit()
        if limited:
            return limited
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                if handler == self._list_pulls and request.args.get("head"):
                    self._wait_for_other_lookups()
                with self._lock:
                    return handler(request, match)
        return json_response({"message": "Not Found"}, status=404)

    def _take_rate_limit(self) -> Response | None:
        with self._lock:
            if not self._rate_limits:
                return None
            kind = self._rate_limits.pop(0)
        if kind == "primary":
            # The reset lies in the past so a client may retry at once (no real waiting).
            headers = {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) - 1),
            }
            return json_response(
                {"message": "API rate limit exceeded for user ID 1."}, 403, headers
            )
        if kind == "secondary":
            message = (
                "You have exceeded a secondary rate limit. "
                "Please wait a few minutes before you try again."
            )
            return json_response({"message": message}, status=403)
        return json_response({"message": "Too many requests"}, 429, {"Retry-After": "0"})

    def _wait_for_other_lookups(self) -> None:
        barrier = self._lookup_barrier
        if barrier is None:
            return
        try:
            if barrier.wait() == 0:
                self._lookup_barrier = None
        except threading.BrokenBarrierError:  # the other party never came: answer anyway
            self._lookup_barrier = None

    # Endpoints

    def _get_repo(self, request: Request, match: re.Match[str]) -> Response:
        return json_response(repo_json(self.base_url, self.repo))

    def _list_pulls(self, request: Request, match: re.Match[str]) -> Response:
        args = request.args
        state = args.get("state", "open")
        pulls = [p for p in self.pulls.values() if state == "all" or p.state == state]
        if "head" in args:
            owner, _, ref = args["head"].partition(":")
            pulls = [p for p in pulls if owner == self.owner and p.head == ref]
        if "base" in args:
            pulls = [p for p in pulls if p.base == args["base"]]
        sort = args.get("sort", "created")
        direction = args.get("direction", "desc" if sort == "created" else "asc")
        key = (lambda p: (p.updated_at, p.number)) if sort == "updated" else (lambda p: p.number)
        pulls.sort(key=key, reverse=direction == "desc")
        per_page, page = int(args.get("per_page", 30)), int(args.get("page", 1))
        pages = max(1, -(-len(pulls) // per_page))
        chunk = pulls[(page - 1) * per_page : page * per_page]
        branches = self._branches()
        headers = {}
        if page < pages:
            params = {**{k: args[k] for k in args}, "per_page": str(per_page)}
            url = f"{self.base_url}{request.path}"
            next_url = f"{url}?{urlencode({**params, 'page': str(page + 1)})}"
            last_url = f"{url}?{urlencode({**params, 'page': str(pages)})}"
            headers["Link"] = f'<{next_url}>; rel="next", <{last_url}>; rel="last"'
        return json_response(
            [pull_json(self.base_url, self.repo, p, branches, full=False) for p in chunk],
            headers=headers,
        )

    def _create_pull(self, request: Request, match: re.Match[str]) -> Response:
        data = request.get_json()
        head = str(data.get("head", "")).removeprefix(f"{self.owner}:")
        base = str(data.get("base", ""))
        branches = self._branches()
        if head not in branches or base not in branches:
            field = "head" if head not in branches else "base"
            return validation_failed({"resource": "PullRequest", "field": field, "code": "invalid"})
        if any(
            p.state == "open" and p.head == head and p.base == base for p in self.pulls.values()
        ):
            message = f"A pull request already exists for {self.owner}:{head}."
            return validation_failed(
                {"resource": "PullRequest", "code": "custom", "message": message}
            )
        if _is_ancestor(self.remote, branches[head], branches[base]):
            message = f"No commits between {base} and {head}"
            return validation_failed(
                {"resource": "PullRequest", "code": "custom", "message": message}
            )
        pull = self._store_pull(
            head=head, base=base, title=data["title"], body=data.get("body") or "", user=BOT_LOGIN
        )
        if self._fail_create:
            self._fail_create -= 1
            return json_response({"message": "Server Error"}, status=502)
        return json_response(pull_json(self.base_url, self.repo, pull, branches), status=201)

    def _get_pull(self, request: Request, match: re.Match[str]) -> Response:
        pull = self.pulls.get(int(match["n"]))
        if pull is None:
            return json_response({"message": "Not Found"}, status=404)
        return json_response(pull_json(self.base_url, self.repo, pull, self._branches()))

    def _edit_pull(self, request: Request, match: re.Match[str]) -> Response:
        pull = self.pulls.get(int(match["n"]))
        if pull is None:
            return json_response({"message": "Not Found"}, status=404)
        data = request.get_json()
        pull.title = data.get("title", pull.title)
        pull.body = data.get("body", pull.body)
        if data.get("state") == "closed" and pull.state == "open":
            pull.state, pull.closed_at = "closed", self._tick()
        elif data.get("state") == "open" and pull.state == "closed" and not pull.merged:
            pull.state, pull.closed_at = "open", None
        pull.updated_at = self._tick()
        return json_response(pull_json(self.base_url, self.repo, pull, self._branches()))

    def _get_labels(self, request: Request, match: re.Match[str]) -> Response:
        pull = self.pulls[int(match["n"])]
        return json_response([label_json(name) for name in pull.labels])

    def _add_labels(self, request: Request, match: re.Match[str]) -> Response:
        pull = self.pulls[int(match["n"])]
        data = request.get_json()
        names = data["labels"] if isinstance(data, dict) else data
        pull.labels += [name for name in names if name not in pull.labels]
        pull.updated_at = self._tick()
        return json_response([label_json(name) for name in pull.labels])

    def _remove_label(self, request: Request, match: re.Match[str]) -> Response:
        pull = self.pulls[int(match["n"])]
        if match["name"] not in pull.labels:
            return json_response({"message": "Label does not exist"}, status=404)
        pull.labels.remove(match["name"])
        pull.updated_at = self._tick()
        return json_response([label_json(name) for name in pull.labels])

    def _get_comments(self, request: Request, match: re.Match[str]) -> Response:
        pull = self.pulls[int(match["n"])]
        return json_response(
            [comment_json(self.base_url, self.repo, pull, i) for i in range(len(pull.comments))]
        )

    def _add_comment(self, request: Request, match: re.Match[str]) -> Response:
        pull = self.pulls[int(match["n"])]
        pull.comments.append(request.get_json()["body"])
        pull.updated_at = self._tick()
        return json_response(
            comment_json(self.base_url, self.repo, pull, len(pull.comments) - 1), status=201
        )

    def _edit_comment(self, request: Request, match: re.Match[str]) -> Response:
        number, index = divmod(int(match["id"]), 1000)
        pull = self.pulls.get(number)
        if pull is None or index >= len(pull.comments):
            return json_response({"message": "Not Found"}, status=404)
        pull.comments[index] = request.get_json()["body"]
        pull.updated_at = self._tick()
        return json_response(comment_json(self.base_url, self.repo, pull, index))

    def _get_commit(self, request: Request, match: re.Match[str]) -> Response:
        return json_response(commit_json(self.base_url, self.repo, match["sha"]))

    def _add_status(self, request: Request, match: re.Match[str]) -> Response:
        body = request.get_json()
        status = {"sha": match["sha"], **{k: str(v) for k, v in body.items()}}
        self.statuses.append(status)
        return json_response({"id": len(self.statuses), **status}, status=201)

    def _delete_ref(self, request: Request, match: re.Match[str]) -> Response:
        if match["ref"] not in self._branches():
            return json_response({"message": "Reference does not exist"}, status=422)
        _git(self.remote, "update-ref", "-d", f"refs/heads/{match['ref']}")
        return Response(status=204)

    def _app_token(self, request: Request, match: re.Match[str]) -> Response:
        token = f"ghs_{secrets.token_hex(12)}"
        self.tokens.add(token)
        self.installation_tokens.append(token)
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json_response({"token": token, "expires_at": expires, "permissions": {}}, status=201)

    # State and JSON

    def _tick(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now

    def _store_pull(self, *, head: str, base: str, title: str, body: str, user: str) -> FakePull:
        now = self._tick()
        number = max(self.pulls, default=0) + 1
        pull = FakePull(number, head, base, title, body, user, created_at=now, updated_at=now)
        pull.head_sha = self._branches().get(head, "")
        self.pulls[number] = pull
        return pull

    def _branches(self) -> dict[str, str]:
        listing = _git(
            self.remote, "for-each-ref", "--format=%(refname:lstrip=2) %(objectname)", "refs/heads"
        )
        return dict(line.split(" ", 1) for line in listing.splitlines())


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "GitHub",
        "GIT_AUTHOR_EMAIL": "noreply@github.com",
        "GIT_COMMITTER_NAME": "GitHub",
        "GIT_COMMITTER_EMAIL": "noreply@github.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr.decode()}")
    return done.stdout.decode().rstrip("\n")


def _is_ancestor(repo: Path, older: str, newer: str) -> bool:
    done = subprocess.run(
        ["git", "merge-base", "--is-ancestor", older, newer],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0
