"""The demo works from a regular install, from any directory: template and snapshots ship inside."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("placement_reconciler-*.whl"))


def test_wheel_ships_repo_template_and_demo_snapshots(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "reconciler/repo_template/fleet.yaml" in names
    assert "reconciler/repo_template/clusters/onprem/groups/ray-pred/rayservice.yaml" in names
    assert "reconciler/repo_template/bootstrap/argocd/applicationset.yaml" in names
    assert "reconciler/demo/snapshots/onprem.yaml" in names
    assert "reconciler/demo/scenario.yaml" in names


def test_demo_runs_from_the_installed_wheel_outside_the_checkout(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "demo", "--workdir", str(tmp_path / "demo")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "placement: move ray-pred from onprem to cloud" in done.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import reconciler; print(reconciler.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.startswith(str(site)), "the test must exercise the installed copy"
    assert (tmp_path / "demo" / "fleet" / "clusters" / "cloud" / "groups" / "ray-pred").is_dir()
