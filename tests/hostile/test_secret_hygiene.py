"""Planted secrets never come out: not in output, logs, errors, commits, pull requests or files.

The secrets: a GitHub token, a GitHub App private key (and the installation tokens the
fake GitHub issues for it), a wrong GitHub token, and kubeconfig credentials (bearer
tokens, client-key-data). The runs: `plan` (json and table), `snapshot`, `run` in pr
and direct mode with JSON and text logs, and the failure paths (GitHub 401, kube 401),
all with logging at DEBUG. Every output is searched for every secret, raw and encoded.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from prometheus_client import generate_latest
from pytest_httpserver import HTTPServer

from reconciler.cli import commands
from reconciler.cli.main import main
from reconciler.gitrepo.workspace import Workspace
from reconciler.ops.metrics import Metrics
from reconciler.reconcile.run import run_pass
from reconciler.reconcile.status_source import live_status
from reconciler.reconcile.writers import DryRunWriter
from tests.fakes.github_server import FakeGitHub

from . import live_rig
from .contention import NOW, WHEN, add_github, git
from .live_rig import KUBE_TOKENS, Rig

TOKEN = "ghp_HYGIENEplantedTOKEN0123456789abcdefXYZ"
WRONG_TOKEN = "ghp_HYGIENEwrongTOKEN9876543210fedcbaQRS"
APP_ID, INSTALLATION = "4242", "777"
CLIENT_KEY = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "KUBECLIENTKEYplantedSECRETmaterial0123456789abcdefABCDEFghijklmn\n"
    "-----END EC PRIVATE KEY-----\n"
)
CLIENT_CERT = "-----BEGIN CERTIFICATE-----\nMIIBkubeclientcert\n-----END CERTIFICATE-----\n"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@functools.cache
def app_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def planted(fake: FakeGitHub | None = None) -> dict[str, str]:
    """Every secret, and the encodings it could leak in, by a name for the failure message."""
    found = {
        "github token": TOKEN,
        "github token (basic auth)": _b64(f"x-access-token:{TOKEN}"),
        "wrong github token": WRONG_TOKEN,
        "kube client-key-data": _b64(CLIENT_KEY),
        "kube client key": "KUBECLIENTKEYplantedSECRETmaterial",
    }
    body = app_key().splitlines()[1:-1]
    found |= {f"app private key line {i}": line for i, line in enumerate(body[:3] + body[-2:])}
    found |= {f"kube token {name}": token for name, token in KUBE_TOKENS.items()}
    for index, token in enumerate(fake.installation_tokens if fake else ()):
        found[f"installation token {index}"] = token
        found[f"installation token {index} (basic auth)"] = _b64(f"x-access-token:{token}")
    return found


def assert_clean(outputs: dict[str, str], fake: FakeGitHub | None = None) -> None:
    leaks = [
        f"{secret} in {where}"
        for where, text in outputs.items()
        for secret, value in planted(fake).items()
        if value in text
    ]
    assert leaks == []


@pytest.fixture(autouse=True)
def debug_logging(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """DEBUG everywhere: the CLI's own handler too, not only pytest's."""
    real = commands.setup_logging
    monkeypatch.setattr(
        commands,
        "setup_logging",
        lambda log_format="text", **options: real(
            log_format, **{**options, "level": logging.DEBUG}
        ),
    )
    # The CLI's PyGithub client without its pacing, so the test does not wait for it.
    monkeypatch.setattr(
        commands,
        "github_client",
        functools.partial(
            commands.github_client, seconds_between_requests=None, seconds_between_writes=None
        ),
    )
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def world(
    tmp_path: Path, servers: list[HTTPServer]
) -> Iterator[tuple[Path, FakeGitHub, Rig, Path]]:
    """The fleet checkout (pointing at the fake GitHub), the fake, the clusters, a kubeconfig."""
    from reconciler.demo import build_fleet_repo

    fleet, remote = build_fleet_repo(tmp_path / "fleet", when=WHEN - dt.timedelta(days=1))
    rig = live_rig.serve_demo(servers)
    rig.extra_user = {
        name: {"client-certificate-data": _b64(CLIENT_CERT), "client-key-data": _b64(CLIENT_KEY)}
        for name in live_rig.CLUSTERS
    }
    kubeconfig = rig.kubeconfig(tmp_path / "kubeconfig")
    with FakeGitHub(remote=remote, tokens=(TOKEN,)) as fake:
        fake.now = WHEN
        add_github(fleet, base_url=fake.base_url)
        git(fleet, "pull", "-q", "--ff-only")
        yield fleet, fake, rig, kubeconfig


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    captured = capsys.readouterr()
    return code, out.getvalue() + captured.out + captured.err


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every log record as any handler could see it: message, exception, extra fields."""
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(record.exc_text or "")
        if record.exc_info and record.exc_info[1] is not None:
            lines.append(logging.Formatter().formatException(record.exc_info))
        lines.append(json.dumps({k: str(v) for k, v in vars(record).items()}))
    return "\n".join(lines)


def test_plan_and_snapshot_never_show_kube_credentials(
    world: tuple[Path, FakeGitHub, Rig, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fleet, _, rig, kubeconfig = world
    common = ["--repo", str(fleet), "--now", NOW, "--kubeconfig", str(kubeconfig)]
    outputs = {}

    code, outputs["plan -o json"] = cli("plan", *common, "-o", "json", capsys=capsys)
    assert code == 0 and '"action": "move"' in outputs["plan -o json"]
    code, outputs["plan table"] = cli("plan", *common, capsys=capsys)
    assert code == 0 and "MOVE" in outputs["plan table"]
    code, outputs["status"] = cli("status", *common, capsys=capsys)
    assert code == 0
    dumped = tmp_path / "dumped"
    code, outputs["snapshot"] = cli(
        "snapshot",
        "--context",
        "onprem",
        "-o",
        str(dumped),
        "--kubeconfig",
        str(kubeconfig),
        capsys=capsys,
    )
    assert code == 0
    for path in dumped.iterdir():
        outputs[f"snapshot file {path.name}"] = path.read_text()
    # kube 401: the cluster rejects the credentials.
    rig.fakes["onprem"].token = "rotated"
    code, outputs["plan, kube 401"] = cli("plan", *common, "-o", "json", capsys=capsys)
    assert code == 0 and "unauthorized (401)" in outputs["plan, kube 401"]
    outputs["logs"] = logged(caplog)

    assert_clean(outputs)


def test_runs_in_pr_and_direct_mode_never_show_github_or_kube_credentials(
    world: tuple[Path, FakeGitHub, Rig, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fleet, fake, _, kubeconfig = world
    url = f"file://{fleet.parent / 'remote.git'}"
    common = ["--repo", url, "--workdir", str(tmp_path / "clone"), "--now", NOW]
    common += ["--kubeconfig", str(kubeconfig)]
    outputs = {}

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    code, outputs["run pr, json logs"] = cli(
        "run", *common, "--mode", "pr", "--log-format", "json", capsys=capsys
    )
    assert code == 0 and len(fake.pulls) == 1, outputs["run pr, json logs"]

    monkeypatch.setenv("GITHUB_TOKEN", WRONG_TOKEN)  # GitHub answers 401
    code, outputs["run pr, bad token"] = cli("run", *common, "--mode", "pr", capsys=capsys)
    assert code == 1 and "401" in outputs["run pr, bad token"]
    code, outputs["run pr, bad token, json"] = cli(
        "run", *common, "--mode", "pr", "--log-format", "json", capsys=capsys
    )
    assert code == 1

    monkeypatch.delenv("GITHUB_TOKEN")
    code, outputs["run direct"] = cli("run", *common, "--mode", "direct", capsys=capsys)
    assert code == 0 and "committed and pushed" in outputs["run direct"]

    # A GitHub App this time: the open PR is stale now (ray-pred moved), so it is closed
    # with a comment, written with the installation token.
    key_file = tmp_path / "app.pem"
    key_file.write_text(app_key())
    monkeypatch.setenv("GITHUB_APP_ID", APP_ID)
    monkeypatch.setenv("GITHUB_APP_INSTALLATION_ID", INSTALLATION)
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_FILE", str(key_file))
    code, outputs["run pr, app"] = cli(
        "run", *common, "--mode", "pr", "--log-format", "json", capsys=capsys
    )
    assert code == 0, outputs["run pr, app"]
    (pull,) = fake.pulls.values()
    assert pull.state == "closed" and pull.comments
    assert fake.installation_tokens

    outputs["logs"] = logged(caplog)
    outputs["commit messages"] = git(fleet.parent / "remote.git", "log", "--all", "--format=%B")
    outputs["pull requests"] = "\n".join(
        "\n".join([p.title, p.body, *p.comments, *p.labels]) for p in fake.pulls.values()
    )
    outputs["clone .git/config"] = (tmp_path / "clone" / ".git" / "config").read_text()
    outputs["clone refs"] = subprocess.run(
        ["git", "for-each-ref"], cwd=tmp_path / "clone", capture_output=True, text=True
    ).stdout
    assert_clean(outputs, fake)


def test_metrics_never_show_credentials(
    world: tuple[Path, FakeGitHub, Rig, Path], tmp_path: Path
) -> None:
    fleet, _, rig, kubeconfig = world
    metrics = Metrics()
    workspace = Workspace.open(str(fleet), branch="main")
    reader = live_status(kubeconfig=str(kubeconfig))
    when = dt.datetime.fromisoformat(NOW.replace("Z", "+00:00"))
    outcome = run_pass(workspace, status=reader, writer=DryRunWriter(), now=when)
    metrics.record_plan(outcome.plan)
    metrics.record_outcome(outcome)
    rig.fakes["cloud"].token = "rotated"  # kube 401 on cloud
    failed = run_pass(workspace, status=reader, writer=DryRunWriter(), now=when)
    metrics.record_plan(failed.plan)
    metrics.record_error(RuntimeError(f"planted: {TOKEN} {KUBE_TOKENS['cloud']}"))

    exposition = generate_latest(metrics.registry).decode()

    assert "placement" in exposition
    assert_clean({"/metrics": exposition})
