"""What each command does: thin handlers over the loop, printing plain words."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from reconciler.core.config import FleetConfig, parse_duration
from reconciler.core.errors import UsageError, in_plain_words
from reconciler.fleet.reader import read_fleet, read_fleet_config
from reconciler.fleet.validate import validate_repo
from reconciler.github.credentials import (
    CredentialError,
    authenticate_git,
    credential_from_env,
    git_push_env,
    github_client,
    secrets_in_env,
)
from reconciler.github.pull_requests import PullRequests
from reconciler.gitrepo.history import last_moves, read_moves
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR, Workspace
from reconciler.ops.daemon import PassFunction, PortUnavailable, run_daemon, serving
from reconciler.ops.health import Health
from reconciler.ops.lease import (
    OPEN_GATE,
    GatedPullRequests,
    GatedWorkspace,
    LeaderElector,
    WriteGate,
    coordination_api,
)
from reconciler.ops.logs import setup_logging
from reconciler.ops.metrics import STUCK_STATES, Metrics
from reconciler.plan.explain import plan_json, plan_text
from reconciler.plan.explain_group import explain_group
from reconciler.plan.planner import Veto, make_plan
from reconciler.reconcile.failback_memory import load_streaks
from reconciler.reconcile.one_pass import (
    PassOutcome,
    StatusReader,
    live_status,
    plan_pass,
    read_states,
    run_pass,
    snapshot_status,
)
from reconciler.reconcile.pr_pass import PrPassOutcome, github_memory, run_pr_pass

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
DEFAULT_METRICS_PORT = 9090

log = logging.getLogger("reconciler")


def demo(args: argparse.Namespace, out: TextIO) -> int:
    """Build a fleet repo from repo-template, run one pass on the shipped snapshots, show it."""
    from reconciler.demo import run_demo

    return run_demo(out=out, workdir=args.workdir, story=args.story)


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
    log_format = args.log_format
    redacting = setup_logging(log_format)
    redacting.add(secrets_from_env(os.environ))
    if args.leader_elect and not args.interval:
        raise UsageError("--leader-elect needs --interval: only a daemon holds a lease")
    every = interval_seconds(args.interval) if args.interval else 0.0
    port = metrics_port(args)
    workspace = open_workspace(args)
    config = read_fleet_config(workspace.path)
    mode = args.mode or config.mode
    reader = status_reader(args)
    metrics = Metrics()
    elector = leader_elector(args) if args.leader_elect else None
    gate = WriteGate(elector.is_leader) if elector else OPEN_GATE
    metrics.leader.set_function(lambda: 1.0 if gate.allows() else 0.0)
    gated = GatedWorkspace.around(workspace, gate)
    report = PassReporter(out=out, log_format=log_format, metrics=metrics, workspace=gated)
    report.summary = bool(args.interval) or log_format == "json"
    one_pass: PassFunction
    if mode == "pr":
        pulls, push_env = pull_requests_for(config, env=os.environ, gate=gate)
        redacting.add(secrets_in_env(push_env))

        def one_pr_pass(now: dt.datetime) -> int:
            os.environ.update(authenticate_git(args.repo, env=os.environ))  # App tokens expire
            outcome = run_pr_pass(gated, status=reader, now=now, pulls=pulls, push_env=push_env)
            return report(outcome)

        one_pass = one_pr_pass
    else:

        def one_direct_pass(now: dt.datetime) -> int:
            os.environ.update(authenticate_git(args.repo, env=os.environ))  # App tokens expire
            return report(run_pass(gated, status=reader, now=now, mode=mode))

        one_pass = one_direct_pass

    try:
        if not args.interval:
            with serving(metrics, Health(stale_after=3600.0), port=port, host=args.metrics_address):
                return one_pass(parse_now(args.now))
        return run_daemon(
            one_pass,
            every=every,
            mode=mode,
            metrics=metrics,
            elector=elector,
            gate=gate,
            port=port,
            host=args.metrics_address,
        )
    except PortUnavailable as error:
        raise UsageError(str(error)) from None


class PassReporter:
    """After each pass: metrics from its outcome, then the report in the chosen format."""

    def __init__(
        self, *, out: TextIO, log_format: str, metrics: Metrics, workspace: Workspace
    ) -> None:
        self.out = out
        self.log_format = log_format
        self.metrics = metrics
        self.workspace = workspace
        self.summary = True  # one summary log line per pass (the daemon's heartbeat in the log)

    def __call__(self, outcome: PassOutcome | PrPassOutcome) -> int:
        self.metrics.record_outcome(outcome)
        try:
            self.metrics.record_history(read_moves(self.workspace.path))
        except Exception as error:  # the history is for metrics only here
            log.warning("history not read for metrics: %s", in_plain_words(error))
        text = io.StringIO()
        if isinstance(outcome, PrPassOutcome):
            code = report_pr_pass(outcome, text)
        else:
            code = report_pass(outcome, text)
        fields = pass_fields(outcome)
        if self.log_format == "json":
            log.info(text.getvalue().rstrip("\n"), extra={"event": "pass", **fields})
        else:
            self.out.write(text.getvalue())
            self.out.flush()
        if self.summary:
            summary = " ".join(f"{key}={value}" for key, value in fields.items())
            log.info("pass done: %s", summary, extra={"event": "pass-summary"})
        return code


def pass_fields(outcome: PassOutcome | PrPassOutcome) -> dict[str, int]:
    """A pass in numbers, for the summary log line."""
    plan = outcome.plan
    stuck = sum(1 for d in plan.decisions if d.state in STUCK_STATES)
    unknown = sum(1 for c in plan.clusters if not c.known)
    return {
        "groups": len(plan.decisions),
        "stuck": stuck,
        "moves": len(plan.moves),
        "failed": len(outcome.failed),
        "unknown_clusters": unknown,
    }


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


def secrets_from_env(env: Mapping[str, str]) -> list[str]:
    """The GitHub credential's secrets, to mask in the logs (none when there is none)."""
    try:
        credential = credential_from_env(env)
    except CredentialError:
        return []
    return credential.secrets() if credential else []


def pull_requests_for(
    config: FleetConfig, *, env: Mapping[str, str], gate: WriteGate = OPEN_GATE
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
    pulls = GatedPullRequests(
        github_client(credential, base_url=base_url),
        repo=config.git.github.repo,
        base=config.git.branch,
        bot_email=DEFAULT_AUTHOR[1],
        secrets=credential.secrets(),
    )
    pulls.gate = gate
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
        elif result.already_moved:
            print(
                f"\n{result.group}: already moved on origin as {result.commit[:12]} "
                "(by another writer); nothing written",
                file=out,
            )
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
            f"{record.reached} {record.step} from {record.source} ({record.reason})"
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
    print(
        f"{groups} group{'s' if groups != 1 else ''} on {len(fleet.config.clusters)} clusters; "
        f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)",
        file=out,
    )
    return EXIT_FAILURE if errors else EXIT_OK


def explain(args: argparse.Namespace, out: TextIO) -> int:
    """One group's full story: state, stuck pods, demand per shape, node classes, guards."""
    workspace = open_workspace(args)
    now = parse_now(args.now)
    fleet = read_fleet(workspace.path)
    group = fleet.group(args.group)
    if group is None:
        names = ", ".join(sorted(g.name for g in fleet.groups)) or "none"
        raise UsageError(f"no group {args.group!r} in the fleet repo (groups: {names})")
    states = read_states(status_reader(args), fleet.config, now=now)
    last = {name: record.when for name, record in last_moves(read_moves(workspace.path)).items()}
    proposed: dict[str, str] = {}
    vetoes: Mapping[str, list[Veto]] = {}
    open_pr = ""
    if fleet.config.git.github is not None and credential_from_env(os.environ) is not None:
        pulls, _ = pull_requests_for(fleet.config, env=os.environ)
        memory = github_memory(pulls, fleet=fleet, workspace=workspace, now=now)
        last = {**last, **memory.last_moves}
        proposed = {m.group: m.target for m in memory.open_moves}
        vetoes = memory.vetoes
        mine = next((m for m in memory.open_moves if m.group == group.name), None)
        open_pr = f"#{mine.number} {mine.url} (to {mine.target})" if mine else ""
    plan = make_plan(
        fleet,
        states,
        now=now,
        last_moves=last,
        proposed=proposed,
        vetoes=vetoes,
        home_streaks=load_streaks(workspace.path),
    )
    decision = next(d for d in plan.decisions if d.group == group.name)
    told = explain_group(
        group,
        decision,
        states=states,
        now=now,
        last_move=last.get(group.name),
        open_pull_request=open_pr,
    )
    print(told, file=out)
    if fleet.config.git.github is not None and not open_pr and not proposed and not vetoes:
        if credential_from_env(os.environ) is None:
            print(
                "\n(no GitHub credential: open move pull requests and vetoes not checked)", file=out
            )
    return EXIT_OK


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
    try:  # a private fleet repo over https: clone and fetch with the GitHub credential
        os.environ.update(authenticate_git(args.repo, env=os.environ))
    except CredentialError as error:
        raise UsageError(str(error)) from None
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
