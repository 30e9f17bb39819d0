"""The `placement-reconciler` command line."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TextIO

from reconciler.cli import check as check_command
from reconciler.cli import commands
from reconciler.cli.exit_codes import EXIT_FAILURE, EXIT_USAGE, exit_code
from reconciler.cli.progress import TerminalProgress, progress_for
from reconciler.core import schema as schema_module
from reconciler.core.errors import ReconcilerError, in_plain_words
from reconciler.ops.lease import DEFAULT_LEASE_NAME, DEFAULT_LEASE_NAMESPACE

DEBUG_HINT = "(run again with --debug for the traceback)"


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run one command; return its exit code (0 ok, 1 failure, 2 usage or invalid fleet repo)."""
    out = out or sys.stdout
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and EXIT_USAGE
    args.progress = progress_for(args, stream=sys.stderr)
    try:
        return int(args.handler(args, out))
    except KeyboardInterrupt:
        return EXIT_FAILURE
    except Exception as error:  # a failure is reported in one line; the traceback is for --debug
        if isinstance(args.progress, TerminalProgress):
            args.progress.close()  # the error line must not land inside a progress line
        if args.debug:
            traceback.print_exc(file=sys.stderr)
        print(f"error: {_one_line(error, debug=args.debug)}", file=sys.stderr)
        return exit_code(error)
    finally:
        if isinstance(args.progress, TerminalProgress):
            args.progress.close()


def _one_line(error: BaseException, *, debug: bool) -> str:
    if isinstance(error, ReconcilerError):
        return str(error)
    return in_plain_words(error) if debug else f"{in_plain_words(error)} {DEBUG_HINT}"


def _version() -> str:
    try:
        return metadata.version("placement-reconciler")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        import reconciler

        return str(getattr(reconciler, "__version__", "unknown"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="placement-reconciler",
        description="Move a group of workloads that is stuck for lack of capacity to a cluster "
        "that fits it, by a commit or pull request in the fleet repo.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    parser.add_argument(
        "--debug", action="store_true", help="on a failure, print the traceback as well"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress on stderr (shown on a terminal)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the embedded example: no cluster, no network")
    demo.add_argument(
        "--workdir", type=Path, help="where to build the demo repos (default: a temp dir)"
    )
    demo.add_argument(
        "--story",
        choices=("relocate", "failback", "make-before-break", "check"),
        default="relocate",
        help="relocate (the seed, one pass), failback, or make-before-break (several "
        "passes), or check (the seed's upgrade caught on its pull request, before the merge)",
    )
    demo.set_defaults(handler=commands.demo)

    plan = sub.add_parser("plan", help="decide and explain, write nothing")
    _repo_arguments(plan)
    _status_arguments(plan)
    _offline_argument(plan)
    plan.add_argument(
        "-o",
        "--output",
        choices=("table", "json", "markdown"),
        default="table",
        help="markdown: each move as its pull request shows it (flowchart, capacity, pods)",
    )
    plan.set_defaults(handler=commands.plan)

    run = sub.add_parser("run", help="decide and write the moves")
    _repo_arguments(run)
    _status_arguments(run)
    run.add_argument(
        "--mode", choices=("pr", "direct", "dry-run"), help="default: fleet.yaml git.mode"
    )
    when = run.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one pass, then exit (the default)")
    when.add_argument(
        "--interval", help="run a pass every INTERVAL (e.g. 60s) until SIGTERM or SIGINT"
    )
    _daemon_arguments(run)
    run.set_defaults(handler=commands.run)

    status = sub.add_parser("status", help="per group: cluster, state, last move")
    _repo_arguments(status)
    _status_arguments(status)
    _offline_argument(status)
    status.set_defaults(handler=commands.status)

    history = sub.add_parser("history", help="placement timeline read from git")
    _repo_arguments(history)
    history.add_argument("group", nargs="?", help="only this group")
    history.add_argument(
        "-o",
        "--output",
        "--format",
        dest="output",
        choices=("table", "json", "mermaid"),
        default="table",
        help="mermaid: a timeline of each group's placements (paste it where Mermaid renders)",
    )
    history.set_defaults(handler=commands.history)

    validate = sub.add_parser("validate", help="lint the fleet repo and its bootstrap")
    _repo_arguments(validate)
    validate.set_defaults(handler=commands.validate)

    explain = sub.add_parser("explain", help="why one group moves or stays, in full")
    explain.add_argument("group", help="the group (its directory name)")
    explain.add_argument(
        "-o",
        "--output",
        choices=("text", "markdown"),
        default="text",
        help="markdown: the group's picture, as a move's pull request shows it",
    )
    _repo_arguments(explain)
    _status_arguments(explain)
    _offline_argument(explain)
    explain.set_defaults(handler=commands.explain)

    check_parser = sub.add_parser(
        "check", help="pre-merge capacity check of a change: will each touched group fit?"
    )
    _check_arguments(check_parser)
    check_parser.set_defaults(handler=check_command.check)

    schema = sub.add_parser("schema", help="write JSON Schema for fleet.yaml and placement.yaml")
    schema.add_argument(
        "-o", "--output", type=Path, help="directory for the two schema files (default: print)"
    )
    schema.set_defaults(handler=schema_module.schema)

    snapshot = sub.add_parser("snapshot", help="dump a live cluster into a snapshot file")
    snapshot.add_argument("--context", required=True, help="kubeconfig context to read")
    snapshot.add_argument("--name", help="cluster name for the file (default: the context)")
    snapshot.add_argument("-o", "--output", type=Path, default=Path("."), help="directory")
    snapshot.add_argument("--kubeconfig", help="kubeconfig file(s), as KUBECONFIG")
    snapshot.set_defaults(handler=commands.snapshot)
    for command in sub.choices.values():  # --debug and --quiet after the command work too
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        command.add_argument(
            "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, help="fleet repo: a local git checkout")
    parser.add_argument("--base", required=True, help="the commit the change starts from")
    parser.add_argument("--head", required=True, help="the commit of the change")
    _status_arguments(parser)
    parser.add_argument("-o", "--output", choices=("text", "json", "markdown"), default="text")
    parser.add_argument(
        "--fail-on",
        default=check_command.DEFAULT_FAIL_ON.replace(" ", "-"),
        metavar="VERDICTS",
        help="verdicts that fail the check, by commas: fits, will-stall, fits-nowhere, "
        "unknown, or none (default: %(default)s)",
    )
    parser.add_argument(
        "--zero-downtime-off",
        action="append",
        default=[],
        metavar="CLUSTER",
        help="the KubeRay operator on CLUSTER runs with ENABLE_ZERO_DOWNTIME=false "
        "(repeatable; the operator's environment is not part of a cluster's status)",
    )
    parser.add_argument(
        "--pr",
        type=int,
        metavar="NUMBER",
        help="comment on this pull request and set the placement/capacity status "
        "(default: the pull request of GITHUB_EVENT_PATH; needs a GitHub credential)",
    )


def _repo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, help="fleet repo: a local path or a clone URL")
    parser.add_argument("--workdir", type=Path, help="checkout directory for a clone URL")


def _daemon_arguments(parser: argparse.ArgumentParser) -> None:
    ops = parser.add_argument_group("operating it")
    ops.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve /metrics, /healthz and /readyz on PORT; 0 turns it off "
        f"(default: {commands.DEFAULT_METRICS_PORT} with --interval, off for one pass)",
    )
    ops.add_argument(
        "--metrics-address",
        default="0.0.0.0",
        metavar="ADDRESS",
        help="address the metrics port listens on (default: all interfaces)",
    )
    ops.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log lines as plain text (the default) or JSON lines; with json the pass "
        "report is logged too",
    )
    ops.add_argument(
        "--leader-elect",
        action="store_true",
        help="with several replicas: only the holder of a coordination.k8s.io Lease writes",
    )
    ops.add_argument("--lease-name", default=DEFAULT_LEASE_NAME, help="(default: %(default)s)")
    ops.add_argument(
        "--lease-namespace", default=DEFAULT_LEASE_NAMESPACE, help="(default: %(default)s)"
    )
    ops.add_argument(
        "--lease-context",
        metavar="CONTEXT",
        help="kubeconfig context of the cluster holding the Lease (default: in-cluster config)",
    )


def _offline_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not read GitHub: open move pull requests and vetoes are not considered "
        "(by default they are read, as `run` reads them, when fleet.yaml names a GitHub "
        "repo and a credential is in the environment)",
    )


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status",
        default="live",
        help="'live' (read the clusters through kubeconfig contexts; the default) "
        "or a directory of <cluster>.yaml snapshots",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file(s), as KUBECONFIG")
    parser.add_argument("--now", help="the current time, ISO 8601 (default: the real time)")
