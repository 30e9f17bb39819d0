"""What each command does: thin handlers over the loop, printing plain words."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, TextIO

from reconciler.cli.credentials import git_credentials, secrets_from_env
from reconciler.cli.exit_codes import EXIT_FAILURE, EXIT_NOTHING_JUDGED, EXIT_OK
from reconciler.cli.report import pass_reporter
from reconciler.cli.timeline import history_json, history_mermaid
from reconciler.core.config import FleetConfig, parse_duration
from reconciler.core.errors import UsageError
from reconciler.core.progress import Progress, no_progress
from reconciler.fleet.model import Fleet
from reconciler.fleet.reader import read_fleet, read_fleet_config
from reconciler.fleet.validate import validate_repo
from reconciler.github.credentials import (
    CredentialError,
    GitHubCredential,
    credential_from_env,
    github_client,
)
from reconciler.github.deadline import Deadline
from reconciler.github.move_pull_request import GitHubUnavailable
from reconciler.gitrepo.history import last_moves, read_moves
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR, Workspace
from reconciler.ops.daemon import run_daemon
from reconciler.ops.lease import (
    OPEN_GATE,
    GatedPullRequests,
    GatedWorkspace,
    LeaderElector,
    WriteGate,
    coordination_api,
)
from reconciler.ops.logs import setup_logging
from reconciler.ops.metrics import Metrics
from reconciler.ops.runner import observed_pass, run_once, write_gate
from reconciler.plan.explain import plan_json, plan_text, policy_summary
from reconciler.plan.explain_group import explain_group
from reconciler.plan.markdown import group_markdown, plan_markdown
from reconciler.reconcile.github_deadline import DeadlinePullRequestWriter
from reconciler.reconcile.memory import Memory, git_memory, github_memory
from reconciler.reconcile.run import Pipeline, Reading, read_and_plan
from reconciler.reconcile.status_source import (
    StatusReader,
    live_status,
    snapshot_status,
)
from reconciler.reconcile.writers import writer_for

DEFAULT_METRICS_PORT = 9090

log = logging.getLogger("reconciler")


def demo(args: argparse.Namespace, out: TextIO) -> int:
    """Build a fleet repo from repo-template, run one pass on the shipped snapshots, show it."""
    from reconciler.demo import run_demo

    return run_demo(out=out, workdir=args.workdir, story=args.story)


def plan(args: argparse.Namespace, out: TextIO) -> int:
    """Decide and explain; write nothing."""
    _, reading, note = look(args)
    if args.output == "json":
        dump_json({**plan_json(reading.plan), "renderer": renderer_of(reading.fleet)}, out)
        if note:
            print(f"note: {note}", file=sys.stderr)
    elif args.output == "markdown":
        policies = {g.name: policy_summary(g.policy) for g in reading.fleet.groups}
        print(plan_markdown(reading.plan, policies=policies), end="", file=out)
        if note:
            print(f"note: {note}", file=sys.stderr)
    else:
        print(plan_text(reading.plan), file=out)
        print(f"Rendered by: {renderer_of(reading.fleet)}", file=out)
        if note:
            print(f"\nnote: {note}", file=out)
    if reading.plan.nothing_judged:
        print(f"nothing could be judged: {reading.plan.nothing_judged}", file=sys.stderr)
        return EXIT_NOTHING_JUDGED
    return EXIT_OK


def look(args: argparse.Namespace) -> tuple[Workspace, Reading, str]:
    """What `run` would read and decide, writing nothing, with GitHub's memory as `run` has
    it (read only); the note says in one line when GitHub was not read, and why."""
    git_env = git_env_of(args)
    workspace = open_workspace(args, env=git_env)
    recall = ReadOnlyRecall(args, config=read_fleet_config(workspace.path))
    reading = read_and_plan(
        workspace,
        status=status_reader(args),
        recall=recall,
        now=parse_now(args.now),
        git_env=git_env,
        progress=progress_of(args),
    )
    return workspace, reading, recall.note


class ReadOnlyRecall:
    """GitHub's memory (open move pull requests, vetoes, merges) when it can be read, else
    git's alone with a note saying why: the read-only commands then agree with `run`."""

    def __init__(self, args: argparse.Namespace, *, config: FleetConfig) -> None:
        self.note = ""
        self._pulls: GatedPullRequests | None = None
        if config.git.github is None:
            return
        if args.offline:
            self.note = "--offline: vetoes and open move pull requests were not considered"
        elif not has_credential(os.environ):
            self.note = (
                "no GitHub credential in the environment: vetoes and open move pull requests "
                "were not considered"
            )
        else:
            self._pulls = pull_requests_for(config, env=os.environ).pulls

    def __call__(self, workspace: Workspace, *, fleet: Fleet, now: dt.datetime) -> Memory:
        if self._pulls is None:
            return git_memory(workspace)
        try:
            return github_memory(self._pulls, fleet=fleet, workspace=workspace, now=now)
        except GitHubUnavailable as failure:
            self.note = f"{failure}: vetoes and open move pull requests were not considered"
            return git_memory(workspace)


def has_credential(env: Mapping[str, str]) -> bool:
    """Whether the environment names a GitHub credential (a broken one is an error)."""
    try:
        return credential_from_env(env) is not None
    except CredentialError as error:
        raise UsageError(str(error)) from None


def run(args: argparse.Namespace, out: TextIO) -> int:
    """One pass (or a pass every --interval) that writes the moves it decides."""
    redacting = setup_logging(args.log_format)
    redacting.add(secrets_from_env(os.environ))
    if args.leader_elect and not args.interval:
        raise UsageError("--leader-elect needs --interval: only a daemon holds a lease")
    every = interval_seconds(args.interval) if args.interval else 0.0
    port = metrics_port(args)
    workspace = open_workspace(args, mask=redacting.add)
    config = read_fleet_config(workspace.path)
    mode = args.mode or config.mode
    status = status_reader(args)
    metrics = Metrics()
    elector = leader_elector(args) if args.leader_elect else None
    gate = write_gate(elector, metrics=metrics)
    pipeline = pass_pipeline(
        args,
        mode=mode,
        config=config,
        workspace=GatedWorkspace.around(workspace, gate),
        status=status,
        gate=gate,
        mask=redacting.add,
    )
    summary = bool(args.interval) or args.log_format == "json"
    report = pass_reporter(out=out, log_format=args.log_format, summary=summary)
    one_pass = observed_pass(pipeline, metrics=metrics, report=report)
    host = args.metrics_address
    if not args.interval:
        now = parse_now(args.now)
        return run_once(one_pass, now=now, metrics=metrics, port=port, host=host)
    return run_daemon(
        one_pass,
        every=every,
        mode=mode,
        metrics=metrics,
        elector=elector,
        gate=gate,
        port=port,
        host=host,
    )


def pass_pipeline(
    args: argparse.Namespace,
    *,
    mode: str,
    config: FleetConfig,
    workspace: Workspace,
    status: StatusReader,
    gate: WriteGate,
    mask: Callable[[Iterable[str]], None],
) -> Pipeline:
    """The pass `run` repeats: the mode's writer, and git's credentials asked per pass."""
    if mode != "pr":
        git_env = git_credentials(args.repo, environ=os.environ, mask=mask, checkout=workspace.path)
        writer = writer_for(mode, progress=progress_of(args))
        return Pipeline(
            workspace, status=status, writer=writer, git_env=git_env, progress=progress_of(args)
        )
    pulls, credential, deadline = pull_requests_for(config, env=os.environ, gate=gate)
    git_env = git_credentials(
        args.repo,
        environ=os.environ,
        mask=mask,
        github=credential,
        github_url=config.git.github.base_url if config.git.github else "",
        checkout=workspace.path,
    )
    git_env()  # a checkout that already authenticates to GitHub is refused before any pass
    moves = writer_for(mode, pulls=pulls, progress=progress_of(args))
    writer = DeadlinePullRequestWriter(moves, deadline=deadline)
    return Pipeline(
        workspace, status=status, writer=writer, git_env=git_env, progress=progress_of(args)
    )


def metrics_port(args: argparse.Namespace) -> int:
    """--metrics-port, or its default: 9090 with --interval, off for a single pass."""
    port = args.metrics_port
    if port is None:
        return DEFAULT_METRICS_PORT if args.interval else 0
    if not 0 <= port <= 65535:
        raise UsageError(f"--metrics-port: {port} is not a port number (0 turns it off)")
    return int(port)


def leader_elector(args: argparse.Namespace) -> LeaderElector:
    """The Lease elector: in-cluster config, or the --lease-context kubeconfig context."""
    from reconciler.status.kube_connect import IN_CLUSTER, ConnectError

    try:
        api = coordination_api(args.lease_context or IN_CLUSTER, kubeconfig=args.kubeconfig)
    except ConnectError as error:
        raise UsageError(f"--leader-elect: {error}") from None
    return LeaderElector(api, name=args.lease_name, namespace=args.lease_namespace)


class GitHubSide(NamedTuple):
    """What mode pr talks to GitHub with: the pull requests, the credential, the deadline."""

    pulls: GatedPullRequests
    credential: GitHubCredential
    deadline: Deadline


def pull_requests_for(
    config: FleetConfig, *, env: Mapping[str, str], gate: WriteGate = OPEN_GATE
) -> GitHubSide:
    """The GitHub side of mode pr: the repo and the deadline (git.github.deadline) from
    fleet.yaml, the credential from the env."""
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
    deadline = Deadline(config.git.github.deadline.total_seconds())
    pulls = GatedPullRequests(
        github_client(credential, base_url=base_url, deadline=deadline),
        repo=config.git.github.repo,
        base=config.git.branch,
        bot_email=DEFAULT_AUTHOR[1],
        secrets=credential.secrets(),
    )
    pulls.gate = gate
    return GitHubSide(pulls, credential, deadline)


def status(args: argparse.Namespace, out: TextIO) -> int:
    """Per group: its cluster, its state, its last move."""
    workspace, reading, note = look(args)
    result = reading.plan
    moved = last_moves(read_moves(workspace.path))
    rows = [("GROUP", "CLUSTER", "STATE", "LAST MOVE")]
    for decision in result.decisions:
        record = moved.get(decision.group)
        last = (
            f"{record.reached} {record.step} from {record.source} ({record.reason})"
            if record
            else "never moved"
        )
        rows.append((decision.group, decision.cluster, decision.state, last))
    print_table(rows, out)
    for decision in result.decisions:
        landing = decision.landing
        if landing is not None and landing.evidence:
            print(f"\n{decision.group}: {decision.summary}", file=out)
            for fact in landing.evidence:
                print(f"  {fact}", file=out)
    for cluster in result.clusters:
        if not cluster.known:
            print(f"\n{cluster.name}: status unknown ({cluster.reason})", file=out)
    if note:
        print(f"\nnote: {note}", file=out)
    return EXIT_OK


def history(args: argparse.Namespace, out: TextIO) -> int:
    """The placement timeline rebuilt from the commit trailers."""
    workspace = open_workspace(args)
    records = [r for r in read_moves(workspace.path) if args.group in (None, r.group)]
    if args.output == "json":
        dump_json(history_json(records), out)
        return EXIT_OK
    if args.output == "mermaid":
        print(history_mermaid(records), end="", file=out)
        return EXIT_OK
    if not records:
        print(
            "no placement moves in the history" + (f" of {args.group}" if args.group else ""),
            file=out,
        )
        return EXIT_OK
    rows = [("REACHED THE BRANCH", "GROUP", "STEP", "FROM", "TO", "REASON", "COMMIT")]
    rows += [
        (r.reached, r.group, r.step, r.source, r.target, r.reason, r.commit[:12]) for r in records
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
    print(f"Rendered by: {renderer_of(fleet)}", file=out)
    print(
        f"{groups} group{'s' if groups != 1 else ''} on {len(fleet.config.clusters)} clusters; "
        f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)",
        file=out,
    )
    return EXIT_FAILURE if errors else EXIT_OK


def explain(args: argparse.Namespace, out: TextIO) -> int:
    """One group's full story: state, stuck pods, demand per shape, node classes, guards."""
    _, reading, note = look(args)
    group = reading.fleet.group(args.group)
    if group is None:
        names = ", ".join(sorted(g.name for g in reading.fleet.groups)) or "none"
        raise UsageError(f"no group {args.group!r} in the fleet repo (groups: {names})")
    mine = next((m for m in reading.memory.open_moves if m.group == group.name), None)
    decision = next(d for d in reading.plan.decisions if d.group == group.name)
    if args.output == "markdown":
        policy = policy_summary(group.policy)
        print(group_markdown(decision, plan=reading.plan, policy=policy), end="", file=out)
        if note:
            print(f"note: {note}", file=sys.stderr)
        return EXIT_OK
    told = explain_group(
        group,
        decision,
        states=reading.states,
        now=reading.plan.now,
        last_move=reading.memory.last_moves.get(group.name),
        open_pull_request=f"#{mine.number} {mine.url} (to {mine.target})" if mine else "",
    )
    print(told, file=out)
    print(f"Rendered by: {renderer_of(reading.fleet)}", file=out)
    if note:
        print(f"\nnote: {note}", file=out)
    return EXIT_OK


def renderer_of(fleet: Fleet) -> str:
    """The renderer a read used, in words: kustomize's command and version, or in-process."""
    return fleet.renderer or "in-process (every group is plain)"


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
        return live_status(kubeconfig=args.kubeconfig, progress=progress_of(args))
    directory = Path(args.status)
    if not directory.is_dir():
        raise UsageError(
            f"--status: {args.status!r} is neither 'live' nor a directory of snapshots"
        )
    return snapshot_status(directory, progress=progress_of(args))


def progress_of(args: argparse.Namespace) -> Progress:
    """The command's progress display (main sets it: a terminal's, or none)."""
    found: Progress = getattr(args, "progress", no_progress)
    return found


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


def git_env_of(
    args: argparse.Namespace, *, mask: Callable[[Iterable[str]], None] = lambda _: None
) -> dict[str, str]:
    """git's credentials for --repo (a private fleet repo over https), resolved now."""
    try:
        return git_credentials(args.repo, environ=os.environ, mask=mask)()
    except CredentialError as error:
        raise UsageError(str(error)) from None


def open_workspace(
    args: argparse.Namespace,
    *,
    mask: Callable[[Iterable[str]], None] = lambda _: None,
    env: Mapping[str, str] | None = None,
) -> Workspace:
    """The checkout to read and write: the local repo itself, or a clone of the URL.

    `env` is git's credentials when the caller has resolved them already; else they are
    resolved here (see git_env_of)."""
    if env is None:
        env = git_env_of(args, mask=mask)
    branch = "main"
    local = Path(args.repo)
    if local.is_dir() and (local / "fleet.yaml").exists():
        branch = read_fleet_config(local).git.branch
    workspace = Workspace.open(args.repo, branch=branch, workdir=args.workdir, env=env)
    configured = read_fleet_config(workspace.path).git.branch
    if configured != branch:
        workspace = Workspace.open(args.repo, branch=configured, workdir=args.workdir, env=env)
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
