"""`check`: the pre-merge capacity check of a change, printed and, on GitHub, told on the PR."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from reconciler.cli.commands import dump_json, has_credential, parse_now, status_reader
from reconciler.cli.exit_codes import EXIT_FAILURE, EXIT_NOTHING_JUDGED, EXIT_OK
from reconciler.core.config import FleetConfig
from reconciler.core.errors import UsageError
from reconciler.github.check_comment import publish_check, pull_request_number
from reconciler.github.credentials import credential_from_env, github_client
from reconciler.plan.check import (
    FITS_NOWHERE,
    UNKNOWN,
    VERDICTS,
    WILL_STALL,
    CheckReport,
)
from reconciler.plan.check_report import check_json, check_markdown, check_text
from reconciler.reconcile.pre_merge import check_refs

DEFAULT_FAIL_ON = f"{WILL_STALL},{FITS_NOWHERE}"


def check(args: argparse.Namespace, out: TextIO) -> int:
    """Judge each group the change from --base to --head touches; 1 when one fails."""
    fail_on = fail_on_of(args.fail_on)
    repo = Path(args.repo)
    if not repo.is_dir():
        raise UsageError(f"--repo: {args.repo} is not a local checkout (check reads two commits)")
    checked = check_refs(
        repo,
        base=args.base,
        head=args.head,
        status=status_reader(args),
        now=parse_now(args.now),
        zero_downtime_off=args.zero_downtime_off,
    )
    report = checked.report
    if args.output == "json":
        dump_json(check_json(report, fail_on=fail_on), out)
    elif args.output == "markdown":
        print(check_markdown(report, fail_on=fail_on), file=out)
    else:
        print(check_text(report), file=out)
    failing = report.failing(fail_on)
    note = tell_pull_request(
        args, report, config=checked.head.config, head_sha=checked.head_sha, fail_on=fail_on
    )
    if note:
        print(f"note: {note}", file=sys.stderr)
    if failing:
        return EXIT_FAILURE
    if report.groups and all(g.verdict == UNKNOWN for g in report.groups):
        return EXIT_NOTHING_JUDGED
    return EXIT_OK


def fail_on_of(raw: str) -> frozenset[str]:
    """--fail-on: verdicts separated by commas ("will stall" or will-stall); "none" for none."""
    if raw.strip() == "none":
        return frozenset()
    verdicts = {part.strip().replace("-", " ") for part in raw.split(",") if part.strip()}
    unknown = sorted(verdicts - set(VERDICTS))
    if unknown:
        choices = ", ".join(v.replace(" ", "-") for v in VERDICTS)
        raise UsageError(f"--fail-on: {', '.join(unknown)} is not a verdict ({choices}, none)")
    return frozenset(verdicts)


def tell_pull_request(
    args: argparse.Namespace,
    report: CheckReport,
    *,
    config: FleetConfig,
    head_sha: str,
    fail_on: frozenset[str],
    env: Mapping[str, str] | None = None,
) -> str:
    """Comment and set the status on the pull request, when there is one and a credential;
    what was done (or why not) in one line."""
    env = os.environ if env is None else env
    number = args.pr or pull_request_number(env)
    if number is None:
        return ""
    if not has_credential(env):
        return f"no GitHub credential in the environment: nothing written on #{number}"
    github_config = config.git.github
    repo = github_config.repo if github_config else env.get("GITHUB_REPOSITORY", "")
    if not repo:
        raise UsageError("--pr needs git.github.repo in fleet.yaml or GITHUB_REPOSITORY")
    base_url = github_config.base_url if github_config else ""
    base_url = base_url or env.get("GITHUB_API_URL", "https://api.github.com")
    credential = credential_from_env(env)
    assert credential is not None  # has_credential said so
    failing = report.failing(fail_on)
    published = publish_check(
        github_client(credential, base_url=base_url),
        repo=repo,
        number=number,
        body=check_markdown(report, fail_on=fail_on),
        success=not failing,
        description=(
            f"{len(failing)} group(s): " + ", ".join(f"{g.group} {g.verdict}" for g in failing)
            if failing
            else f"{len(report.groups)} changed group(s): none will stall"
        ),
        head_sha=head_sha,
    )
    if published.skipped:
        return f"nothing written: {published.skipped}"
    verb = "commented" if published.created else "updated the comment"
    return f"{verb} on #{number} ({published.comment_url}) and set {head_sha[:12]}'s status"
