"""Benchmark one fleet size: a pass against the cost of reading the bytes, side by side.

    python bench/run.py --size M [--seed 1] [--repeat 3] [--out bench/RESULTS-M.md]

Generates (or reuses, see bench/make_fleet.py) the fleet of that size and the one twice
its size, then measures every row in a fresh subprocess, so each row's peak RSS is its
own, and prints a markdown table of medians, ratios, targets and PASS/MISS:

  full pass      reconcile.run.plan_pass (fleet repo + snapshot read + plan, no write)
                 vs orjson.loads of every snapshot file (read + parse of the same bytes);
                 warm (plain groups from the cache a first, cold pass filled: the target)
                 and cold (empty cache, one run: context)
  live ingest    bench/live_ingest.py: the kubernetes client's models vs our raw path
                 (and the bare parse), one cluster's pod list through a local HTTP server
  growth         the full pass on the doubled fleet vs on this one
  move commit    Workspace.apply (direct mode, pushed to a local bare remote) vs
                 `git mv` + `git commit` on the command line, in the same checkout;
                 at most 3x: a move is written a few times a day, so plain sequential
                 git commands (a private index, push, update-ref, read-tree) are enough
  peak RSS       the full pass's process (VmHWM)

Figures are medians of --repeat runs; absolute seconds are context, ratios are the result.
The pass and bare rows read their input files once, untimed, before measuring: both start
from the same warm page cache.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import make_fleet  # noqa: E402

DOUBLE = {"tiny": "2tiny", "S": "2S", "M": "2M"}
NOW = make_fleet.NOW
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench Human",
    "GIT_AUTHOR_EMAIL": "human@example.invalid",
    "GIT_COMMITTER_NAME": "Bench Human",
    "GIT_COMMITTER_EMAIL": "human@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


# ---- what each child process measures -------------------------------------------------


def peak_rss_bytes() -> int:
    """This process's peak resident set size (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(run: Any, repeat: int) -> list[float]:
    """Wall times of `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


def warm_page_cache(directory: Path) -> None:
    """Read every file of a fleet directory once, untimed, so each row starts warm.

    This machine reclaims idle page cache: without this, whichever row runs first reads
    its gigabytes from disk (a first M pass took 31 s against 19-20 s for the next two).
    """
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            path.read_bytes()


def _cold_then_warm(directory: Path, repeat: int) -> tuple[list[float], list[float], Any]:
    """plan_pass's read and plan once with empty plain and render caches (cold), then
    `repeat` times warm: the times and the last reading (its fleet and plan)."""
    from reconciler.gitrepo.workspace import Workspace
    from reconciler.reconcile.run import git_recall, read_and_plan
    from reconciler.reconcile.status_source import snapshot_status

    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache  # the plain and render caches start empty
        warm_page_cache(directory)
        workspace = Workspace(directory / "fleet", branch="main", sleep=time.sleep)
        status = snapshot_status(directory / "snapshots")
        readings: list[Any] = []

        def run() -> None:  # what plan_pass does, keeping the fleet read too
            # The last pass's reading goes first: one pass at a time, as the daemon runs them
            # (holding it would count two passes' memory in the peak RSS row).
            readings.clear()
            readings.append(read_and_plan(workspace, status=status, recall=git_recall, now=NOW))

        cold = timed(run, 1)
        warm = timed(run, repeat)
    return cold, warm, readings[0]


def child_pass(directory: Path, repeat: int) -> dict[str, Any]:
    """plan_pass over the fleet repo and the snapshots, cold then warm; what it decided."""
    cold, times, reading = _cold_then_warm(directory, repeat)
    plan = reading.plan
    return {
        "cold": cold,
        "times": times,
        "moves": len(plan.moves),
        "stuck": sum(d.state in {"stuck", "upgrade-stalled"} for d in plan.decisions),
        "groups": len(plan.decisions),
    }


def child_bare(directory: Path, repeat: int) -> dict[str, Any]:
    """Read and orjson.loads every snapshot file: the floor of reading the status."""
    files = sorted((directory / "snapshots").glob("*.json"))
    warm_page_cache(directory)

    def run() -> None:
        for file in files:
            orjson.loads(file.read_bytes())

    return {"times": timed(run, repeat)}


def child_overlays(directory: Path, repeat: int) -> dict[str, Any]:
    """The pass on the overlay fleet: once with an empty render cache (cold), then warm."""
    cold, warm, reading = _cold_then_warm(directory, repeat)
    plan = reading.plan
    return {
        "cold": cold,
        "times": warm,
        "renderer": reading.fleet.renderer,
        "render_problems": sum("render" in p.message for p in plan.problems),
        "moves": len(plan.moves),
        "groups": len(plan.decisions),
    }


_LIVE_ROW = re.compile(r"^\s*\((a|b|c)\)\s.*?([\d.]+) ms\s*$")


def child_live(pods: int, repeat: int) -> dict[str, Any]:
    """bench/live_ingest.py as it is, its figures read from what it prints."""
    import live_ingest

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        live_ingest.main(["--pods", str(pods), "--repeat", str(repeat)])
    figures = {}
    for line in out.getvalue().splitlines():
        match = _LIVE_ROW.match(line)
        if match:
            figures[match.group(1)] = float(match.group(2)) / 1000
    missing = {"a", "b", "c"} - set(figures)
    if missing:
        raise RuntimeError(f"live_ingest printed no row {sorted(missing)}:\n{out.getvalue()}")
    return {"model": figures["a"], "ours": figures["b"], "bare": figures["c"], "pods": pods}


def child_move(directory: Path, repeat: int) -> dict[str, Any]:
    """One move commit by Workspace.apply vs git mv + git commit, alternating, same checkout."""
    from reconciler.gitrepo.workspace import Move, Workspace

    env = {**os.environ, **_GIT_ENV}
    with tempfile.TemporaryDirectory(prefix="bench-move-") as scratch:
        remote, work = Path(scratch) / "remote.git", Path(scratch) / "work"
        _git(["clone", "-q", "--bare", str(directory / "fleet"), str(remote)], cwd=scratch, env=env)
        _git(["clone", "-q", str(remote), str(work)], cwd=scratch, env=env)
        os.environ.update(_GIT_ENV)
        workspace = Workspace.open(str(work), branch="main", sleep=time.sleep)
        source, target = "c000", "c001"
        groups = sorted(p.name for p in (work / "clusters" / source / "groups").iterdir())
        groups = [g for g in groups if g != "kustomization.yaml"]
        repeat = min(repeat, len(groups) // 2)
        warm_page_cache(directory / "fleet")  # the clones share its objects (hard links)
        ours: list[float] = []
        cli: list[float] = []
        cli_push: list[float] = []
        for index in range(repeat):
            group, other = groups[2 * index], groups[2 * index + 1]
            message = (
                f"placement: move {group} from {source} to {target}\n\n"
                f"Placement-Group: {group}\nPlacement-From: {source}\n"
                f"Placement-To: {target}\nPlacement-Reason: capacity\n"
            )
            started = time.perf_counter()
            result = workspace.apply(
                Move(group=group, source=source, target=target, message=message)
            )
            ours.append(time.perf_counter() - started)
            if result.error or not result.pushed:
                raise RuntimeError(f"the move was not written: {result}")
            started = time.perf_counter()
            _git(
                [
                    "mv",
                    f"clusters/{source}/groups/{other}",
                    f"clusters/{target}/groups/{other}",
                ],
                cwd=work,
                env=env,
            )
            _git(["commit", "-q", "-m", f"move {other} to {target}"], cwd=work, env=env)
            cli.append(time.perf_counter() - started)
            # Context: what the CLI path costs once it also pushes, as direct mode does.
            started = time.perf_counter()
            _git(["push", "-q", "origin", "main"], cwd=work, env=env)
            cli_push.append(cli[-1] + time.perf_counter() - started)
    return {"ours": ours, "cli": cli, "cli_push": cli_push}


def _git(args: list[str], *, cwd: Path | str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def child_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["pass", "bare", "live", "move", "overlays"])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--pods", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args(argv)
    if options.task == "pass":
        record = child_pass(options.dir, options.repeat)
    elif options.task == "bare":
        record = child_bare(options.dir, options.repeat)
    elif options.task == "live":
        record = child_live(options.pods, options.repeat)
    elif options.task == "overlays":
        record = child_overlays(options.dir, options.repeat)
    else:
        record = child_move(options.dir, options.repeat)
    record["peak_rss"] = peak_rss_bytes()
    sys.stdout.write("RESULT " + orjson.dumps(record).decode() + "\n")
    return 0


# ---- the parent: one child per row, then the table ------------------------------------


def in_child(task: str, *args: str, repeat: int) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its JSON record."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", task, *args, "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{task} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    record: dict[str, Any] = orjson.loads(lines[-1].removeprefix("RESULT "))
    return record


def machine_line() -> str:
    """Cores, memory and Python of this machine."""
    memory = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return (
        f"{os.cpu_count()} cores, {memory / 2**30:.0f} GiB memory, "
        f"Python {platform.python_version()} ({platform.machine()}, {platform.system()})"
    )


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _verdict(ratio: float, target: float, *, at_most: bool) -> str:
    met = ratio <= target if at_most else ratio >= target
    return "PASS" if met else "MISS"


def measure(size: str, *, seed: int, repeat: int, live_pods: int) -> dict[str, Any]:
    """Every row's figures for one size (generating the fleets first if need be)."""
    here = make_fleet.ensure_fleet(size, seed=seed)
    double = make_fleet.ensure_fleet(DOUBLE[size], seed=seed)
    meta = orjson.loads((here / "meta.json").read_bytes())
    return {
        "size": size,
        "seed": seed,
        "repeat": repeat,
        "meta": meta,
        "double_meta": orjson.loads((double / "meta.json").read_bytes()),
        "pass": in_child("pass", "--dir", str(here), repeat=repeat),
        "bare": in_child("bare", "--dir", str(here), repeat=repeat),
        "pass2": in_child("pass", "--dir", str(double), repeat=repeat),
        "bare2": in_child("bare", "--dir", str(double), repeat=repeat),
        "live": in_child("live", "--pods", str(live_pods), repeat=repeat),
        # A move is short and the noisiest row: three times the repetitions (up to the
        # groups one cluster can give).
        "move": in_child("move", "--dir", str(here), repeat=max(3 * repeat, 9)),
        "overlays": measure_overlays(size, seed=seed, repeat=repeat),
    }


def measure_overlays(size: str, *, seed: int, repeat: int) -> dict[str, Any]:
    """The overlay variant's cold and warm pass (see make_fleet.ensure_overlay_fleet)."""
    directory = make_fleet.ensure_overlay_fleet(size, seed=seed)
    record = in_child("overlays", "--dir", str(directory), repeat=repeat)
    record["overlay_groups"] = orjson.loads((directory / "meta.json").read_bytes())["overlays"]
    return record


def overlay_rows(figures: dict[str, Any]) -> list[tuple[str, str, str, float, str, str]]:
    """The overlay variant's rows: its warm pass (the target) and cold pass vs the bare parse."""
    size, overlays = figures["size"], figures["overlays"]
    bare = statistics.median(figures["bare"]["times"])
    warm, cold = statistics.median(overlays["times"]), overlays["cold"][0]
    what = f"{size}, {overlays['overlay_groups']} overlay groups"
    return [
        (
            f"overlays: warm pass vs bare JSON parse ({what})",
            _seconds(warm),
            _seconds(bare),
            warm / bare,
            "≤ 1.5",
            _verdict(warm / bare, 1.5, at_most=True),
        ),
        (
            f"overlays: cold pass (empty render cache) vs bare JSON parse ({what}, context)",
            _seconds(cold),
            _seconds(bare),
            cold / bare,
            "",
            "",
        ),
    ]


def measure_constrained(size: str, *, seed: int, repeat: int) -> dict[str, Any]:
    """The full pass and the bare parse on the size's "c" variant: the same fleet with 20% of
    its groups carrying a required anti-affinity or a DoNotSchedule spread constraint."""
    variant = f"{size}c"
    here = make_fleet.ensure_fleet(variant, seed=seed)
    return {
        "size": variant,
        "seed": seed,
        "repeat": repeat,
        "meta": orjson.loads((here / "meta.json").read_bytes()),
        "pass": in_child("pass", "--dir", str(here), repeat=repeat),
        "bare": in_child("bare", "--dir", str(here), repeat=repeat),
    }


def report_constrained(figures: dict[str, Any]) -> str:
    """The constrained variant's rows: the full pass against the bare parse (at most 1.5x)."""
    meta, median = figures["meta"], statistics.median
    full, bare = median(figures["pass"]["times"]), median(figures["bare"]["times"])
    ratio = full / bare
    return (
        "\n".join(
            [
                f"Fleet {figures['size']} (seed {figures['seed']}): {meta['clusters']} clusters, "
                f"{meta['nodes']} nodes, {meta['pods']} pods, {meta['groups']} groups, 20% of them "
                f"constrained; medians of {figures['repeat']} runs. {machine_line()}",
                "",
                "| row | ours | baseline | ratio | target | verdict |",
                "|---|---|---|---|---|---|",
                "| full pass, constrained, warm (vs bare parse) "
                f"| {_seconds(full)} | {_seconds(bare)} "
                f"| {ratio:.2f}x | <= 1.5x | {_verdict(ratio, 1.5, at_most=True)} |",
            ]
        )
        + "\n"
    )


def pass_rows(
    figures: dict[str, Any], *, bare: float, what: str
) -> list[tuple[str, str, str, float, str, str]]:
    """The full pass's rows: warm (the target) and cold (empty plain-group cache, context)."""
    warm, cold = statistics.median(figures["times"]), figures["cold"][0]
    return [
        (
            f"full pass, warm, vs bare JSON parse ({what})",
            _seconds(warm),
            _seconds(bare),
            warm / bare,
            "≤ 1.5",
            _verdict(warm / bare, 1.5, at_most=True),
        ),
        (
            f"full pass, cold (empty cache), vs bare JSON parse ({what}, context)",
            _seconds(cold),
            _seconds(bare),
            cold / bare,
            "",
            "",
        ),
    ]


def report(figures: dict[str, Any]) -> str:
    """The markdown report: what was measured, on what, and the table."""
    size, meta, double = figures["size"], figures["meta"], figures["double_meta"]
    median = statistics.median
    full, bare = median(figures["pass"]["times"]), median(figures["bare"]["times"])
    full2, bare2 = median(figures["pass2"]["times"]), median(figures["bare2"]["times"])
    live = figures["live"]
    ours_move, cli_move = median(figures["move"]["ours"]), median(figures["move"]["cli"])
    rss = figures["pass"]["peak_rss"]
    double_name = DOUBLE[size]
    rows = [
        *pass_rows(figures["pass"], bare=bare, what=size),
        (
            f"live ingestion, client models vs ours ({live['pods']} pods)",
            _seconds(live["ours"]),
            _seconds(live["model"]),
            live["model"] / live["ours"],
            "≥ 20",
            _verdict(live["model"] / live["ours"], 20, at_most=False),
        ),
        (
            "live ingestion, ours vs bare parse (context)",
            _seconds(live["ours"]),
            _seconds(live["bare"]),
            live["ours"] / live["bare"],
            "",
            "",
        ),
        (
            f"growth: full pass {double_name} vs {size}",
            _seconds(full2),
            _seconds(full),
            full2 / full,
            "≤ 2.2",
            _verdict(full2 / full, 2.2, at_most=True),
        ),
        (
            f"growth of the bare parse {double_name} vs {size} (context)",
            _seconds(bare2),
            _seconds(bare),
            bare2 / bare,
            "",
            "",
        ),
        (
            f"one move commit vs git mv + git commit ({size} repo)",
            _seconds(ours_move),
            _seconds(cli_move),
            ours_move / cli_move,
            "≤ 3.0",
            _verdict(ours_move / cli_move, 3.0, at_most=True),
        ),
        *(
            [
                (
                    "one move commit vs git mv + commit + push (context)",
                    _seconds(ours_move),
                    _seconds(median(figures["move"]["cli_push"])),
                    ours_move / median(figures["move"]["cli_push"]),
                    "",
                    "",
                )
            ]
            if figures["move"].get("cli_push")
            else []
        ),
        (
            f"peak RSS of the full pass ({size})",
            f"{rss / 2**20:.0f} MiB",
            "2048 MiB",
            rss / 2**31,
            "≤ 1.0",
            _verdict(rss / 2**31, 1.0, at_most=True),
        ),
        *overlay_rows(figures),
    ]
    lines = [
        f"Machine: {machine_line()}",
        "",
        f"Fleet {size} (seed {figures['seed']}): {meta['clusters']} clusters, {meta['nodes']} "
        f"nodes, {meta['pods']} pods ({meta['pending']} pending), {meta['groups']} groups, "
        f"{meta['bytes'] / 2**20:.0f} MiB of snapshot JSON; {double_name}: "
        f"{double['clusters']} clusters, {double['pods']} pods, {double['groups']} groups. "
        f"The {size} pass judged {figures['pass']['groups']} groups, "
        f"{figures['pass']['stuck']} stuck, {figures['pass']['moves']} moves planned. "
        f"The overlay variant ({figures['overlays']['overlay_groups']} groups overlay shared "
        f"bases) was rendered by {figures['overlays']['renderer']} and planned "
        f"{figures['overlays']['moves']} moves.",
        "",
        f"Medians of {figures['repeat']} runs, each row in its own process "
        f"({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC).",
        "",
        *_table(rows),
    ]
    return "\n".join(lines) + "\n"


def _table(rows: list[tuple[str, str, str, float, str, str]]) -> list[str]:
    """The rows as a Markdown table: measure, ours, baseline, ratio, target, result."""
    return [
        "| measure | ours | baseline | ratio | target | result |",
        "|---|---:|---:|---:|---:|---|",
        *(
            f"| {name} | {ours} | {base} | {ratio:.2f} | {target} | {verdict} |"
            for name, ours, base, ratio, target, verdict in rows
        ),
    ]


def report_overlays_only(size: str, *, seed: int, repeat: int) -> str:
    """The overlay rows alone, with the plain fleet's pass for context."""
    here = make_fleet.ensure_fleet(size, seed=seed)
    figures = {
        "size": size,
        "bare": in_child("bare", "--dir", str(here), repeat=repeat),
        "pass": in_child("pass", "--dir", str(here), repeat=repeat),
        "overlays": measure_overlays(size, seed=seed, repeat=repeat),
    }
    bare = statistics.median(figures["bare"]["times"])
    rows = [*pass_rows(figures["pass"], bare=bare, what=f"{size}, plain"), *overlay_rows(figures)]
    overlays = figures["overlays"]
    lines = [
        f"Machine: {machine_line()}",
        "",
        f"Overlay variant of {size} (seed {seed}): rendered by {overlays['renderer']}, "
        f"{overlays['groups']} groups judged, {overlays['moves']} moves planned "
        f"({figures['pass']['moves']} on the plain fleet), "
        f"{overlays['render_problems']} render problems. Medians of {repeat} runs "
        f"({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC).",
        "",
        *_table(rows),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(DOUBLE), default="M")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median)")
    parser.add_argument(
        "--live-pods", type=int, default=0, help="pods in the live list (default: per cluster)"
    )
    parser.add_argument("--out", type=Path, help="also write the report here")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--overlays-only",
        action="store_true",
        help="measure only the overlay variant's rows (and the bare parse they compare with)",
    )
    parser.add_argument(
        "--constrained",
        action="store_true",
        help="only the full pass vs bare parse on the size's constrained variant (e.g. Mc)",
    )
    options = parser.parse_args(argv)
    if options.constrained:
        figures = measure_constrained(options.size, seed=options.seed, repeat=options.repeat)
        text = report_constrained(figures)
        print(text, end="")
        if options.out:
            options.out.write_text(text, encoding="utf-8")
        return 0
    live_pods = options.live_pods or make_fleet.SIZES[options.size].pods
    if options.overlays_only:
        text = report_overlays_only(options.size, seed=options.seed, repeat=options.repeat)
        print(text, end="")
        if options.out:
            options.out.write_text(text, encoding="utf-8")
        return 0
    figures = measure(options.size, seed=options.seed, repeat=options.repeat, live_pods=live_pods)
    text = report(figures)
    print(text, end="")
    if options.out:
        options.out.write_text(text, encoding="utf-8")
    if options.json:
        options.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
