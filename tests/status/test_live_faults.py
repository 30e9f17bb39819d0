"""Every fault leaves the cluster unknown with a short reason, never an exception or a secret."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.core.config import ClusterConfig
from reconciler.status.live import read_live
from reconciler.status.model import ClusterState

from .conftest import TOKENS, cluster
from .fake_apiserver import FakeFleet, node, pod, write_kubeconfig


class Recorder:
    """An injected sleep that records the backoff and advances a fake clock instead."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def read_one(
    fleet: FakeFleet, name: str = "east", *, recorder: Recorder | None = None, **options: object
) -> ClusterState:
    recorder = recorder or Recorder()
    states = read_live(
        [cluster(name)],
        kubeconfig=str(fleet.kubeconfig),
        sleep=recorder.sleep,
        clock=recorder.clock,
        **options,  # type: ignore[arg-type]
    )
    return states[name]


def assert_unknown(state: ClusterState, reason: str) -> None:
    assert not state.known
    assert state.reason == reason
    assert (state.nodes, state.pods, state.objects) == ((), (), ())
    assert not any(token in state.reason for token in TOKENS.values())


@pytest.fixture
def east(fleet: FakeFleet) -> FakeFleet:
    fleet["east"].add(node("east-1"), pod("p1", node_name="east-1"))
    return fleet


def test_a_wrong_token_is_unauthorized(east: FakeFleet) -> None:
    east["east"].token = "another-token"
    assert_unknown(read_one(east), "unauthorized (401): the cluster rejected the credentials")


def test_forbidden_names_what_was_denied_and_is_not_retried(east: FakeFleet) -> None:
    recorder = Recorder()
    east["east"].fail("pods", status=403)

    state = read_one(east, recorder=recorder)

    assert_unknown(state, "forbidden (403): not allowed listing pods (see deploy/rbac-reader.yaml)")
    assert recorder.sleeps == []


def test_a_server_error_is_retried_with_backoff_then_unknown(east: FakeFleet) -> None:
    recorder = Recorder()
    east["east"].fail("pods", status=500, times=3)

    state = read_one(east, recorder=recorder, retries=2)

    assert_unknown(state, "server error (500) listing pods (3 attempts)")
    assert recorder.sleeps == [0.5, 1.0]
    assert len(east["east"].requested("pods")) == 3


def test_a_503_then_success_reads_the_cluster(east: FakeFleet) -> None:
    recorder = Recorder()
    east["east"].fail("nodes", status=503)

    state = read_one(east, recorder=recorder)

    assert state.known, state.reason
    assert [n.name for n in state.nodes] == ["east-1"]
    assert recorder.sleeps == [0.5]


def test_backoff_stops_at_the_cluster_deadline(east: FakeFleet) -> None:
    recorder = Recorder()
    east["east"].fail("pods", status=502, times=10)

    state = read_one(east, recorder=recorder, retries=5, deadline=2.0)

    assert_unknown(state, "server error (502) listing pods; deadline of 2s reached before retrying")
    assert recorder.sleeps == [0.5, 1.0]


def test_nothing_listening_is_unreachable(
    fleet: FakeFleet, tmp_path: Path, closed_port: int
) -> None:
    recorder = Recorder()
    kubeconfig = write_kubeconfig(
        tmp_path / "down", {"down": (f"http://127.0.0.1:{closed_port}", "sekrit-down-token")}
    )

    states = read_live(
        [ClusterConfig(name="down", context="ctx-down")],
        kubeconfig=str(kubeconfig),
        sleep=recorder.sleep,
    )

    assert_unknown(states["down"], "unreachable: connection refused")
    assert "sekrit" not in states["down"].reason
    assert recorder.sleeps == []


def test_a_slow_answer_times_out_and_is_retried(east: FakeFleet) -> None:
    recorder = Recorder()
    east["east"].stall("nodes", seconds=0.6)

    state = read_one(east, recorder=recorder, timeout=0.2)

    assert state.known, state.reason
    assert recorder.sleeps == [0.5]


def test_an_answer_slower_than_the_timeout_leaves_the_cluster_unknown(east: FakeFleet) -> None:
    east["east"].stall("nodes", seconds=1.5)
    started = time.monotonic()

    state = read_one(east, timeout=0.5, retries=0)

    assert_unknown(state, "timed out after 0.5s listing nodes")
    assert time.monotonic() - started < 1.4


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>proxy error</html>", "malformed response listing pods: not JSON"),
        (
            b'{"kind":"PodList","items":[{"metadata":',
            "malformed response listing pods: body cut short",
        ),
        (b'{"kind":"PodList","items":{}}', "malformed response listing pods: items is not a list"),
        (b"[]", "malformed response listing pods: not a list object"),
    ],
)
def test_a_malformed_body_leaves_the_cluster_unknown(
    east: FakeFleet, body: bytes, reason: str
) -> None:
    east["east"].answer("pods", body)
    assert_unknown(read_one(east), reason)


def test_a_continue_token_leading_nowhere_is_a_list_cut_short(
    east: FakeFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reconciler.status.live.PAGE_SIZE", 1)
    east["east"].add(pod("p2"))
    east["east"].fail("pods", status=404, on_continue=True)

    state = read_one(east)

    assert_unknown(state, "list cut short listing pods: the next page is gone (404)")


def test_a_repeated_continue_token_is_a_list_cut_short(east: FakeFleet) -> None:
    looping = b'{"kind":"PodList","metadata":{"continue":"again"},"items":[]}'
    east["east"].answer("pods", looping, times=5)

    state = read_one(east)

    assert_unknown(state, "list of pods cut short: continue token repeated")


def test_one_cluster_down_leaves_the_other_known(fleet: FakeFleet) -> None:
    fleet["east"].add(node("east-1"))
    fleet["west"].add(node("west-1"), pod("w", node_name="west-1"))
    fleet["east"].fail("nodes", status=500, times=10)

    states = read_live(
        [cluster("east"), cluster("west")],
        kubeconfig=str(fleet.kubeconfig),
        sleep=lambda _: None,
    )

    assert not states["east"].known
    assert states["west"].known
    assert [p.name for p in states["west"].pods] == ["w"]


def test_no_reason_ever_contains_the_token(fleet: FakeFleet, closed_port: int) -> None:
    faults = [("nodes", 401), ("nodes", 403), ("pods", 500), ("jobs", 404), ("pods", 418)]
    for plural, status in faults:
        fleet["east"].fail(plural, status=status, times=5)
        state = read_one(fleet)
        assert not state.known
        assert not any(token in state.reason for token in TOKENS.values()), state.reason
        assert "Bearer" not in state.reason and "Authorization" not in state.reason
        fleet["east"].faults.clear()


def test_a_tls_failure_is_a_tls_error(fleet: FakeFleet, tmp_path: Path) -> None:
    plain = fleet["east"]  # speaks plain HTTP: the TLS handshake fails
    kubeconfig = write_kubeconfig(
        tmp_path / "tls",
        {"east": (f"https://127.0.0.1:{plain.server.port}", plain.token)},
    )

    states = read_live([cluster("east")], kubeconfig=str(kubeconfig), sleep=lambda _: None)

    assert not states["east"].known
    assert states["east"].reason.startswith("TLS error"), states["east"].reason


def test_a_body_shorter_than_its_length_is_a_list_cut_short(east: FakeFleet) -> None:
    east["east"].answer("pods", b'{"kind":"PodList","items":[]}', length=4096)

    state = read_one(east)

    assert_unknown(state, "list cut short listing pods: the connection closed mid-response")


def test_a_role_not_yet_allowed_daemonsets_or_hpas_leaves_them_out_with_a_note(
    east: FakeFleet,
) -> None:
    # Upgrading the reconciler before re-applying rbac-reader.yaml: the kinds read since
    # the role grew answer 403; the cluster stays known and says what was not read.
    east["east"].add(node("east-1"), pod("p", node_name="east-1"))
    east["east"].fail("daemonsets", status=403, times=5)
    east["east"].fail("horizontalpodautoscalers", status=403, times=5)

    state = read_one(east)

    assert state.known, state.reason
    assert "p" in [p.name for p in state.pods]
    assert [s for s in state.skipped if "forbidden" in s] == [
        "daemonsets: forbidden to the reader's role, not read (re-apply deploy/rbac-reader.yaml)",
        "horizontalpodautoscalers: forbidden to the reader's role, not read"
        " (re-apply deploy/rbac-reader.yaml)",
    ]


def test_a_forbidden_pod_list_still_makes_the_cluster_unknown(east: FakeFleet) -> None:
    east["east"].fail("pods", status=403, times=5)

    assert not read_one(east).known
