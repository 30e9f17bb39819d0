"""GitHub credentials from the environment or a mounted file, and keeping them out of sight.

A credential is a token (`GITHUB_TOKEN`, or `GITHUB_TOKEN_FILE` naming a mounted file)
or a GitHub App (`GITHUB_APP_ID`, `GITHUB_APP_INSTALLATION_ID`,
`GITHUB_APP_PRIVATE_KEY_FILE`). It is never read from the fleet repo. The same
credential serves the REST API (PyGithub) and git over https: git gets it as an
`http.extraHeader` through `GIT_CONFIG_*` variables, so it is neither in a command line
nor in a remote URL, and `redact` removes it from any text that leaves the process.
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
from urllib3.util import Retry

from reconciler.core.errors import UsageError
from reconciler.github.deadline import Deadline, DeadlineAuth, DeadlineRetry

GIT_USER = "x-access-token"
REDACTED = "***"
# An installation token is renewed when it has less than this left: enough for a pass
# (its git pushes and API calls) to finish with the token it started with.
REFRESH_BEFORE_EXPIRY = dt.timedelta(minutes=5)

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


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
    # A token read from GITHUB_TOKEN_FILE is read again whenever it is used: a mounted
    # secret may be rotated under a running daemon.
    token_file: str = dataclasses.field(default="", compare=False)
    clock: Clock = dataclasses.field(default=utc_now, repr=False, compare=False)
    # The App's installation auth, built once and shared by the API client and git, so
    # one renewal of the installation token serves both.
    _installation: list[RenewingInstallationAuth] = dataclasses.field(
        default_factory=list, repr=False, compare=False
    )
    # Every token read from the file, so that `secrets` masks the old ones too.
    _tokens_read: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)

    def secrets(self) -> list[str]:
        """Every secret this credential holds now (for `redact`)."""
        found = [self.token, self.private_key, *self._tokens_read]
        for auth in self._installation:
            found += auth.fetched
        return [secret for secret in found if secret]

    def current_token(self) -> str:
        """The token to send now: the file's content as it is now, or the given token."""
        if not self.token_file:
            return self.token
        try:
            token = _read_secret(self.token_file, "GITHUB_TOKEN_FILE")
        except CredentialError:
            return self._tokens_read[-1] if self._tokens_read else self.token  # mid-rotation
        if token not in self._tokens_read:
            self._tokens_read.append(token)
        return token


class RenewingInstallationAuth(DeadlineAuth, Auth.AppInstallationAuth):
    """A GitHub App installation whose token is renewed by our rule and our clock:
    when less than REFRESH_BEFORE_EXPIRY is left (PyGithub's own rule is 20 seconds,
    on the machine's clock)."""

    def __init__(self, app: Auth.AppAuth, installation_id: int, *, clock: Clock) -> None:
        super().__init__(app, installation_id)
        self._clock = clock
        self.fetched: list[str] = []  # every token fetched, for `redact`

    @property
    def _is_expired(self) -> bool:
        fetched = getattr(self, "_AppInstallationAuth__installation_authorization", None)
        expires_at = getattr(fetched, "expires_at", None)
        if expires_at is None:
            return True
        return bool(expires_at - REFRESH_BEFORE_EXPIRY <= self._clock())

    @property
    def token(self) -> str:
        token = str(super().token)
        if token not in self.fetched:
            self.fetched.append(token)
        return token


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
    token = env.get("GITHUB_TOKEN", "").strip()
    if token:
        return GitHubCredential(kind="token", token=token)
    token_file = env.get("GITHUB_TOKEN_FILE", "").strip()
    if token_file:
        token = _read_secret(token_file, "GITHUB_TOKEN_FILE")
        return GitHubCredential(kind="token", token=token, token_file=token_file)
    app_vars = ("GITHUB_APP_ID", "GITHUB_APP_INSTALLATION_ID", "GITHUB_APP_PRIVATE_KEY_FILE")
    present = [name for name in app_vars if env.get(name, "").strip()]
    if not present:
        return None
    missing = [name for name in app_vars if name not in present]
    if missing:
        raise CredentialError(f"a GitHub App needs {', '.join(missing)} as well")
    installation = env["GITHUB_APP_INSTALLATION_ID"].strip()
    if not installation.isdigit():
        raise CredentialError("GITHUB_APP_INSTALLATION_ID must be a number")
    key = _read_secret(env["GITHUB_APP_PRIVATE_KEY_FILE"].strip(), "GITHUB_APP_PRIVATE_KEY_FILE")
    if "PRIVATE KEY" not in key:
        raise CredentialError("GITHUB_APP_PRIVATE_KEY_FILE does not hold a PEM private key")
    return GitHubCredential(
        kind="app",
        app_id=env["GITHUB_APP_ID"].strip(),
        installation_id=int(installation),
        private_key=key,
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

    PyGithub's own retry (GithubRetry: rate limits and 5xx) and its pacing between
    requests, as GitHub asks of integrations, are kept unless given otherwise. With a
    deadline, no request is sent, retried or waited for past it (see `deadline`).
    """
    auth: RenewingInstallationAuth | CurrentToken
    if credential.kind == "app":
        if not credential._installation:
            app = Auth.AppAuth(credential.app_id, credential.private_key)
            credential._installation.append(
                RenewingInstallationAuth(app, credential.installation_id, clock=credential.clock)
            )
        auth = credential._installation[0]
    else:
        auth = CurrentToken(credential)
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
    """Environment for git over https to the GitHub host of base_url, as `x-access-token`.

    For an App this is the current installation token (fetched, or renewed when it
    expires within REFRESH_BEFORE_EXPIRY); for a token file, the file as it is now.
    The header is scoped to that host, so git sends it nowhere else.
    """
    if credential.kind == "app":
        if not credential._installation:
            github_client(credential, base_url=base_url)
        token = credential._installation[0].token
    else:
        token = credential.current_token()
    basic = base64.b64encode(f"{GIT_USER}:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{git_host_url(base_url)}/.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
        "GIT_TERMINAL_PROMPT": "0",
    }


def authenticate_git(repo_url: str, *, env: Mapping[str, str]) -> dict[str, str]:
    """git config (as environment) so clone, fetch and push to repo_url's host use the
    GitHub credential from env; {} for a non-https URL or when there is no credential.

    The header travels in GIT_CONFIG_* variables, never in argv or the remote URL, and is
    scoped to that one host. For an App, call again before each pass: tokens expire hourly.
    """
    parts = urllib.parse.urlsplit(repo_url)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        return {}  # a token never travels in clear text beyond this machine
    credential = credential_from_env(env)
    if credential is None:
        return {}
    api = (
        "https://api.github.com"
        if parts.netloc == "github.com"
        else (f"https://{parts.netloc}/api/v3")
    )
    if credential.kind == "app" and not credential._installation:
        github_client(credential, base_url=api)
    return git_push_env(credential, base_url=f"{parts.scheme}://{parts.netloc}")


def git_host_url(base_url: str) -> str:
    """Where git talks to for the API at base_url: github.com, or the Enterprise host."""
    parts = urllib.parse.urlsplit(base_url.rstrip("/"))
    host = "github.com" if parts.netloc == "api.github.com" else parts.netloc
    return f"{parts.scheme}://{host}"


def secrets_in_env(env: Mapping[str, str]) -> list[str]:
    """The secrets a `git_push_env` environment carries: header, basic value, token."""
    found: list[str] = []
    for name, value in env.items():
        if not name.startswith("GIT_CONFIG_VALUE_") or not value.startswith("Authorization:"):
            continue
        scheme_and_value = value.removeprefix("Authorization:").strip()
        found.append(scheme_and_value)
        encoded = scheme_and_value.split(" ", 1)[-1]
        found.append(encoded)
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            continue
        found.append(decoded)
        found.append(decoded.split(":", 1)[-1])
    return [secret for secret in found if secret]


def redact(text: str, *, secrets: Iterable[str]) -> str:
    """The text with every secret, and its base64 and URL-quoted forms, replaced by ***."""
    forms: set[str] = set()
    for secret in secrets:
        if len(secret) < 4:  # too short to tell apart from ordinary text
            continue
        forms.add(secret)
        forms.add(base64.b64encode(secret.encode()).decode())
        forms.add(base64.b64encode(f"{GIT_USER}:{secret}".encode()).decode())
        forms.add(urllib.parse.quote(secret, safe=""))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


def _read_secret(path: str, variable: str) -> str:
    try:
        text = Path(path).read_text().strip()
    except OSError as error:
        raise CredentialError(f"{variable}: cannot read {path} ({error.strerror})") from None
    if not text:
        raise CredentialError(f"{variable}: {path} is empty")
    return text
