"""Leader election on a coordination.k8s.io/v1 Lease, and the write gate it controls.

Several replicas may run; only the holder of the Lease writes to git or GitHub. The
others serve health and metrics and wait. The rules follow client-go's leaderelection:

- A Lease held by another replica is taken over only once its record (its
  resourceVersion) has not changed for `lease_seconds`, measured on our own monotonic
  clock from when we first saw that record: clocks of different machines never compare.
- Every write to the Lease carries the resourceVersion it read, so of two replicas racing
  for it one gets 409 Conflict and stays a follower.
- The holder counts itself leader only while its last successful renewal is younger than
  `renew_deadline` (shorter than the lease): a replica cut off from the API server stops
  writing before anyone else may take over.

`WriteGate` is what the writers ask right before each git or GitHub write; a replica that
lost the Lease mid-pass raises `LeadershipLost` there instead of writing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.github.move_pull_request import MoveProposal, ProposalResult
from reconciler.github.pull_requests import PullRequests
from reconciler.gitrepo.workspace import DEFAULT_AUTHOR, Move, MoveResult, Workspace

if TYPE_CHECKING:
    from kubernetes.client import CoordinationV1Api

log = logging.getLogger(__name__)

DEFAULT_LEASE_NAME = "placement-reconciler"
DEFAULT_LEASE_NAMESPACE = "placement-reconciler"


class LeadershipLost(RuntimeError):
    """A write was refused because this replica does not hold the Lease (any more)."""


class WriteGate:
    """Asked right before every git or GitHub write: may this replica write now?"""

    def __init__(self, is_leader: Callable[[], bool] | None = None) -> None:
        self._is_leader = is_leader

    @property
    def elected(self) -> bool:
        """True when writes depend on holding a Lease (else the gate is always open)."""
        return self._is_leader is not None

    def allows(self) -> bool:
        """True when this replica may write now."""
        return self._is_leader is None or self._is_leader()

    def check(self, action: str) -> None:
        """Raise LeadershipLost instead of letting `action` happen without the Lease."""
        if not self.allows():
            raise LeadershipLost(f"not {action}: this replica does not hold the leader lease")


OPEN_GATE = WriteGate()


class GatedWorkspace(Workspace):
    """A Workspace whose move commits (direct mode's only write) pass the gate first."""

    gate: WriteGate = OPEN_GATE

    @classmethod
    def around(cls, workspace: Workspace, gate: WriteGate) -> GatedWorkspace:
        """The same checkout, gated (its state is shared as it is, not re-opened)."""
        gated = cls.__new__(cls)
        gated.__dict__.update(vars(workspace))
        gated.gate = gate
        return gated

    def apply(
        self,
        move: Move,
        *,
        push: bool = True,
        author: tuple[str, str] = DEFAULT_AUTHOR,
        env: Mapping[str, str] | None = None,
    ) -> MoveResult:
        self.gate.check(f"committing the move of {move.group}")
        return super().apply(move, push=push, author=author, env=env)


class GatedPullRequests(PullRequests):
    """Pull requests whose pushes and GitHub writes (propose, withdraw) pass the gate first."""

    gate: WriteGate = OPEN_GATE

    def propose(
        self,
        proposal: MoveProposal,
        *,
        workspace: Workspace,
        push_env: Mapping[str, str] | None = None,
    ) -> ProposalResult:
        self.gate.check(f"proposing the move of {proposal.group}")
        return super().propose(proposal, workspace=workspace, push_env=push_env)

    def withdraw(
        self,
        group: str,
        *,
        why: str,
        workspace: Workspace,
        push_env: Mapping[str, str] | None = None,
    ) -> ProposalResult | None:
        self.gate.check(f"withdrawing the move of {group}")
        return super().withdraw(group, why=why, workspace=workspace, push_env=push_env)


def default_identity() -> str:
    """This replica's holder identity: the pod name (or host name) plus a random suffix."""
    base = os.environ.get("POD_NAME") or socket.gethostname() or "placement-reconciler"
    return f"{base}_{uuid.uuid4().hex[:8]}"


@dataclasses.dataclass(frozen=True)
class LeaseTiming:
    """client-go's defaults: a 15s lease, renewed every 2s, given up 10s after the last renewal."""

    lease_seconds: int = 15
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    request_timeout: tuple[float, float] = (2.0, 5.0)  # connect, read


class LeaderElector:
    """Acquires, renews and releases one Lease for one holder identity."""

    def __init__(
        self,
        api: CoordinationV1Api,
        *,
        name: str = DEFAULT_LEASE_NAME,
        namespace: str = DEFAULT_LEASE_NAMESPACE,
        identity: str | None = None,
        timing: LeaseTiming = LeaseTiming(),
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.api = api
        self.name = name
        self.namespace = namespace
        self.identity = identity or default_identity()
        self.timing = timing
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._renewed_at: float | None = None  # monotonic time of our last successful write
        self._observed: tuple[str, float] | None = None  # (resourceVersion, first seen at)
        self.holder = ""  # the holder identity last read from the Lease

    def is_leader(self) -> bool:
        """True while our last renewal is younger than the renew deadline."""
        with self._lock:
            renewed = self._renewed_at
        return renewed is not None and self._monotonic() - renewed < self.timing.renew_deadline

    def try_acquire_or_renew(self) -> bool:
        """One round: create, renew or take over the Lease when we may; True when leading."""
        from kubernetes.client.exceptions import ApiException

        try:
            self._round()
        except ApiException as error:
            if error.status == 409:
                log.info("lease %s: another replica wrote it first", self._where)
                self._follow()
            else:
                log.warning("lease %s: API error %s", self._where, error.status or "")
        except Exception as error:  # the API server may be unreachable; keep the loop alive
            log.warning("lease %s: %s", self._where, self._reason(error, what="renewing it"))
        return self.is_leader()

    def release(self) -> None:
        """Give the Lease up on shutdown so another replica can take over at once."""
        if not self.is_leader():
            return
        from kubernetes.client import V1LeaseSpec

        try:
            lease = self._read()
            if lease is None or _spec_of(lease).holder_identity != self.identity:
                return
            lease.spec = V1LeaseSpec(
                lease_duration_seconds=1,
                lease_transitions=_spec_of(lease).lease_transitions,
                renew_time=self._wall(),
            )
            self._replace(lease)
            log.info("lease %s released by %s", self._where, self.identity)
        except Exception as error:  # releasing is a courtesy; expiry does the same later
            reason = self._reason(error, what="releasing it")
            log.warning("lease %s: not released: %s", self._where, reason)
        finally:
            self._follow()

    def run(self, stop: threading.Event) -> None:
        """Keep trying and renewing every retry period until stop is set, then release."""
        leading = False
        while not stop.is_set():
            now_leading = self.try_acquire_or_renew()
            if now_leading != leading:
                log.info(
                    "lease %s: %s",
                    self._where,
                    f"{self.identity} is the leader"
                    if now_leading
                    else f"not the leader (held by {self.holder or 'nobody'})",
                )
                leading = now_leading
            stop.wait(self.timing.retry_period)
        self.release()

    @property
    def _where(self) -> str:
        return f"{self.namespace}/{self.name}"

    def _round(self) -> None:
        from kubernetes.client import V1Lease, V1ObjectMeta

        now = self._wall()
        lease = self._read()
        if lease is None:
            body = V1Lease(
                metadata=V1ObjectMeta(name=self.name, namespace=self.namespace),
                spec=self._holding_spec(acquired=now, now=now, transitions=0),
            )
            self._created(body)
            return
        spec = _spec_of(lease)
        self.holder = spec.holder_identity or ""
        version = lease.metadata.resource_version if lease.metadata else ""
        first_seen = self._observe(version or "")
        if self.holder == self.identity:
            acquired = spec.acquire_time or now
            lease.spec = self._holding_spec(
                acquired=acquired, now=now, transitions=spec.lease_transitions or 0
            )
            self._replace(lease)
            self._renewed()
            return
        self._follow()
        duration = spec.lease_duration_seconds or self.timing.lease_seconds
        if self.holder and self._monotonic() - first_seen < duration:
            return  # held by another replica and not expired
        lease.spec = self._holding_spec(
            acquired=now, now=now, transitions=(spec.lease_transitions or 0) + 1
        )
        self._replace(lease)
        log.info("lease %s taken over from %s", self._where, self.holder or "nobody")
        self.holder = self.identity
        self._renewed()

    def _reason(self, error: BaseException, *, what: str) -> str:
        """A failed Lease request in plain words: the client's own text may quote a token."""
        from reconciler.status.kube_faults import describe_fault

        timeout = self.timing.request_timeout[1]
        return describe_fault(error, what=what, timeout=timeout, continuing=False).reason

    def _holding_spec(self, *, acquired: dt.datetime, now: dt.datetime, transitions: int) -> Any:
        from kubernetes.client import V1LeaseSpec

        return V1LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=self.timing.lease_seconds,
            acquire_time=acquired,
            renew_time=now,
            lease_transitions=transitions,
        )

    def _read(self) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return self.api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self.timing.request_timeout
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def _created(self, body: Any) -> None:
        self.api.create_namespaced_lease(
            self.namespace, body, _request_timeout=self.timing.request_timeout
        )
        self.holder = self.identity
        log.info("lease %s created by %s", self._where, self.identity)
        self._renewed()

    def _replace(self, lease: Any) -> None:
        self.api.replace_namespaced_lease(
            self.name, self.namespace, lease, _request_timeout=self.timing.request_timeout
        )

    def _observe(self, version: str) -> float:
        """When we first saw this version of the Lease (on our monotonic clock)."""
        if self._observed is None or self._observed[0] != version:
            self._observed = (version, self._monotonic())
        return self._observed[1]

    def _renewed(self) -> None:
        with self._lock:
            self._renewed_at = self._monotonic()

    def _follow(self) -> None:
        with self._lock:
            self._renewed_at = None


def _spec_of(lease: Any) -> Any:
    from kubernetes.client import V1LeaseSpec

    return lease.spec or V1LeaseSpec()


def coordination_api(context: str, *, kubeconfig: str | None = None) -> CoordinationV1Api:
    """The Lease API of the cluster the reconciler runs in: a context, or `in-cluster`."""
    from kubernetes.client import CoordinationV1Api

    from reconciler.status.kube_connect import api_client_for

    return CoordinationV1Api(api_client_for(context, kubeconfig=kubeconfig))
