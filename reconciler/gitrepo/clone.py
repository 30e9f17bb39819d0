"""Keep a clone of a remote fleet repo in a cache directory and re-use it between runs."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from reconciler.core import errors
from reconciler.gitrepo.git_command import NETWORK_TIMEOUT, GitError, run_git

log = logging.getLogger(__name__)

_SCP_LIKE_URL = re.compile(r"^[\w.-]+@[\w.-]+:")


class CloneError(errors.GitError):
    """The clone cannot be made or re-used."""


def clone_source(repo: str) -> str | None:
    """What git clone takes for repo: a URL as given, a bare repository (or a path ending
    .git) made absolute; None for a checkout, which is worked in where it is."""
    if "://" in repo or _SCP_LIKE_URL.match(repo):
        return repo
    path, asked = Path(repo), ["rev-parse", "--is-bare-repository"]
    if repo.rstrip("/").endswith(".git") or (
        path.is_dir() and run_git(asked, cwd=path, check=False).stdout.strip() == b"true"
    ):
        return str(path.resolve())
    return None


def cache_dir(url: str, *, branch: str) -> Path:
    """Where the clone of url for branch is kept between runs."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256(f"{url}\n{branch}".encode()).hexdigest()[:16]
    return Path(cache_home) / "placement-reconciler" / digest


def clone_or_reuse(
    url: str,
    *,
    branch: str,
    path: Path,
    fresh: bool = False,
    env: Mapping[str, str] | None = None,
) -> Path:
    """A clone of url at path: the existing one (the workspace checks it is sound), else a
    fresh one.

    With `fresh`, an existing clone of url is replaced by a new one (never a directory
    that is not a clone of url). `env` is added to git's environment for the clone
    (credentials for the remote, see github.credentials.authenticate_git).
    """
    if path.exists() and any(path.iterdir()):
        if not (path / ".git").exists():
            raise CloneError(f"{path} exists and is not a clone of {url}")
        # Never let git look above path: a broken clone must not find an enclosing repo.
        alone = {"GIT_CEILING_DIRECTORIES": str(path.parent.resolve())}
        origin = run_git(["config", "--get", "remote.origin.url"], cwd=path, env=alone, check=False)
        if origin.returncode == 0 and origin.stdout.decode().strip() != url:
            raise CloneError(f"{path} is a clone of another repository, not {url}")
        if origin.returncode == 0 and not fresh:
            return path
        if not fresh:
            log.warning("re-cloning %s: the existing clone is broken", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}-", dir=path.parent) as scratch:
        new = Path(scratch) / "clone"
        try:
            run_git(
                ["clone", "--quiet", "--branch", branch, "--origin", "origin", "--", url, str(new)],
                cwd=path.parent,
                env=env,
                timeout=NETWORK_TIMEOUT,
            )
        except GitError as error:
            raise CloneError(f"cannot clone {url}: {error.stderr}") from error
        if path.exists():
            shutil.rmtree(path)
        new.rename(path)
    return path
