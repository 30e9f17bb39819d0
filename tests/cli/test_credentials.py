"""git's credentials come from the environment afresh for every pass, never into os.environ."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from reconciler.cli.commands import pull_requests_for
from reconciler.cli.credentials import git_credentials, merged_git_config
from reconciler.core.config import FleetConfig
from reconciler.core.errors import UsageError
from reconciler.github.credentials import GitHubCredential
from tests.fakes.github_server import FakeGitHub
from tests.fleet_repo import clone, git


def header_token(env: dict[str, str], host: str) -> str:
    """The token git would send to host, from the GIT_CONFIG_* entries."""
    for index in range(int(env.get("GIT_CONFIG_COUNT", "0"))):
        if env[f"GIT_CONFIG_KEY_{index}"] == f"http.{host}/.extraHeader":
            basic = env[f"GIT_CONFIG_VALUE_{index}"].removeprefix("Authorization: Basic ")
            return base64.b64decode(basic).decode().split(":", 1)[1]
    return ""


def test_a_rotated_token_file_is_read_again_for_the_next_pass(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("ghp_FIRSTTOKEN0123456789")
    masked: list[str] = []
    environ = dict(os.environ)
    credentials = git_credentials(
        "https://github.com/org/fleet.git",
        environ={"GITHUB_TOKEN_FILE": str(token_file)},
        mask=masked.extend,
    )

    first = credentials()
    token_file.write_text("ghp_SECONDTOKEN0123456789")
    second = credentials()

    assert header_token(first, "https://github.com") == "ghp_FIRSTTOKEN0123456789"
    assert header_token(second, "https://github.com") == "ghp_SECONDTOKEN0123456789"
    assert {"ghp_FIRSTTOKEN0123456789", "ghp_SECONDTOKEN0123456789"} <= set(masked)
    assert dict(os.environ) == environ


def test_mode_pr_adds_the_github_host_to_the_fleet_repos_own() -> None:
    token = "ghp_PRMODETOKEN0123456789"
    credentials = git_credentials(
        "https://git.example.com/org/fleet.git",
        environ={"GITHUB_TOKEN": token},
        mask=lambda _: None,
        github=GitHubCredential(kind="token", token="ghp_OLDTOKEN"),
        github_url="https://ghe.example.com/api/v3",
    )

    env = credentials()

    assert env["GIT_CONFIG_COUNT"] == "2"
    assert header_token(env, "https://git.example.com") == token
    assert header_token(env, "https://ghe.example.com") == token  # re-read, not the old one


def test_a_local_fleet_repo_gets_no_credentials_outside_mode_pr(tmp_path: Path) -> None:
    credentials = git_credentials(
        str(tmp_path), environ={"GITHUB_TOKEN": "ghp_UNUSED0123456789"}, mask=lambda _: None
    )
    assert credentials() == {}


def test_merged_git_config_renumbers_and_lets_a_later_entry_win() -> None:
    first = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "a", "GIT_CONFIG_VALUE_0": "1"}
    second = {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "b",
        "GIT_CONFIG_VALUE_0": "2",
        "GIT_CONFIG_KEY_1": "a",
        "GIT_CONFIG_VALUE_1": "3",
        "GIT_TERMINAL_PROMPT": "0",
    }
    assert merged_git_config(first, second) == {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "b",
        "GIT_CONFIG_VALUE_0": "2",
        "GIT_CONFIG_KEY_1": "a",
        "GIT_CONFIG_VALUE_1": "3",
        "GIT_TERMINAL_PROMPT": "0",
    }
    assert merged_git_config({}, {}) == {}


def test_a_rotated_token_file_reaches_the_api_client_too(tmp_path: Path, remote: Path) -> None:
    first, second = "ghp_FIRSTAPITOKEN0123456789", "ghp_SECONDAPITOKEN0123456789"
    token_file = tmp_path / "token"
    token_file.write_text(first)
    with FakeGitHub(remote=remote, tokens=(first,)) as fake:
        config = FleetConfig.model_validate(
            {
                "clusters": [{"name": "onprem"}],
                "git": {"github": {"repo": "org/fleet", "baseUrl": fake.base_url}},
            }
        )
        pulls = pull_requests_for(config, env={"GITHUB_TOKEN_FILE": str(token_file)})[0]
        before = pulls.open_moves()
        fake.tokens = {second}  # the old token is revoked, the file holds the new one
        token_file.write_text(second)
        after = pulls.open_moves()

    assert before == after == []


def test_a_checkout_that_already_sends_an_authorization_header_is_refused_plainly(
    tmp_path: Path, remote: Path
) -> None:
    checkout = clone(remote, tmp_path / "checkout")
    # What actions/checkout leaves behind with persist-credentials (its default); git
    # config keys are case-insensitive, the URL in them is not rewritten.
    git(checkout, "config", "HTTP.https://github.com/.ExtraHeader", "AUTHORIZATION: basic c2VjcmV0")
    credentials = git_credentials(
        str(checkout),
        environ={"GITHUB_TOKEN": "ghp_PRMODETOKEN0123456789"},
        mask=lambda _: None,
        github=GitHubCredential(kind="token", token="ghp_PRMODETOKEN0123456789"),
        github_url="https://api.github.com",
        checkout=checkout,
    )

    with pytest.raises(UsageError) as refused:
        credentials()

    message = str(refused.value)
    assert f"the checkout at {checkout} already sends an Authorization header" in message
    assert "to https://github.com (http.https://github.com/.extraheader" in message
    assert "persist-credentials: false" in message
    assert "git config --unset-all http.https://github.com/.extraheader" in message
    assert "c2VjcmV0" not in message


def test_a_header_for_another_host_or_not_an_authorization_is_no_conflict(
    tmp_path: Path, remote: Path
) -> None:
    checkout = clone(remote, tmp_path / "checkout")
    git(checkout, "config", "http.https://ghe.example.com/.extraheader", "AUTHORIZATION: basic x")
    git(checkout, "config", "http.https://github.com/.extraheader", "X-Trace: on")
    credentials = git_credentials(
        str(checkout),
        environ={"GITHUB_TOKEN": "ghp_PRMODETOKEN0123456789"},
        mask=lambda _: None,
        github=GitHubCredential(kind="token", token="ghp_PRMODETOKEN0123456789"),
        github_url="https://api.github.com",
        checkout=checkout,
    )

    assert header_token(credentials(), "https://github.com") == "ghp_PRMODETOKEN0123456789"
