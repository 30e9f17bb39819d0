"""GitHub credentials from the environment or a mounted file, and keeping them out of sight.

A credential is a token (`GITHUB_TOKEN`, or `GITHUB_TOKEN_FILE` naming a mounted file) or
a GitHub App installation (`GITHUB_APP_ID`, `GITHUB_APP_INSTALLATION_ID`,
`GITHUB_APP_PRIVATE_KEY_FILE`), never read from the fleet repo. It serves the REST API
(PyGithub) and git over https, which gets it as an `http.extraHeader` in `GIT_CONFIG_*`
variables (neither in a command line nor in a remote URL); `redact` removes it from any
text that leaves the process.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import github
from github import Auth, Consts
from github.InstallationAuthorization import InstallationAuthorization
from urllib3.util import Retry

from reconciler.core.errors import UsageError
from reconciler.github.deadline import Deadline, DeadlineAuth, DeadlineRetry

GIT_USER = "x-access-token"
# An installation token is renewed when it has less than this left: enough for a pass
# (its git pushes and API calls) to finish with the token it started with.
REFRESH_BEFORE_EXPIRY = dt.timedelta(minutes=5)
_APP_VARIABLES = ("GITHUB_APP_ID", "GITHUB_APP_INSTALLATION_ID", "GITHUB_APP_PRIVATE_KEY_FILE")


class CredentialError(UsageError):
    """The environment names a credential that is incomplete or cannot be read."""


@dataclasses.dataclass(frozen=True)
class GitHubCredential:
    """A token, or a GitHub App installation; its repr never shows a secret."""

    kind: str  # "token" | "app"
    token: str = dataclasses.field(default="", repr=False)
    app_id: str = ""
    installation_id: int = 0
    private_key: str = dataclasses.field(default="", repr=False)
    # Read again on every use: a mounted secret may be rotated under a running daemon.
    token_file: str = dataclasses.field(default="", compare=False)
    clock: Callable[[], dt.datetime] = dataclasses.field(
        default=lambda: dt.datetime.now(dt.UTC), repr=False, compare=False
    )
    # Every token read from the file or fetched for the App, so that `secrets` has them all.
    _seen: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)
    # The App's auth, shared by the API client and git: one renewal serves both.
    _app: list[InstallationAuth] = dataclasses.field(
        default_factory=list, repr=False, compare=False
    )

    def secrets(self) -> list[str]:
        """Every secret this credential holds now (for `redact`)."""
        return [secret for secret in (self.token, self.private_key, *self._seen) if secret]

    def current_token(self) -> str:
        """The token to send now: the file's content as it is now, or the given token."""
        if not self.token_file:
            return self.token
        try:
            token = _read_secret(self.token_file, "GITHUB_TOKEN_FILE")
        except CredentialError:  # mid-rotation: the last one read
            return self._seen[-1] if self._seen else self.token
        if token not in self._seen:
            self._seen.append(token)
        return token


class InstallationAuth(DeadlineAuth, Auth.AppInstallationAuth):
    """PyGithub's App installation auth, its token renewed on the credential's clock once
    less than REFRESH_BEFORE_EXPIRY is left (PyGithub's own rule is 20 seconds)."""

    def __init__(self, credential: GitHubCredential) -> None:
        app = Auth.AppAuth(credential.app_id, credential.private_key)
        super().__init__(app, credential.installation_id)
        self._credential = credential
        self._fetched: InstallationAuthorization | None = None

    @property
    def token(self) -> str:
        fetched = self._fetched
        if (
            fetched is None
            or fetched.expires_at - self._credential.clock() <= REFRESH_BEFORE_EXPIRY
        ):
            fetched = self._fetched = self._get_installation_authorization()
            self._credential._seen.append(fetched.token)
        return fetched.token


class CurrentToken(DeadlineAuth, Auth.Token):
    """A token auth that asks the credential for its token on every request, so a rotated
    GITHUB_TOKEN_FILE reaches the API client as it reaches git."""

    def __init__(self, credential: GitHubCredential) -> None:
        super().__init__(credential.current_token())
        self._credential = credential

    @property
    def token(self) -> str:
        return self._credential.current_token()


def credential_from_env(env: Mapping[str, str]) -> GitHubCredential | None:
    """The credential the environment names, or None when it names none.

    Raises CredentialError when one is named but incomplete or unreadable.
    """
    if token := env.get("GITHUB_TOKEN", "").strip():
        return GitHubCredential(kind="token", token=token)
    if token_file := env.get("GITHUB_TOKEN_FILE", "").strip():
        token = _read_secret(token_file, "GITHUB_TOKEN_FILE")
        return GitHubCredential(kind="token", token=token, token_file=token_file)
    app_id, installation, key_file = (env.get(name, "").strip() for name in _APP_VARIABLES)
    if not (app_id or installation or key_file):
        return None
    missing = [name for name in _APP_VARIABLES if not env.get(name, "").strip()]
    if missing:
        raise CredentialError(f"a GitHub App needs {', '.join(missing)} as well")
    if not installation.isdigit():
        raise CredentialError("GITHUB_APP_INSTALLATION_ID must be a number")
    key = _read_secret(key_file, "GITHUB_APP_PRIVATE_KEY_FILE")
    if "PRIVATE KEY" not in key:
        raise CredentialError("GITHUB_APP_PRIVATE_KEY_FILE does not hold a PEM private key")
    return GitHubCredential(
        "app", app_id=app_id, installation_id=int(installation), private_key=key
    )


def github_client(
    credential: GitHubCredential,
    *,
    base_url: str,
    retry: Retry | None = None,
    seconds_between_requests: float | None = Consts.DEFAULT_SECONDS_BETWEEN_REQUESTS,
    seconds_between_writes: float | None = Consts.DEFAULT_SECONDS_BETWEEN_WRITES,
    deadline: Deadline | None = None,
) -> github.Github:
    """A PyGithub client for base_url (GitHub or GitHub Enterprise's `/api/v3`).

    PyGithub's own retry (rate limits and 5xx) and its pacing between requests, as GitHub
    asks of integrations, are kept unless given otherwise. With a deadline, no request is
    sent, retried or waited for past it (see `deadline`).
    """
    if credential.kind == "app" and not credential._app:
        credential._app.append(InstallationAuth(credential))
    auth = credential._app[0] if credential._app else CurrentToken(credential)
    timeout = Consts.DEFAULT_TIMEOUT
    if deadline is not None:
        auth.deadline = deadline
        retry = retry or DeadlineRetry(deadline=deadline)
        timeout = deadline.request_timeout()
    return github.Github(
        base_url=base_url,
        auth=auth,
        timeout=timeout,
        retry=retry or github.Github.default_retry,
        seconds_between_requests=seconds_between_requests,
        seconds_between_writes=seconds_between_writes,
    )


def git_push_env(credential: GitHubCredential, *, base_url: str) -> dict[str, str]:
    """Environment for git over https to the GitHub host of the API at base_url, as
    `x-access-token`; scoped to that host, so git sends it nowhere else.

    An App sends its current installation token (renewed within REFRESH_BEFORE_EXPIRY of
    its expiry), a token file what it holds now.
    """
    if credential.kind == "app":
        if not credential._app:
            github_client(credential, base_url=base_url)  # the auth fetches with its client
        token = credential._app[0].token
    else:
        token = credential.current_token()
    basic = base64.b64encode(f"{GIT_USER}:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{git_host_url(base_url)}/.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


def authenticate_git(repo_url: str, *, env: Mapping[str, str]) -> dict[str, str]:
    """git config (as environment) so that git reaches repo_url's host with the GitHub
    credential of env; {} for a URL that is not https, or when there is no credential."""
    parts = urllib.parse.urlsplit(repo_url)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        return {}  # a token never travels in clear text beyond this machine
    credential = credential_from_env(env)
    if credential is None:
        return {}
    host = f"{parts.scheme}://{parts.netloc}"
    api = "https://api.github.com" if host == "https://github.com" else f"{host}/api/v3"
    return git_push_env(credential, base_url=api)


def git_host_url(base_url: str) -> str:
    """Where git talks to for the API at base_url: github.com, or the Enterprise host."""
    parts = urllib.parse.urlsplit(base_url.rstrip("/"))
    host = "github.com" if parts.netloc == "api.github.com" else parts.netloc
    return f"{parts.scheme}://{host}"


def secrets_in_env(env: Mapping[str, str]) -> list[str]:
    """The secrets a `git_push_env` environment carries: the header's value and its token."""
    found = []
    for name, value in env.items():
        if name.startswith("GIT_CONFIG_VALUE_") and value.startswith("Authorization: Basic "):
            encoded = value.removeprefix("Authorization: Basic ")
            found += [encoded, base64.b64decode(encoded).decode().partition(":")[2]]
    return found


def redact(text: str, *, secrets: Iterable[str]) -> str:
    """The text with every secret, and its base64 and URL-quoted forms, replaced by ***."""
    forms: set[str] = set()
    for secret in secrets:
        if len(secret) >= 4:  # a shorter one cannot be told apart from ordinary text
            forms.add(secret)
            forms.add(base64.b64encode(secret.encode()).decode())
            forms.add(base64.b64encode(f"{GIT_USER}:{secret}".encode()).decode())
            forms.add(urllib.parse.quote(secret, safe=""))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _read_secret(path: str, variable: str) -> str:
    try:
        text = Path(path).read_text().strip()
    except OSError as error:
        raise CredentialError(f"{variable}: cannot read {path} ({error.strerror})") from None
    if not text:
        raise CredentialError(f"{variable}: {path} is empty")
    return text
