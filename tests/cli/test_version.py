"""`placement-reconciler --version` names the installed version."""

from __future__ import annotations

import io
from importlib import metadata

import pytest

import reconciler
from reconciler.cli import main as cli_main


def test_version_prints_the_installed_version_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli_main.main(["--version"], out=io.StringIO()) == 0
    expected = metadata.version("placement-reconciler")
    assert capsys.readouterr().out == f"placement-reconciler {expected}\n"


def test_version_falls_back_to_the_package_version_when_not_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(cli_main.metadata, "version", not_installed)

    assert cli_main.main(["--version"], out=io.StringIO()) == 0
    assert capsys.readouterr().out == f"placement-reconciler {reconciler.__version__}\n"
