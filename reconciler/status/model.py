"""ClusterState: what one cluster looks like right now, in the shape the planner needs."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from reconciler.workloads.shapes import PodShape, Resources


@dataclasses.dataclass(frozen=True)
class Taint:
    """A node taint; effects NoSchedule and NoExecute keep untolerating pods away."""

    key: str
    value: str = ""
    effect: str = "NoSchedule"


@dataclasses.dataclass(frozen=True)
class Node:
    """A node as the scheduler sees it. `allocatable` includes "pods" (milli-units, like all)."""

    name: str
    allocatable: Resources
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    ready: bool = True


@dataclasses.dataclass(frozen=True)
class OwnerRef:
    """An ownerReference of an object."""

    kind: str
    name: str
    uid: str = ""
    controller: bool = False


@dataclasses.dataclass(frozen=True)
class Condition:
    """A status condition of a pod or a custom object."""

    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class Pod:
    """A pod: where it is bound, its state, its owners, and its shape (requests + constraints)."""

    namespace: str
    name: str
    shape: PodShape
    node: str = ""
    phase: str = "Pending"
    conditions: tuple[Condition, ...] = ()
    owners: tuple[OwnerRef, ...] = ()
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    created: dt.datetime | None = None
    uid: str = ""
    tracking_id: str = ""  # Argo CD's argocd.argoproj.io/tracking-id annotation, if any

    def condition(self, kind: str) -> Condition | None:
        """The condition of that type, if the pod has one."""
        return next((c for c in self.conditions if c.type == kind), None)


@dataclasses.dataclass(frozen=True)
class KubeObject:
    """A non-pod object the planner needs: an owner (ReplicaSet, Job, ...) or a KubeRay object.

    For a RayService, `active_cluster` and `pending_cluster` are the RayCluster names from
    status.activeServiceStatus / status.pendingServiceStatus. For a RayCluster, `state` and
    `desired_workers` are status.state and status.desiredWorkerReplicas. For a Deployment,
    `replicas` is spec.replicas; for a HorizontalPodAutoscaler, `scale_target` is its
    scaleTargetRef as "<kind>/<name>" and `min_replicas` its spec.minReplicas.
    """

    kind: str
    namespace: str
    name: str
    uid: str = ""
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    owners: tuple[OwnerRef, ...] = ()
    conditions: tuple[Condition, ...] = ()
    active_cluster: str = ""
    pending_cluster: str = ""
    state: str = ""
    desired_workers: int | None = None
    tracking_id: str = ""  # Argo CD's argocd.argoproj.io/tracking-id annotation, if any
    replicas: int | None = None
    scale_target: str = ""
    min_replicas: int | None = None

    def condition(self, kind: str) -> Condition | None:
        """The condition of that type, if the object has one."""
        return next((c for c in self.conditions if c.type == kind), None)


@dataclasses.dataclass(frozen=True)
class ClusterState:
    """One cluster's status. An unknown cluster (`known=False`) is never judged nor targeted."""

    name: str
    known: bool
    reason: str = ""
    nodes: tuple[Node, ...] = ()
    pods: tuple[Pod, ...] = ()
    objects: tuple[KubeObject, ...] = ()
    read_at: dt.datetime | None = None
    skipped: tuple[str, ...] = ()  # objects left out, each with why (e.g. a bad quantity)
    # Kinds of the optional APIs (KubeRay's) that the cluster does not serve: a group that
    # needs one of them can neither be judged there nor be moved there.
    unserved_kinds: frozenset[str] = frozenset()
    # Namespaces' labels, for pod affinity terms with a namespaceSelector (empty: not read).
    namespace_labels: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    kube_minor: int | None = None  # the server's Kubernetes minor version (/version), if known
    # RuntimeClass name -> overhead.podFixed, for pods that name a runtimeClassName.
    runtime_overheads: Mapping[str, Resources] = dataclasses.field(default_factory=dict)

    @staticmethod
    def unknown(name: str, reason: str) -> ClusterState:
        """A cluster whose status could not be read."""
        return ClusterState(name=name, known=False, reason=reason)


def mark_stale(
    states: Mapping[str, ClusterState],
    *,
    now: dt.datetime,
    max_age: Mapping[str, dt.timedelta],
) -> dict[str, ClusterState]:
    """Known clusters whose status is older than their max age become unknown.

    A status read "after" `now` (a what-if run with `--now` in the past) is not stale.
    """
    marked = dict(states)
    for name, state in states.items():
        limit = max_age.get(name)
        if not state.known or state.read_at is None or limit is None:
            continue
        age = now - state.read_at
        if age > limit:
            minutes = int(age.total_seconds() // 60)
            marked[name] = ClusterState.unknown(
                name, f"stale: status read {minutes}m ago, over the {limit} limit"
            )
    return marked
