"""The benchmark scripts run end to end on the tiny fleet and write a well-formed report.

Not a timed test: only the shape of the report is checked, never the figures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = (
    "full pass, warm, vs bare JSON parse",
    "live ingestion, client models vs ours",
    "growth: full pass",
    "one move commit vs git mv + git commit",
    "peak RSS of the full pass",
    "overlays: warm pass vs bare JSON parse",
)
CONTEXT_ROWS = (
    "full pass, cold (empty cache), vs bare JSON parse",
    "overlays: cold pass (empty render cache) vs bare JSON parse",
)


def run(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def tiny_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "tiny"
    run(
        str(ROOT / "bench/make_fleet.py"),
        "--size",
        "tiny",
        "--seed",
        "3",
        "--out",
        str(out),
        cwd=ROOT,
    )
    return out


def test_the_generator_writes_a_fleet_repo_and_list_snapshots(tiny_fleet: Path) -> None:
    meta = json.loads((tiny_fleet / "meta.json").read_text())
    assert meta["clusters"] == 2 and meta["groups"] == 20
    assert meta["pending"] >= 1
    snapshots = sorted(p.name for p in (tiny_fleet / "snapshots").iterdir())
    assert snapshots == ["c000.json", "c001.json"]
    document = json.loads((tiny_fleet / "snapshots/c000.json").read_text())
    assert document["kind"] == "List"
    kinds = {item["kind"] for item in document["items"]}
    assert {"Node", "Pod"} <= kinds
    log = subprocess.run(
        ["git", "log", "--oneline"], cwd=tiny_fleet / "fleet", capture_output=True, text=True
    )
    assert len(log.stdout.splitlines()) == 1
    assert (tiny_fleet / "fleet/clusters/c000/groups/kustomization.yaml").is_file()


def test_the_generator_is_deterministic(tiny_fleet: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    run(
        str(ROOT / "bench/make_fleet.py"),
        "--size",
        "tiny",
        "--seed",
        "3",
        "--out",
        str(again),
        cwd=ROOT,
    )
    for name in ("c000.json", "c001.json"):
        assert (again / "snapshots" / name).read_bytes() == (
            tiny_fleet / "snapshots" / name
        ).read_bytes()


def test_the_bench_writes_a_table_with_every_row_and_numeric_ratios(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    printed = run(
        str(ROOT / "bench/run.py"),
        "--size",
        "tiny",
        "--repeat",
        "1",
        "--out",
        str(report),
        cwd=ROOT,
    )
    text = report.read_text()
    assert text == printed
    assert text.startswith("Machine: ")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| measure | ours | baseline | ratio | target | result |")
    for row in ROWS:
        line = next((line for line in table if line.startswith(f"| {row}")), None)
        assert line is not None, f"no row {row!r} in\n{text}"
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert re.fullmatch(r"\d+(\.\d+)?", cells[3]), cells
        assert cells[5] in {"PASS", "MISS"}, cells
    for row in CONTEXT_ROWS:
        line = next((line for line in table if line.startswith(f"| {row}")), None)
        assert line is not None, f"no row {row!r} in\n{text}"
        assert re.fullmatch(r"\d+(\.\d+)?", line.strip("|").split("|")[3].strip()), line
