"""The GitHub Actions workflows that repo-template ships, read as GitHub would run them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[1]
RECONCILE = ROOT / "repo-template" / ".github" / "workflows" / "placement-reconcile.yml"


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_checkout_keeps_no_credential_for_the_reconciler_to_collide_with() -> None:
    """With persist-credentials on (checkout's default), git sends two Authorization headers."""
    workflow = yaml.safe_load(RECONCILE.read_text())
    checkout = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False


def test_the_installed_version_is_pinned_to_this_release() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    workflow = yaml.safe_load(RECONCILE.read_text())
    installs = [s["run"] for s in steps(workflow) if "pip install" in s.get("run", "")]
    assert installs == [f"pip install placement-reconciler=={project['version']}"]


def test_two_scheduled_runs_never_overlap() -> None:
    workflow = yaml.safe_load(RECONCILE.read_text())
    assert workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
