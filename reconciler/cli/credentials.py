"""GitHub credentials from the process environment, resolved when git needs them.

Nothing is written back into the environment: git gets the credentials as an `env`
mapping on the commands that reach a remote. A pass asks afresh each time (a GitHub App
token expires after an hour, a mounted token file may be rotated), and every secret
handed out is given to the log masking first.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from reconciler.core.errors import UsageError
from reconciler.github.credentials import (
    CredentialError,
    GitHubCredential,
    authenticate_git,
    credential_from_env,
    git_push_env,
    secrets_in_env,
)
from reconciler.gitrepo.git_command import run_git

GitEnv = Callable[[], dict[str, str]]
_GIT_CONFIG_ENTRY = re.compile(r"GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+)")


def secrets_from_env(env: Mapping[str, str]) -> list[str]:
    """The GitHub credential's secrets, to mask in the logs (none when there is none)."""
    try:
        credential = credential_from_env(env)
    except CredentialError:
        return []
    return credential.secrets() if credential else []


def git_credentials(
    repo: str,
    *,
    environ: Mapping[str, str],
    mask: Callable[[Iterable[str]], None],
    github: GitHubCredential | None = None,
    github_url: str = "",
    checkout: Path | None = None,
) -> GitEnv:
    """git's credentials for the fleet repo, resolved again on every call.

    The repo's own host gets the GitHub credential when it is an https URL. In mode pr
    (`github` given) the host of `github_url` gets it too, since the move branches are
    pushed there: a token is re-read on every call, while an App keeps the installation
    it shares with the API client (its token is renewed when it expires within 5 minutes).
    Raises CredentialError when the environment names a credential that cannot be read,
    and UsageError when the checkout's own git config already authenticates to one of
    those hosts (see `refuse_a_second_authorization`).
    """

    def resolve() -> dict[str, str]:
        env = authenticate_git(repo, env=environ)
        if github is not None:
            current = github
            if github.kind != "app":
                current = credential_from_env(environ) or github
            env = merged_git_config(env, git_push_env(current, base_url=github_url))
        if checkout is not None:
            refuse_a_second_authorization(checkout, hosts=authenticated_hosts(env))
        mask(secrets_in_env(env))
        return env

    return resolve


def merged_git_config(*envs: Mapping[str, str]) -> dict[str, str]:
    """One git environment from several: their GIT_CONFIG_* entries renumbered in order
    (a later entry for the same key replaces an earlier one), other variables as given."""
    entries: dict[str, str] = {}
    merged: dict[str, str] = {}
    for env in envs:
        for index in range(int(env.get("GIT_CONFIG_COUNT", "0") or 0)):
            key = env[f"GIT_CONFIG_KEY_{index}"]
            entries.pop(key, None)
            entries[key] = env[f"GIT_CONFIG_VALUE_{index}"]
        merged.update({k: v for k, v in env.items() if not _GIT_CONFIG_ENTRY.fullmatch(k)})
    for index, (key, value) in enumerate(entries.items()):
        merged[f"GIT_CONFIG_KEY_{index}"] = key
        merged[f"GIT_CONFIG_VALUE_{index}"] = value
    if entries:
        merged["GIT_CONFIG_COUNT"] = str(len(entries))
    return merged


def authenticated_hosts(env: Mapping[str, str]) -> list[str]:
    """The hosts (`scheme://host[:port]`) that a git environment sends a header to."""
    hosts = []
    for index in range(int(env.get("GIT_CONFIG_COUNT", "0") or 0)):
        key = env[f"GIT_CONFIG_KEY_{index}"]
        if key.lower().endswith(".extraheader") and key.lower().startswith("http."):
            hosts.append(key[len("http.") : -len(".extraheader")].rstrip("/"))
    return hosts


def refuse_a_second_authorization(checkout: Path, *, hosts: Iterable[str]) -> None:
    """Raise UsageError when the checkout's git config already sends an Authorization
    header to one of the hosts we send ours to.

    actions/checkout stores one (`http.https://github.com/.extraheader`) unless told
    `persist-credentials: false`; git would then send both and GitHub answers 400
    "Duplicate header: Authorization". We refuse rather than quietly use the checkout's
    token: that one is another identity with other permissions (the workflow's token,
    whose pushes start no workflows on the pull request), so which one pushes is the
    operator's choice, made once in the workflow.
    """
    wanted = {_host_key(host): host for host in hosts}
    if not wanted:
        return
    listed = run_git(
        ["config", "--show-origin", "--get-regexp", r"^http\.(.*\.)?extraheader$"],
        cwd=checkout,
        check=False,
    )
    for line in listed.stdout.decode(errors="replace").splitlines():
        origin, _, entry = line.partition("\t")
        key, _, value = entry.partition(" ")
        if not value.strip().lower().startswith("authorization:"):
            continue
        url = key[len("http.") : -len(".extraheader")].rstrip(".")
        for host_key, host in wanted.items():
            if url and _host_key(url) != host_key:
                continue
            raise UsageError(
                f"the checkout at {checkout} already sends an Authorization header to {host} "
                f"({key}, set by actions/checkout unless `persist-credentials: false`), and "
                "git would send the reconciler's as well, which GitHub refuses (400 "
                f'"Duplicate header: Authorization"): set `persist-credentials: false` on '
                f"actions/checkout, or remove it with {_unset_command(origin, key, checkout)}"
            )


def _host_key(url: str) -> tuple[str, str, int | None]:
    """A URL's scheme, host and port as git compares them for `http.<url>.*`."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _unset_command(origin: str, key: str, checkout: Path) -> str:
    where = origin.removeprefix("file:")
    if where in (".git/config", str(checkout / ".git" / "config")):
        return f"`git config --unset-all {key}` in {checkout}"
    return f"`git config --file {where} --unset-all {key}`"
