"""How a failed command ends: one line in plain words and an exit code chosen by its kind."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.core import errors
from reconciler.core import schema as schema_module
from reconciler.core.problems import InputError, Problem
from reconciler.gitrepo.workspace import WorkspaceError
from reconciler.ops.daemon import PortUnavailable
from reconciler.status.kube_connect import ConnectError
from reconciler.status.kube_faults import ReadError
from reconciler.status.wire import WireError

HINT = "(run again with --debug for the traceback)"


def failing_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make the `schema` command (it needs no repo) fail with this error."""

    def fail(args: object, out: object) -> int:
        raise error

    monkeypatch.setattr(schema_module, "schema", fail)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.UsageError("--now: 'soon' is not an ISO 8601 time"), 2),
        (PortUnavailable("--metrics-port 9090: cannot listen: Address already in use"), 2),
        (errors.FleetRepoError("fleet.yaml: clusters: is required"), 2),
        (InputError(Problem("fleet.yaml", "clusters[0].name", "'Bad_Name' is not valid")), 2),
        (errors.ClusterReadError("east: unreachable: connection refused"), 1),
        (ConnectError("kubeconfig: no context 'east' in ~/.kube/config"), 1),
        (ReadError("forbidden (403): not allowed listing pods"), 1),
        (WireError("items is not a list"), 1),
        (errors.GitError("git push failed: rejected (fetch first)"), 1),
        (errors.GitHubError("GitHub unreachable: connection refused"), 1),
        (errors.ReconcilerError("something the user can fix"), 1),
        (WorkspaceError("/srv/plain is not a git checkout"), 2),  # as before the one root
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_each_kind_of_error_has_its_exit_code_and_prints_only_its_message(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: BaseException,
    code: int,
) -> None:
    failing_with(monkeypatch, error)

    assert main(["schema"], out=io.StringIO()) == code
    err = capsys.readouterr().err
    assert err == f"error: {error}\n"
    assert type(error).__name__ not in err


def test_an_input_error_prints_its_problem_with_file_and_field(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = Problem("fleet.yaml", "defaults.cooldown", "'soon' is not a duration", line=3)
    failing_with(monkeypatch, InputError(problem))

    assert main(["schema"], out=io.StringIO()) == 2
    assert (
        capsys.readouterr().err
        == "error: fleet.yaml:3: defaults.cooldown: 'soon' is not a duration\n"
    )


def test_a_bug_is_one_line_that_points_to_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing_with(monkeypatch, KeyError("replicas"))

    assert main(["schema"], out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert err == f"error: unexpected failure: 'replicas' {HINT}\n"
    assert "KeyError" not in err and "Traceback" not in err


def test_a_bug_with_a_long_message_still_prints_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing_with(monkeypatch, RuntimeError("first line\nsecond line\nthird line"))

    assert main(["schema"], out=io.StringIO()) == 1
    assert capsys.readouterr().err == f"error: unexpected failure: first line {HINT}\n"


def test_a_bug_without_a_message_still_says_what_happened(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing_with(monkeypatch, AssertionError())

    assert main(["schema"], out=io.StringIO()) == 1
    assert capsys.readouterr().err == f"error: unexpected failure {HINT}\n"


@pytest.mark.parametrize(
    "argv", [["--debug", "schema"], ["schema", "--debug"]], ids=["before", "after"]
)
def test_debug_prints_the_traceback_then_the_same_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    failing_with(monkeypatch, RuntimeError("boom"))

    assert main(argv, out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert "RuntimeError: boom\n" in err
    assert err.endswith("\nerror: unexpected failure: boom\n")  # no hint: it was given


def test_debug_keeps_the_exit_code_of_the_kind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing_with(monkeypatch, errors.UsageError("--interval: 'often' is not a duration"))

    assert main(["--debug", "schema"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err
    assert err.endswith("error: --interval: 'often' is not a duration\n")


def test_an_interrupt_exits_1_without_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing_with(monkeypatch, KeyboardInterrupt())

    assert main(["schema"], out=io.StringIO()) == 1
    assert capsys.readouterr().err == ""


def test_a_kubeconfig_that_cannot_be_read_is_a_cluster_read_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-kubeconfig"

    code = main(
        ["snapshot", "--context", "east", "--kubeconfig", str(missing), "-o", str(tmp_path)],
        out=io.StringIO(),
    )

    assert code == 1
    assert capsys.readouterr().err == f"error: kubeconfig: no usable configuration in {missing}\n"
    assert not list(tmp_path.glob("*.yaml"))
