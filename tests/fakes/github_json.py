"""The JSON the fake GitHub answers with: the fields PyGithub reads, shaped as GitHub's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from werkzeug.wrappers import Response

BOT_LOGIN = "placement-bot"


@dataclasses.dataclass
class FakePull:
    """One pull request as the fake stores it."""

    number: int
    head: str
    base: str
    title: str
    body: str
    user: str
    created_at: dt.datetime
    updated_at: dt.datetime
    state: str = "open"
    merged: bool = False
    labels: list[str] = dataclasses.field(default_factory=list)
    comments: list[str] = dataclasses.field(default_factory=list)
    closed_at: dt.datetime | None = None
    merged_at: dt.datetime | None = None
    head_sha: str = ""


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, headers=headers, content_type="application/json"
    )


def validation_failed(error: dict[str, str]) -> Response:
    return json_response({"message": "Validation Failed", "errors": [error]}, status=422)


def repo_json(base_url: str, repo: str) -> dict[str, Any]:
    owner, name = repo.split("/")
    return {
        "id": 1,
        "name": name,
        "full_name": repo,
        "owner": {"login": owner, "id": 1, "type": "Organization"},
        "private": True,
        "html_url": f"{base_url}/{repo}",
        "url": f"{base_url}/repos/{repo}",
        "clone_url": f"{base_url}/{repo}.git",
        "default_branch": "main",
    }


def pull_json(
    base_url: str, repo: str, pull: FakePull, branches: dict[str, str], *, full: bool = True
) -> dict[str, Any]:
    """A pull request; `merged` only when full (GitHub leaves it out of lists)."""
    api = f"{base_url}/repos/{repo}"
    repository = repo_json(base_url, repo)
    owner = repository["owner"]
    head_sha = branches.get(pull.head, pull.head_sha) if pull.state == "open" else pull.head_sha
    data: dict[str, Any] = {
        "url": f"{api}/pulls/{pull.number}",
        "id": pull.number,
        "number": pull.number,
        "html_url": f"{base_url}/{repo}/pull/{pull.number}",
        "issue_url": f"{api}/issues/{pull.number}",
        "comments_url": f"{api}/issues/{pull.number}/comments",
        "state": pull.state,
        "title": pull.title,
        "body": pull.body,
        "user": {"login": pull.user, "id": 2, "type": "User"},
        "labels": [label_json(name) for name in pull.labels],
        "created_at": iso(pull.created_at),
        "updated_at": iso(pull.updated_at),
        "closed_at": iso(pull.closed_at),
        "merged_at": iso(pull.merged_at),
        "draft": False,
        "head": {
            "label": f"{owner['login']}:{pull.head}",
            "ref": pull.head,
            "sha": head_sha,
            "user": owner,
            "repo": repository,
        },
        "base": {
            "label": f"{owner['login']}:{pull.base}",
            "ref": pull.base,
            "sha": branches.get(pull.base, ""),
            "user": owner,
            "repo": repository,
        },
    }
    if full:
        data["merged"] = pull.merged
    return data


def comment_json(base_url: str, repo: str, pull: FakePull, index: int) -> dict[str, Any]:
    api = f"{base_url}/repos/{repo}"
    comment_id = pull.number * 1000 + index
    return {
        "id": comment_id,
        "body": pull.comments[index],
        "user": {"login": BOT_LOGIN, "id": 3, "type": "Bot"},
        "url": f"{api}/issues/comments/{comment_id}",
        "html_url": f"{base_url}/{repo}/pull/{pull.number}#issuecomment-{comment_id}",
        "issue_url": f"{api}/issues/{pull.number}",
        "created_at": iso(pull.updated_at),
        "updated_at": iso(pull.updated_at),
    }


def commit_json(base_url: str, repo: str, sha: str) -> dict[str, Any]:
    api = f"{base_url}/repos/{repo}"
    return {
        "sha": sha,
        "url": f"{api}/commits/{sha}",
        "html_url": f"{base_url}/{repo}/commit/{sha}",
    }


def label_json(name: str) -> dict[str, Any]:
    return {"id": sum(name.encode()), "name": name, "color": "ededed", "default": False}


def iso(moment: dt.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
