"""The Dockerfile, read as instructions (docker build cannot run here)."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|make|cmake|python3?-dev|libc6-dev)\b")
DEV_EXTRAS = re.compile(r"\[(test|dev|lint)\]|\b(pytest|ruff|mypy|hypothesis|import-linter)\b")


@dataclasses.dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]]

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), " ".join(rest.split())
        if keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else ""
            stages.append(Stage(base, name, []))
        elif not stages and keyword == "ARG":
            key, _, default = rest.partition("=")
            args[key] = default
        else:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse((ROOT / "Dockerfile").read_text())[1]


def test_every_stage_starts_from_a_slim_python_image(stages: list[Stage]) -> None:
    assert len(stages) >= 2, "multi-stage: a builder and a final image"
    for stage in stages:
        assert re.fullmatch(r"python:3\.1[1-9][\w.-]*-slim[\w.-]*", stage.base), stage.base


def test_build_tools_stay_in_the_builder(stages: list[Stage]) -> None:
    *builders, final = stages
    assert any(BUILD_TOOLS.search(run) for b in builders for run in b.all("RUN"))
    for run in final.all("RUN"):
        assert not BUILD_TOOLS.search(run), run
        assert "pip install" not in run, "the final image only copies the built venv"
    copied = final.all("COPY")
    assert any(c.startswith(f"--from={builders[0].name} ") for c in copied), copied


def test_no_dev_or_test_extras_are_installed(stages: list[Stage]) -> None:
    for stage in stages:
        for run in stage.all("RUN"):
            assert not DEV_EXTRAS.search(run), run
    installs = [run for s in stages for run in s.all("RUN") if "pip install" in run]
    assert any(re.search(r"pip install [^&]*\s\.(\s|$)", run) for run in installs), installs


def test_the_final_image_runs_as_a_numeric_non_root_user(stages: list[Stage]) -> None:
    users = stages[-1].all("USER")
    assert users, "the final stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)


def test_git_is_there_at_run_time(stages: list[Stage]) -> None:
    assert any(re.search(r"install .*\bgit\b", run) for run in stages[-1].all("RUN"))


def test_it_serves_health_and_starts_the_daemon(stages: list[Stage]) -> None:
    final = stages[-1]
    assert final.all("EXPOSE") == ["9090"]
    [check] = final.all("HEALTHCHECK")
    assert "/healthz" in check and "9090" in check
    [entrypoint] = final.all("ENTRYPOINT")
    assert shlex.split(entrypoint.strip("[]").replace(",", " ")) == ["placement-reconciler"]
    [command] = final.all("CMD")
    assert "--interval" in command


def test_what_it_copies_exists_and_the_context_leaves_the_rest_out(stages: list[Stage]) -> None:
    sources = [
        word
        for stage in stages
        for copy in stage.all("COPY")
        if not copy.startswith("--from")
        for word in copy.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "tests"} <= ignored
    assert not ignored & {"reconciler", "repo-template", "pyproject.toml", "README.md"}
