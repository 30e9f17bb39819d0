"""GitHub credentials: read from the environment or a file, used for API and git, never shown."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github, GithubRetry

from reconciler.github.branch_publish import publish_move_branch
from reconciler.github.credentials import (
    CredentialError,
    GitHubCredential,
    authenticate_git,
    credential_from_env,
    git_host_url,
    git_push_env,
    github_client,
    redact,
)
from reconciler.github.move_pull_request import MoveProposal, RateLimited
from reconciler.github.pull_requests import PullRequests
from reconciler.gitrepo.workspace import Move, Workspace
from tests.fleet_repo import BOT_EMAIL, MOVE_BRANCH, git, move_message

from ..fakes.github_server import FakeGitHub

SECRET = "ghp_TESTSECRET123"
BOT = BOT_EMAIL
BRANCH = MOVE_BRANCH
RAY_TO_CLOUD = Move("ray-pred", "onprem", "cloud", move_message("ray-pred", "onprem", "cloud"))


@pytest.fixture
def fake(remote: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub(remote=remote, tokens=(SECRET,)) as server:
        yield server


@pytest.fixture
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def http_workspace(fake: FakeGitHub, tmp_path: Path, env: dict[str, str]) -> Workspace:
    """A clone of the fake's repo over http, authenticated by the header env."""
    dest = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", "--branch", "main", fake.git_url, str(dest), env=env)
    return Workspace.open(str(dest), branch="main")


# Reading the credential


def test_a_token_from_the_environment_or_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"{SECRET}\n")

    assert credential_from_env({"GITHUB_TOKEN": SECRET}) == GitHubCredential("token", SECRET)
    from_file = credential_from_env({"GITHUB_TOKEN_FILE": str(token_file)})
    assert from_file == GitHubCredential("token", SECRET)
    assert credential_from_env({}) is None


def test_a_github_app_from_the_environment(tmp_path: Path, private_key_pem: str) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_key_pem)
    env = {
        "GITHUB_APP_ID": "12345",
        "GITHUB_APP_INSTALLATION_ID": "678",
        "GITHUB_APP_PRIVATE_KEY_FILE": str(key_file),
    }

    credential = credential_from_env(env)

    assert credential is not None
    assert (credential.kind, credential.app_id, credential.installation_id) == ("app", "12345", 678)
    assert credential.private_key == private_key_pem.strip()
    assert "PRIVATE KEY" not in repr(credential) and "PRIVATE" not in str(credential)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_APP_ID": "1"}, "GITHUB_APP_INSTALLATION_ID, GITHUB_APP_PRIVATE_KEY_FILE"),
        (
            {
                "GITHUB_APP_ID": "1",
                "GITHUB_APP_INSTALLATION_ID": "abc",
                "GITHUB_APP_PRIVATE_KEY_FILE": "/nonexistent",
            },
            "must be a number",
        ),
        ({"GITHUB_TOKEN_FILE": "/nonexistent/token"}, "cannot read /nonexistent/token"),
    ],
)
def test_an_incomplete_credential_is_an_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(CredentialError, match=message):
        credential_from_env(env)


def test_the_repr_shows_no_token() -> None:
    credential = GitHubCredential("token", SECRET)
    assert SECRET not in repr(credential) and SECRET not in str(credential)
    assert SECRET not in f"{credential!r} {[credential]}"


def test_github_client_authenticates_as_the_app_installation(private_key_pem: str) -> None:
    credential = GitHubCredential(
        "app", app_id="12345", installation_id=678, private_key=private_key_pem
    )

    client = github_client(credential, base_url="https://ghe.example.com/api/v3")

    auth = client.requester.auth
    assert isinstance(auth, Auth.AppInstallationAuth)
    assert (auth.app_id, auth.installation_id) == ("12345", 678)
    assert client.requester.base_url == "https://ghe.example.com/api/v3"
    assert isinstance(client.requester.kwargs["retry"], GithubRetry)  # PyGithub's own, kept


def test_github_client_uses_a_token() -> None:
    client = github_client(GitHubCredential("token", SECRET), base_url="https://api.github.com")
    assert isinstance(client.requester.auth, Auth.Token)
    assert client.requester.auth.token == SECRET


# Git over https


def test_git_push_env_carries_the_token_in_a_header_for_the_git_host_only() -> None:
    env = git_push_env(GitHubCredential("token", SECRET), base_url="https://api.github.com")

    assert env["GIT_CONFIG_COUNT"] == "1"
    assert env["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraHeader"
    scheme, value = env["GIT_CONFIG_VALUE_0"].removeprefix("Authorization: ").split(" ")
    assert (scheme, base64.b64decode(value).decode()) == ("Basic", f"x-access-token:{SECRET}")
    assert not any(SECRET in name for name in env)


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_the_git_host_of_an_api_url(base_url: str, host: str) -> None:
    assert git_host_url(base_url) == host


def test_redact_removes_the_secret_and_its_base64_forms() -> None:
    basic = base64.b64encode(f"x-access-token:{SECRET}".encode()).decode()
    plain = base64.b64encode(SECRET.encode()).decode()
    text = f"token {SECRET}; Authorization: Basic {basic}; raw {plain}"

    assert redact(text, secrets=[SECRET]) == "token ***; Authorization: Basic ***; raw ***"
    assert redact("nothing here", secrets=["", "ab"]) == "nothing here"


def test_git_over_http_works_with_the_header_and_fails_without(
    fake: FakeGitHub, remote: Path, tmp_path: Path
) -> None:
    env = git_push_env(GitHubCredential("token", SECRET), base_url=fake.base_url)
    workspace = http_workspace(fake, tmp_path, env)

    refused = publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT)
    result = publish_move_branch(
        workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT, push_env=env
    )

    assert refused.error and not refused.pushed
    assert (result.pushed, result.error) == (True, "")
    assert fake.branch_sha(BRANCH) == result.commit
    assert SECRET not in git(workspace.path, "config", "--list")  # nothing stored in the clone


def test_an_app_pushes_with_its_installation_token(
    fake: FakeGitHub, tmp_path: Path, private_key_pem: str
) -> None:
    credential = GitHubCredential("app", app_id="1", installation_id=9, private_key=private_key_pem)
    github_client(credential, base_url=fake.base_url, seconds_between_writes=None)

    env = git_push_env(credential, base_url=fake.base_url)
    workspace = http_workspace(fake, tmp_path, env)
    result = publish_move_branch(
        workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT, push_env=env
    )

    assert result.pushed
    [token] = fake.installation_tokens
    assert token in credential.secrets() and token not in repr(credential)
    assert (
        base64.b64encode(f"x-access-token:{token}".encode()).decode() in env["GIT_CONFIG_VALUE_0"]
    )


def test_an_app_token_is_fetched_again_five_minutes_before_it_expires(
    fake: FakeGitHub, tmp_path: Path, private_key_pem: str
) -> None:
    now = [dt.datetime.now(dt.UTC)]  # the fake's tokens expire an hour after they are issued
    credential = GitHubCredential(
        "app", app_id="1", installation_id=9, private_key=private_key_pem, clock=lambda: now[0]
    )
    github_client(credential, base_url=fake.base_url, seconds_between_writes=None)

    first = git_push_env(credential, base_url=fake.base_url)
    now[0] += dt.timedelta(minutes=54)  # six minutes left: kept
    kept = git_push_env(credential, base_url=fake.base_url)
    now[0] += dt.timedelta(minutes=2)  # four minutes left: too little for a pass, renewed
    renewed = git_push_env(credential, base_url=fake.base_url)
    old, new = fake.installation_tokens
    fake.expire_token(old)
    workspace = http_workspace(fake, tmp_path, renewed)
    result = publish_move_branch(
        workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT, push_env=renewed
    )

    assert first == kept != renewed
    assert (
        base64.b64encode(f"x-access-token:{new}".encode()).decode() in renewed["GIT_CONFIG_VALUE_0"]
    )
    assert (result.pushed, result.error) == (True, "")
    assert {old, new} <= set(credential.secrets())


# Redaction, end to end


def test_the_token_appears_in_no_error_log_pr_or_commit(
    fake: FakeGitHub, remote: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    credential = GitHubCredential("token", SECRET)
    env = git_push_env(credential, base_url=fake.base_url)
    workspace = http_workspace(fake, tmp_path, env)
    fast = GithubRetry(total=1, backoff_factor=0, secondary_rate_wait=0)
    client = github_client(
        credential,
        base_url=fake.base_url,
        retry=fast,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    prs = PullRequests(client, repo="org/fleet", base="main", bot_email=BOT, secrets=[SECRET])
    slip = MoveProposal(
        group="ray-pred",
        source="onprem",
        target="cloud",
        reason="upgrade-stalled",
        title="placement: move ray-pred from onprem to cloud",
        body=f"evidence; the operator pasted their env: GITHUB_TOKEN={SECRET}",
        commit_message=RAY_TO_CLOUD.message,
    )
    texts: list[str] = []

    texts.append(repr(prs.propose(slip, workspace=workspace, push_env=env)))
    fake.rate_limit_next(5)
    with pytest.raises(RateLimited) as limited:
        prs.open_moves()
    texts += [str(limited.value), repr(limited.value.__cause__)]
    wrong = Github(base_url=fake.base_url, auth=Auth.Token(SECRET + "x"), retry=fast)
    bad = PullRequests(wrong, repo="org/fleet", base="main", bot_email=BOT, secrets=[SECRET])
    texts.append(repr(bad.propose(slip, workspace=workspace, push_env=env)))
    git(workspace.path, "remote", "set-url", "origin", f"http://u:{SECRET}@127.0.0.1:9/x.git")
    texts.append(
        repr(
            publish_move_branch(workspace, RAY_TO_CLOUD, branch=BRANCH, bot_email=BOT, push_env=env)
        )
    )

    texts += [f"{p.title}\n{p.body}\n{p.comments}" for p in fake.pulls.values()]
    texts.append(git(remote, "log", "--all", "--format=%B"))
    texts += [record.getMessage() for record in caplog.records]
    encoded = base64.b64encode(f"x-access-token:{SECRET}".encode()).decode()
    assert [t for t in texts if SECRET in t or encoded in t] == []
    assert len(fake.pulls) == 1 and "GITHUB_TOKEN=***" in fake.pulls[1].body


def test_git_auth_for_a_clone_url_is_scoped_to_its_host_and_never_cleartext_off_machine() -> None:
    env = {"GITHUB_TOKEN": SECRET}
    scoped = authenticate_git("https://ghe.example.com/org/fleet.git", env=env)
    assert scoped["GIT_CONFIG_KEY_0"] == "http.https://ghe.example.com/.extraHeader"
    assert SECRET not in str(scoped)  # only its base64 form, inside the header
    assert authenticate_git("http://git.example.com/org/fleet.git", env=env) == {}
    assert authenticate_git("/srv/git/fleet.git", env=env) == {}
    assert authenticate_git("https://github.com/org/fleet.git", env={}) == {}
    local = authenticate_git("http://127.0.0.1:8080/org/fleet.git", env=env)
    assert local["GIT_CONFIG_KEY_0"] == "http.http://127.0.0.1:8080/.extraHeader"
