"""GitHub credentials from the process environment, resolved when git needs them.

Nothing is written back into the environment: git gets the credentials as an `env`
mapping on the commands that reach a remote. A pass asks afresh each time (a GitHub App
token expires after an hour, a mounted token file may be rotated), and every secret
handed out is given to the log masking first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from reconciler.github.credentials import (
    CredentialError,
    GitHubCredential,
    authenticate_git,
    credential_from_env,
    git_push_env,
    secrets_in_env,
)

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
) -> GitEnv:
    """git's credentials for the fleet repo, resolved again on every call.

    The repo's own host gets the GitHub credential when it is an https URL. In mode pr
    (`github` given) the host of `github_url` gets it too, since the move branches are
    pushed there: a token is re-read on every call, while an App keeps the installation
    it shares with the API client (its token is renewed when it expires within 5 minutes).
    Raises CredentialError when the environment names a credential that cannot be read.
    """

    def resolve() -> dict[str, str]:
        env = authenticate_git(repo, env=environ)
        if github is not None:
            current = github
            if github.kind != "app":
                current = credential_from_env(environ) or github
            env = merged_git_config(env, git_push_env(current, base_url=github_url))
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
