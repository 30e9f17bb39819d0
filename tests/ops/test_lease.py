"""Leader election with the real kubernetes client against a fake Lease API on 127.0.0.1."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reconciler.github.move_pull_request import MoveProposal
from reconciler.gitrepo.workspace import Move, Workspace
from reconciler.ops.lease import (
    GatedPullRequests,
    GatedWorkspace,
    LeaderElector,
    LeadershipLost,
    LeaseTiming,
    WriteGate,
    coordination_api,
)
from reconciler.status.kube_connect import close_client
from tests.status.fake_apiserver import status_body, write_kubeconfig

TOKEN = "lease-test-token"
NAME, NAMESPACE = "placement-reconciler", "ops"
_PATH = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases(?:/([^/]+))?$")
Obj = dict[str, Any]


class FakeLeases:
    """The Lease endpoints: get, create, replace with resourceVersion checks (409 on a race)."""

    def __init__(self, server: HTTPServer) -> None:
        self.leases: dict[tuple[str, str], Obj] = {}
        self.version = 0
        self.fail_next: list[int] = []
        server.expect_request(re.compile(r"^/apis/coordination.*")).respond_with_handler(
            self._handle
        )

    def lease(self, name: str = NAME, namespace: str = NAMESPACE) -> Obj:
        return self.leases[(namespace, name)]

    def spec(self) -> Obj:
        return dict(self.lease()["spec"])

    def write_as(self, holder: str, *, duration: int = 15) -> None:
        """Another replica writes the Lease (as after our lease expired)."""
        lease = copy.deepcopy(self.lease())
        lease["spec"].update(holderIdentity=holder, leaseDurationSeconds=duration)
        self._store(NAMESPACE, NAME, lease)

    def _store(self, namespace: str, name: str, body: Obj) -> Obj:
        self.version += 1
        body = copy.deepcopy(body)
        body.setdefault("metadata", {}).update(
            name=name, namespace=namespace, resourceVersion=str(self.version), uid="uid-lease"
        )
        body.update(apiVersion="coordination.k8s.io/v1", kind="Lease")
        self.leases[(namespace, name)] = body
        return body

    def _handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _json(401, status_body(401, "Unauthorized", "Unauthorized"))
        if self.fail_next:
            code = self.fail_next.pop(0)
            return _json(code, status_body(code, "InternalError", "injected"))
        match = _PATH.match(request.path)
        if match is None:
            return _json(404, status_body(404, "NotFound", "no such path"))
        namespace, name = match.group(1), match.group(2)
        if request.method == "POST" and name is None:
            body = json.loads(request.data)
            name = body["metadata"]["name"]
            if (namespace, name) in self.leases:
                return _json(409, status_body(409, "AlreadyExists", "already exists"))
            return _json(201, self._store(namespace, name, body))
        current = self.leases.get((namespace, name or ""))
        if current is None:
            return _json(404, status_body(404, "NotFound", f'leases "{name}" not found'))
        if request.method == "GET":
            return _json(200, current)
        if request.method == "PUT":
            body = json.loads(request.data)
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return _json(409, status_body(409, "Conflict", "the object has been modified"))
            return _json(200, self._store(namespace, name or "", body))
        return _json(405, status_body(405, "MethodNotAllowed", request.method))


def _json(status: int, body: Obj) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class Ticks:
    """A monotonic clock for one replica."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeLeases:
    return FakeLeases(httpserver)


@pytest.fixture
def kubeconfig(httpserver: HTTPServer, tmp_path: Path) -> Path:
    url = f"http://127.0.0.1:{httpserver.port}"
    return write_kubeconfig(tmp_path / "kubeconfig", {"mgmt": (url, TOKEN)})


@pytest.fixture
def electors(kubeconfig: Path) -> Iterator[Any]:
    """make(identity) → (elector, its clock); every client is closed afterwards."""
    made: list[LeaderElector] = []

    def make(identity: str) -> tuple[LeaderElector, Ticks]:
        ticks = Ticks()
        elector = LeaderElector(
            coordination_api("ctx-mgmt", kubeconfig=str(kubeconfig)),
            name=NAME,
            namespace=NAMESPACE,
            identity=identity,
            timing=LeaseTiming(request_timeout=(2.0, 2.0)),
            monotonic=ticks,
            wall=lambda: dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC),
        )
        made.append(elector)
        return elector, ticks

    yield make
    for elector in made:
        close_client(elector.api.api_client)


def test_the_first_replica_creates_the_lease_and_leads(fake: FakeLeases, electors: Any) -> None:
    alpha, _ = electors("alpha")
    assert alpha.try_acquire_or_renew() is True
    assert alpha.is_leader()
    spec = fake.spec()
    assert spec["holderIdentity"] == "alpha"
    assert spec["leaseDurationSeconds"] == 15
    assert spec["leaseTransitions"] == 0
    assert spec["renewTime"].startswith("2026-11-28T12:00:00")


def test_the_leader_renews_and_keeps_its_acquire_time(fake: FakeLeases, electors: Any) -> None:
    alpha, ticks = electors("alpha")
    alpha.try_acquire_or_renew()
    first = fake.lease()["metadata"]["resourceVersion"]
    acquired = fake.spec()["acquireTime"]
    ticks.now += 9  # close to the renew deadline (10s)
    assert alpha.try_acquire_or_renew() is True
    ticks.now += 9  # 18s after acquiring, but renewed 9s ago: still the leader
    assert alpha.is_leader()
    assert fake.lease()["metadata"]["resourceVersion"] != first
    assert fake.spec()["acquireTime"] == acquired
    assert fake.spec()["leaseTransitions"] == 0


def test_a_second_replica_follows_while_the_lease_is_renewed(
    fake: FakeLeases, electors: Any
) -> None:
    alpha, alpha_ticks = electors("alpha")
    beta, beta_ticks = electors("beta")
    alpha.try_acquire_or_renew()
    for _ in range(5):  # 40s: alpha renews every 8s, beta never sees the record go stale
        assert beta.try_acquire_or_renew() is False
        alpha_ticks.now += 8
        beta_ticks.now += 8
        assert alpha.try_acquire_or_renew() is True
    assert beta.holder == "alpha"
    assert fake.spec()["holderIdentity"] == "alpha"


def test_an_expired_lease_is_taken_over_and_the_old_leader_stops_writing(
    fake: FakeLeases, electors: Any, tmp_path: Path
) -> None:
    alpha, alpha_ticks = electors("alpha")
    beta, beta_ticks = electors("beta")
    alpha.try_acquire_or_renew()
    gate = WriteGate(alpha.is_leader)
    workspace = GatedWorkspace.around(
        Workspace(tmp_path, branch="main", sleep=lambda _: None), gate
    )
    assert gate.allows()

    assert beta.try_acquire_or_renew() is False  # beta first sees alpha's record
    beta_ticks.now += 14
    assert beta.try_acquire_or_renew() is False  # not expired yet on beta's clock
    beta_ticks.now += 2  # 16s without a change: alpha is gone (e.g. cut off from the API)
    alpha_ticks.now += 11  # alpha's last renewal is older than its renew deadline
    assert not gate.allows()  # alpha stopped writing before beta could take over

    assert beta.try_acquire_or_renew() is True
    assert fake.spec()["holderIdentity"] == "beta"
    assert fake.spec()["leaseTransitions"] == 1

    assert alpha.try_acquire_or_renew() is False  # alpha comes back and finds beta leading
    assert alpha.holder == "beta"
    with pytest.raises(LeadershipLost, match="committing the move of ray-pred"):
        workspace.apply(Move("ray-pred", "onprem", "cloud", "placement: move"))


def test_losing_the_lease_mid_pass_refuses_the_next_write_at_once(
    fake: FakeLeases, electors: Any, tmp_path: Path
) -> None:
    alpha, _ = electors("alpha")
    alpha.try_acquire_or_renew()
    pulls = GatedPullRequests.__new__(GatedPullRequests)  # no GitHub needed: refused first
    pulls.gate = WriteGate(alpha.is_leader)
    workspace = Workspace(tmp_path, branch="main", sleep=lambda _: None)
    assert pulls.gate.allows()

    fake.write_as("gamma")  # the Lease changed hands behind alpha's back
    assert alpha.try_acquire_or_renew() is False  # its next renewal sees it
    proposal = MoveProposal("ray-pred", "onprem", "cloud", "capacity", "t", "b", "m")
    with pytest.raises(LeadershipLost, match="proposing the move of ray-pred"):
        pulls.propose(proposal, workspace=workspace)
    with pytest.raises(LeadershipLost, match="withdrawing the move of ray-pred"):
        pulls.withdraw("ray-pred", why="stale", workspace=workspace)


def test_two_replicas_racing_for_a_free_lease_elect_one(fake: FakeLeases, electors: Any) -> None:
    alpha, _ = electors("alpha")
    beta, _ = electors("beta")
    alpha.try_acquire_or_renew()
    alpha.release()
    assert fake.spec().get("holderIdentity") is None
    # beta reads the free Lease, but alpha writes it first: beta's replace gets 409.
    lease = beta.api.read_namespaced_lease(NAME, NAMESPACE)
    assert alpha.try_acquire_or_renew() is True
    beta_read = beta._read
    beta._read = lambda: lease  # type: ignore[method-assign]
    try:
        assert beta.try_acquire_or_renew() is False
    finally:
        beta._read = beta_read  # type: ignore[method-assign]
    assert fake.spec()["holderIdentity"] == "alpha"


def test_a_released_lease_is_taken_at_once(fake: FakeLeases, electors: Any) -> None:
    alpha, _ = electors("alpha")
    beta, _ = electors("beta")
    alpha.try_acquire_or_renew()
    assert beta.try_acquire_or_renew() is False
    alpha.release()
    assert not alpha.is_leader()
    assert beta.try_acquire_or_renew() is True  # no waiting for the 15s to run out


def test_an_unreachable_api_keeps_the_leader_only_until_its_renew_deadline(
    fake: FakeLeases, electors: Any
) -> None:
    alpha, ticks = electors("alpha")
    alpha.try_acquire_or_renew()
    fake.fail_next = [500] * 10
    ticks.now += 4
    assert alpha.try_acquire_or_renew() is True  # renewal failed, but the deadline is ahead
    ticks.now += 6
    assert alpha.try_acquire_or_renew() is False


def test_the_election_loop_renews_until_stopped_then_releases(
    fake: FakeLeases, electors: Any
) -> None:
    alpha, _ = electors("alpha")

    class OneRound:
        def __init__(self) -> None:
            self.waits: list[float | None] = []

        def is_set(self) -> bool:
            return bool(self.waits)

        def wait(self, timeout: float | None = None) -> bool:
            self.waits.append(timeout)
            return True

    stop = OneRound()
    alpha.run(stop)  # type: ignore[arg-type]
    assert stop.waits == [2.0]
    assert fake.spec().get("holderIdentity") is None  # released on the way out
    assert fake.spec()["leaseDurationSeconds"] == 1


def test_the_daemon_holds_the_lease_while_it_runs_and_releases_it_on_sigterm(
    fake: FakeLeases, kubeconfig: Path, tmp_path: Path, no_global_git: None
) -> None:
    from reconciler.demo import DEMO_DIR, build_fleet_repo
    from tests.ops.test_daemon import REPO_ROOT, _free_port, _get, _wait_for

    repo, _ = build_fleet_repo(tmp_path / "work", when=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "reconciler",
        "run",
        "--repo",
        str(repo),
        "--status",
        str(DEMO_DIR / "snapshots"),
        "--mode",
        "dry-run",
        "--interval",
        "1h",
        "--metrics-port",
        str(port),
        "--metrics-address",
        "127.0.0.1",
        "--leader-elect",
        "--lease-context",
        "ctx-mgmt",
        "--kubeconfig",
        str(kubeconfig),
        "--lease-namespace",
        NAMESPACE,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "POD_NAME": "reconciler-0"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        metrics = f"http://127.0.0.1:{port}/metrics"
        _wait_for(lambda: 'result="ok"} 1.0' in _get(metrics)[1], seconds=15)
        holder = fake.spec()["holderIdentity"]
        _, scrape = _get(metrics)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert holder.startswith("reconciler-0_")
    assert "placement_reconciler_leader 1.0" in scrape
    assert process.returncode == 0, err
    assert fake.spec().get("holderIdentity") is None  # released for the next replica
