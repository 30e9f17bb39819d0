"""What each command does: thin handlers over the loop, printing plain words."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from reconciler.act.git_writer import DEFAULT_AUTHOR, Workspace
from reconciler.act.github_auth import (
    CredentialError,
    credential_from_env,
    git_push_env,
    github_client,
)
from reconciler.act.pull_requests import PullRequests
from reconciler.config import FleetConfig, parse_duration
from reconciler.fleet.reader import read_fleet, read_fleet_config
from reconciler.fleet.validate import validate_repo
from reconciler.history import last_moves, read_moves
from reconciler.loop import (
    PassOutcome,
    StatusReader,
    live_status,
    plan_pass,
    run_pass,
    snapshot_status,
)
from reconciler.plan.explain import plan_json, plan_text
from reconciler.pr_pass import PrPassOutcome, run_pr_pass

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(ValueError):
    """A command-line argument that cannot be used."""


def demo(args: argparse.Namespace, out: TextIO) -> int:
    """Build a fleet repo from repo-template, run one pass on the shipped snapshots, show it."""
    from reconciler.demo import run_demo

    return run_demo(out=out, workdir=args.workdir)


def plan(args: argparse.Namespace, out: TextIO) -> int:
    """Decide and explain; write nothing."""
    workspace = open_workspace(args)
    result = plan_pass(workspace, status=status_reader(args), now=parse_now(args.now))
    if args.output == "json":
        dump_json(plan_json(result), out)
    else:
        print(plan_text(result), file=out)
    return EXIT_OK


def run(args: argparse.Namespace, out: TextIO) -> int:
    """One pass (or a pass every --interval) that writes the moves it decides."""
    workspace = open_workspace(args)
    config = read_fleet_config(workspace.path)
    mode = args.mode or config.mode
    reader = status_reader(args)
    if mode == "pr":
        pulls, push_env = pull_requests_for(config, env=os.environ)

        def one_pr_pass(now: dt.datetime) -> int:
            outcome = run_pr_pass(workspace, status=reader, now=now, pulls=pulls, push_env=push_env)
            return report_pr_pass(outcome, out)

        if not args.interval:
            return one_pr_pass(parse_now(args.now))
        return repeat(one_pr_pass, every=interval_seconds(args.interval), out=out)

    def one_pass(now: dt.datetime) -> int:
        return report_pass(run_pass(workspace, status=reader, now=now, mode=mode), out)

    if not args.interval:
        return one_pass(parse_now(args.now))
    return repeat(one_pass, every=interval_seconds(args.interval), out=out)


def repeat(one_pass: Callable[[dt.datetime], int], *, every: float, out: TextIO) -> int:
    """Pass after pass until SIGTERM or SIGINT; the pass in flight always finishes."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        try:
            one_pass(dt.datetime.now(dt.UTC))
        except Exception as error:  # one failed pass never ends the loop
            print(f"pass failed: {type(error).__name__}: {error}", file=out)
        stop.wait(every)
    return EXIT_OK


def pull_requests_for(
    config: FleetConfig, *, env: Mapping[str, str]
) -> tuple[PullRequests, dict[str, str]]:
    """The GitHub side of mode pr: the repo from fleet.yaml, the credential from the env."""
    if config.git.github is None:
        raise UsageError("mode 'pr' needs git.github.repo in fleet.yaml (e.g. org/fleet)")
    try:
        credential = credential_from_env(env)
    except CredentialError as error:
        raise UsageError(str(error)) from None
    if credential is None:
        raise UsageError(
            "mode 'pr' needs a GitHub credential in the environment: GITHUB_TOKEN, "
            "GITHUB_TOKEN_FILE, or GITHUB_APP_ID + GITHUB_APP_INSTALLATION_ID + "
            "GITHUB_APP_PRIVATE_KEY_FILE"
        )
    base_url = config.git.github.base_url
    pulls = PullRequests(
        github_client(credential, base_url=base_url),
        repo=config.git.github.repo,
        base=config.git.branch,
        bot_email=DEFAULT_AUTHOR[1],
        secrets=credential.secrets(),
    )
    return pulls, git_push_env(credential, base_url=base_url)


def report_pr_pass(outcome: PrPassOutcome, out: TextIO) -> int:
    """Print what a pr pass decided and did; 1 when a proposal or withdrawal failed."""
    print(plan_text(outcome.plan), file=out)
    for result in outcome.proposals + outcome.withdrawals:
        where = f" #{result.number} {result.url}".rstrip() if result.number else ""
        detail = f": {result.error}" if result.error else ""
        print(f"\n{result.group}: pull request{where} {result.action}{detail}", file=out)
    if outcome.stopped:
        print(f"\n{outcome.stopped}", file=out)
    return EXIT_FAILURE if outcome.failed else EXIT_OK


def report_pass(outcome: PassOutcome, out: TextIO) -> int:
    """Print what a pass decided and wrote; 1 when a decided move could not be written."""
    print(plan_text(outcome.plan), file=out)
    for diff in outcome.diffs:
        print(f"\n(dry-run: nothing written)\n{diff}", file=out)
    for result in outcome.results:
        if result.error:
            print(f"\n{result.group}: NOT written: {result.error}", file=out)
        else:
            where = "committed and pushed" if result.pushed else "committed (no remote to push to)"
            print(f"\n{result.group}: {where} as {result.commit[:12]}", file=out)
    return EXIT_FAILURE if outcome.failed else EXIT_OK


def status(args: argparse.Namespace, out: TextIO) -> int:
    """Per group: its cluster, its state, its last move."""
    workspace = open_workspace(args)
    result = plan_pass(workspace, status=status_reader(args), now=parse_now(args.now))
    moved = last_moves(read_moves(workspace.path))
    rows = [("GROUP", "CLUSTER", "STATE", "LAST MOVE")]
    for decision in result.decisions:
        record = moved.get(decision.group)
        last = (
            f"{record.when:%Y-%m-%d %H:%M} from {record.source} ({record.reason})"
            if record
            else "never moved"
        )
        rows.append((decision.group, decision.cluster, decision.state, last))
    print_table(rows, out)
    for cluster in result.clusters:
        if not cluster.known:
            print(f"\n{cluster.name}: status unknown ({cluster.reason})", file=out)
    return EXIT_OK


def history(args: argparse.Namespace, out: TextIO) -> int:
    """The placement timeline rebuilt from the commit trailers."""
    workspace = open_workspace(args)
    records = [r for r in read_moves(workspace.path) if args.group in (None, r.group)]
    if not records:
        print(
            "no placement moves in the history" + (f" of {args.group}" if args.group else ""),
            file=out,
        )
        return EXIT_OK
    rows = [("WHEN (UTC)", "GROUP", "FROM", "TO", "REASON", "COMMIT")]
    rows += [
        (f"{r.when:%Y-%m-%d %H:%M}", r.group, r.source, r.target, r.reason, r.commit[:12])
        for r in records
    ]
    print_table(rows, out)
    return EXIT_OK


def validate(args: argparse.Namespace, out: TextIO) -> int:
    """Lint the fleet repo and its bootstrap; 1 when anything is wrong."""
    workspace = open_workspace(args)
    fleet = read_fleet(workspace.path)
    problems = list(fleet.problems) + validate_repo(workspace.path, fleet=fleet)
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        print(problem, file=out)
    groups = len(fleet.groups)
    print(
        f"{groups} group{'s' if groups != 1 else ''} on {len(fleet.config.clusters)} clusters; "
        f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)",
        file=out,
    )
    return EXIT_FAILURE if errors else EXIT_OK


def snapshot(args: argparse.Namespace, out: TextIO) -> int:
    """Dump one live cluster into <name>.yaml in the snapshot format."""
    from reconciler.status.dump import dump_snapshot, write_snapshot

    data = dump_snapshot(args.context, kubeconfig=args.kubeconfig)
    path = write_snapshot(data, directory=args.output, cluster=args.name or args.context)
    print(f"wrote {path} ({len(data.get('items', []))} objects)", file=out)
    return EXIT_OK


def status_reader(args: argparse.Namespace) -> StatusReader:
    """--status: 'live', or a directory of snapshots."""
    if args.status == "live":
        return live_status(kubeconfig=args.kubeconfig)
    directory = Path(args.status)
    if not directory.is_dir():
        raise UsageError(
            f"--status: {args.status!r} is neither 'live' nor a directory of snapshots"
        )
    return snapshot_status(directory)


def print_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Print rows as aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )


def parse_now(raw: str | None) -> dt.datetime:
    """The --now value as an aware UTC datetime (the real time when not given)."""
    if raw is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--now: {raw!r} is not an ISO 8601 time (e.g. 2026-11-28T12:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def open_workspace(args: argparse.Namespace) -> Workspace:
    """The checkout to read and write: the local repo itself, or a clone of the URL."""
    branch = "main"
    local = Path(args.repo)
    if local.is_dir() and (local / "fleet.yaml").exists():
        branch = read_fleet_config(local).git.branch
    workspace = Workspace.open(args.repo, branch=branch, workdir=args.workdir)
    configured = read_fleet_config(workspace.path).git.branch
    if configured != branch:
        workspace = Workspace.open(args.repo, branch=configured, workdir=args.workdir)
    return workspace


def dump_json(data: object, out: TextIO) -> None:
    """Print JSON the same way everywhere."""
    json.dump(data, out, indent=2, sort_keys=False)
    out.write("\n")


def interval_seconds(raw: str) -> float:
    """--interval as seconds."""
    try:
        return parse_duration(raw).total_seconds()
    except ValueError as error:
        raise UsageError(f"--interval: {error}") from None
