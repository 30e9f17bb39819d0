"""The GitHub Actions workflows that repo-template ships, read as GitHub would run them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[1]
WORKFLOWS = ROOT / "repo-template" / ".github" / "workflows"
RECONCILE = WORKFLOWS / "placement-reconcile.yml"
CHECK = WORKFLOWS / "placement-check.yml"
BOTH = pytest.mark.parametrize("path", [RECONCILE, CHECK], ids=lambda p: p.stem)


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@BOTH
def test_checkout_keeps_no_credential_for_the_reconciler_to_collide_with(path: Path) -> None:
    """With persist-credentials on (checkout's default), git sends two Authorization headers."""
    workflow = yaml.safe_load(path.read_text())
    checkout = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False


@BOTH
def test_the_installed_version_is_pinned_to_this_release(path: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    workflow = yaml.safe_load(path.read_text())
    installs = [s["run"] for s in steps(workflow) if "pip install" in s.get("run", "")]
    assert installs == [f"pip install placement-reconciler=={project['version']}"]


def test_two_scheduled_runs_never_overlap() -> None:
    workflow = yaml.safe_load(RECONCILE.read_text())
    assert workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_the_check_runs_on_pull_requests_with_read_only_contents() -> None:
    workflow = yaml.safe_load(CHECK.read_text())
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    assert "pull_request" in workflow[True]
    assert workflow["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "statuses": "write",
    }


def test_the_check_skips_the_bots_own_move_pull_requests() -> None:
    workflow = yaml.safe_load(CHECK.read_text())
    (job,) = workflow["jobs"].values()
    assert "startsWith(github.head_ref, 'placement/')" in job["if"]


def test_the_check_reads_both_commits_and_passes_them_through_the_environment() -> None:
    """Values from the event go through env, never into the script's text (injection)."""
    workflow = yaml.safe_load(CHECK.read_text())
    checkout = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    (run,) = [s for s in steps(workflow) if "placement-reconciler check" in s.get("run", "")]
    assert "${{" not in run["run"]
    assert run["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    assert run["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert set(run["env"]) >= {"GITHUB_TOKEN", "KUBECONFIG"}


def test_a_new_push_supersedes_the_check_of_the_previous_one() -> None:
    workflow = yaml.safe_load(CHECK.read_text())
    assert "pull_request.number" in workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is True
