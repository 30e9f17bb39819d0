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
        )
