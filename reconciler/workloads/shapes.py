"""Pod shapes: the requests and scheduling constraints of one pod, as the scheduler sees them.

The same shape describes a pod the manifests will create (demand) and a pod already bound
on a node (usage), so demand and capacity are computed by one rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

# Amounts are integer milli-units (see reconciler.core.quantity): "cpu": 500 is half a core,
# "memory": 2**30 * 1000 is 1Gi.
Resources = Mapping[str, int]


@dataclasses.dataclass(frozen=True)
class Toleration:
    """A pod's toleration (operator Equal or Exists; empty effect matches every effect)."""

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One node selector requirement: key, operator (In, NotIn, Exists, DoesNotExist, Gt, Lt)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()
    # A matchFields requirement: `key` names a node field (only metadata.name exists).
    on_field: bool = False


@dataclasses.dataclass(frozen=True)
class LabelSelector:
    """A label selector (matchLabels folded into `requirements` as In); empty matches all."""

    requirements: tuple[Requirement, ...] = ()


@dataclasses.dataclass(frozen=True)
class PodTerm:
    """A pod (anti-)affinity term; `selector` None matches no pod, as in kube.

    `namespaces` and `namespace_selector` both unset mean the pod's own namespace.
    `weight` is set for preferred terms only.
    """

    topology_key: str
    selector: LabelSelector | None = None
    namespaces: tuple[str, ...] = ()
    namespace_selector: LabelSelector | None = None
    weight: int = 0


@dataclasses.dataclass(frozen=True)
class SpreadConstraint:
    """A topologySpreadConstraint, with kube's defaults for the fields newer than 1.20."""

    max_skew: int
    topology_key: str
    when_unsatisfiable: str = "DoNotSchedule"
    selector: LabelSelector | None = None
    min_domains: int = 1
    node_affinity_policy: str = "Honor"
    node_taints_policy: str = "Ignore"
    match_label_keys: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class HostPort:
    """A container port bound on the node (hostPort), with its protocol and host IP."""

    port: int
    protocol: str = "TCP"
    ip: str = ""


@dataclasses.dataclass(frozen=True)
class PodCoupling:
    """What ties a pod's placement to other pods: pod (anti-)affinity, spreading, host ports."""

    affinity: tuple[PodTerm, ...] = ()
    anti_affinity: tuple[PodTerm, ...] = ()
    preferred_affinity: tuple[PodTerm, ...] = ()
    preferred_anti_affinity: tuple[PodTerm, ...] = ()
    spread: tuple[SpreadConstraint, ...] = ()
    host_ports: tuple[HostPort, ...] = ()

    @property
    def filters(self) -> bool:
        """Whether any required rule couples this pod to others (sure_fit's bound must not hold)."""
        hard_spread = any(c.when_unsatisfiable == "DoNotSchedule" for c in self.spread)
        return bool(self.affinity or self.anti_affinity or self.host_ports or hard_spread)


@dataclasses.dataclass(frozen=True)
class PodShape:
    """What one pod asks for: effective requests plus the constraints on where it may run.

    `required_affinity` holds the requiredDuringScheduling node selector terms: the pod
    fits a node when ANY term matches, and a term matches when ALL its requirements do.
    An empty tuple means no affinity constraint.
    """

    name: str
    requests: Resources
    tolerations: tuple[Toleration, ...] = ()
    node_selector: Mapping[str, str] = dataclasses.field(default_factory=dict)
    required_affinity: tuple[tuple[Requirement, ...], ...] = ()
    # A pod bound to one node before scheduling (a DaemonSet's pod, like spec.nodeName):
    # only that node can take it. "" lets the scheduler choose.
    node_name: str = ""
    # Added for the full scheduler simulation (plan/scheduler/); defaults keep the fast path.
    namespace: str = ""
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    coupling: PodCoupling | None = None
    preferred_node_affinity: tuple[tuple[int, tuple[Requirement, ...]], ...] = ()
    # The selector of the controller that owns the pod (ReplicaSet, StatefulSet): what the
    # system default topology spreading counts (PodTopologySpread scoring).
    default_spread: LabelSelector | None = None
    runtime_class: str = ""  # set only when the spec has no overhead of its own

    @property
    def scored_alone(self) -> bool:
        """Whether the fast path ranks this pod exactly: only resources, taints, selectors."""
        return (
            self.coupling is None
            and not self.preferred_node_affinity
            and self.default_spread is None
            and not self.runtime_class
        )

    def renamed(self, name: str) -> PodShape:
        """The same pod under another name (dataclasses.replace, without its cost per copy:
        a fleet's replicas make hundreds of thousands of them)."""
        return PodShape(
            name=name,
            requests=self.requests,
            tolerations=self.tolerations,
            node_selector=self.node_selector,
            required_affinity=self.required_affinity,
            node_name=self.node_name,
            namespace=self.namespace,
            labels=self.labels,
            coupling=self.coupling,
            preferred_node_affinity=self.preferred_node_affinity,
            default_spread=self.default_spread,
            runtime_class=self.runtime_class,
        )
