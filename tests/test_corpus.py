"""The bad-input corpus: every case is reported clearly, exits as documented, never crashes.

A case is a directory under tests/corpus/ holding the files that differ from
tests/corpus/_base/ (a tiny fleet repo with one stuck group, `good`, whose move to `cloud`
must still be decided, plus snapshots of both clusters), and `expected.yaml`:

    command: plan | validate          which command to run
    exit: 0                           its exit code
    messages:                         each must be reported (plan: in the JSON problems,
      - file: fleet.yaml              validate: in a line of its output, exit 2: in stderr)
        field: clusters[0].name       optional
        text: is not a valid          a fragment of the message
        line: 3                       optional
      - cluster: cloud                a cluster's unknown reason or skipped objects
        text: ...
    good: move | none                 whether `good` must still move to cloud (default move)
    base: false                       start from nothing instead of _base
    remove: [repo/fleet.yaml]         files of the base to delete
    symlinks: [{path: repo/x, target: /etc}]    made at copy time (git cannot hold them)
    generate: [{path: repo/x, text: "a", times: 3}, {path: repo/y, hex: "00ff"}]
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli.main import main
from tests.fleet_repo import git

CORPUS = Path(__file__).parent / "corpus"
BASE = CORPUS / "_base"
NOW = "2026-11-28T12:10:00Z"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.yaml").is_file())


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 50


def assemble(case: Path, expected: dict[str, Any], into: Path) -> tuple[Path, Path]:
    """Base + the case's files + generated files and symlinks, committed to a git repo."""
    if expected.get("base", True):
        shutil.copytree(BASE, into)
    into.mkdir(exist_ok=True)
    for path in expected.get("remove", ()):
        target = into / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    for source in sorted(case.rglob("*")):
        if source.is_file() and source.name != "expected.yaml":
            target = into / source.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    for spec in expected.get("generate", ()):
        target = into / spec["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if "hex" in spec:
            target.write_bytes(bytes.fromhex(spec["hex"]))
        else:
            target.write_text(spec.get("head", "") + spec["text"] * spec.get("times", 1))
    for spec in expected.get("symlinks", ()):
        link = into / spec["path"]
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        elif link.exists():
            link.unlink()
        target = spec["target"].replace("{outside}", str(into.parent / "outside"))
        link.symlink_to(target)
    outside = into.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
    repo = into / "repo"
    repo.mkdir(exist_ok=True)
    git(repo, "init", "-q")
    git(repo, "symbolic-ref", "HEAD", "refs/heads/main")
    if expected.get("commit", True):
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", "corpus case")
    return repo, into / "snapshots"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    out = io.StringIO()
    started = time.perf_counter()
    code = main(argv, out=out)
    elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    return code, out.getvalue() + captured.out, captured.err, elapsed


def plan_argv(repo: Path, snapshots: Path) -> list[str]:
    return ["plan", "--repo", str(repo), "--status", str(snapshots), "--now", NOW, "-o", "json"]


@pytest.mark.parametrize("name", CASES)
def test_bad_input_case(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CORPUS / name
    expected = yaml.safe_load((case / "expected.yaml").read_text())
    repo, snapshots = assemble(case, expected, tmp_path / "case")
    if expected["command"] == "plan":
        argv = plan_argv(repo, snapshots)
    else:
        argv = ["validate", "--repo", str(repo)]
    code, out, err, elapsed = run(argv, capsys)
    assert "Traceback" not in out + err
    assert elapsed < 5, f"{name} took {elapsed:.1f}s"
    assert code == expected["exit"], (out, err)
    if code == 2:
        assert not out.strip() or expected["command"] == "plan"
        for message in expected["messages"]:
            assert_in_line(message, err.splitlines(), err)
        return
    plan: dict[str, Any] | None = None
    if expected["command"] == "plan":
        plan = json.loads(out)
        for message in expected["messages"]:
            assert_in_plan(message, plan)
    else:
        for message in expected["messages"]:
            assert_in_line(message, out.splitlines(), out)
    if expected.get("good", "move") == "move":
        if plan is None:
            code, out, err, _ = run(plan_argv(repo, snapshots), capsys)
            assert code == 0, err
            assert "Traceback" not in out + err
            plan = json.loads(out)
        good = next(d for d in plan["decisions"] if d["group"] == "good")
        assert (good["action"], good["target"]) == ("move", "cloud"), good


def assert_in_plan(message: dict[str, Any], plan: dict[str, Any]) -> None:
    if "cluster" in message:
        cluster = next(c for c in plan["clusters"] if c["name"] == message["cluster"])
        said = [cluster["reason"] or "", *cluster["skipped"]]
        assert any(message["text"] in s for s in said), (message, cluster)
        if "known" in message:
            assert cluster["known"] is message["known"], cluster
        return
    for problem in plan["problems"]:
        if (
            problem["file"] == message["file"]
            and message.get("field", "") in problem["field"]
            and message["text"] in problem["message"]
            and message.get("severity", problem["severity"]) == problem["severity"]
            and message.get("line", problem.get("line")) == problem.get("line")
        ):
            return
    pytest.fail(f"{message} not among the problems:\n{json.dumps(plan['problems'], indent=1)}")


def assert_in_line(message: dict[str, Any], lines: list[str], whole: str) -> None:
    place = message["file"]
    if "line" in message:
        place = f"{place}:{message['line']}"
    for line in lines:
        if place in line and message.get("field", "") in line and message["text"] in line:
            if message.get("severity") == "warning":
                assert line.startswith("warning: "), line
            return
    pytest.fail(f"{message} not in:\n{whole}")


def test_an_alias_bomb_is_rejected_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """Nine levels of nine aliases: 9**9 strings if expanded; rejected in milliseconds."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from reconciler.core.yaml_files import load_yaml_documents\n"
        "from reconciler.core.problems import InputError\n"
        "started = time.perf_counter()\n"
        "try:\n"
        "    load_yaml_documents(Path(sys.argv[1]), shown_as='bomb.yaml')\n"
        "except InputError as error:\n"
        "    print(error.problem)\n"
        "print(time.perf_counter() - started)\n"
        # VmHWM is this process's own peak; ru_maxrss would carry the parent's across exec.
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "print(next(line.split()[1] for line in status if line.startswith('VmHWM:')))\n"
    )
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        levels.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    (tmp_path / "bomb.yaml").write_text("\n".join(levels) + "\n")
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "bomb.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    problem, seconds, max_rss_kib = done.stdout.splitlines()
    assert "aliases expand to more than" in problem
    assert float(seconds) < 1
    assert int(max_rss_kib) < 200 * 1024
