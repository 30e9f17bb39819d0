"""What one manifest asks of a cluster (WorkloadDemand), and the error for an unusable one.

Kept apart from the registry so that every workload family can build these without
importing the registry that imports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from reconciler.workloads.shapes import PodShape


@dataclasses.dataclass(frozen=True)
class WorkloadDemand:
    """The pods one workload will create, in creation order, and whether it holds data."""

    kind: str
    namespace: str
    name: str
    shapes: tuple[PodShape, ...]
    # PVC-backed data: a PersistentVolumeClaim object, StatefulSet volumeClaimTemplates,
    # or pod volumes with persistentVolumeClaim. Data does not travel with a move.
    stateful: bool = False
    # A DaemonSet: the pod it runs on every node it selects. How many depends on the
    # cluster, so `shapes` is empty and plan/daemon_sets.py places one per eligible node.
    per_node: PodShape | None = None


class WorkloadError(ValueError):
    """A manifest that cannot be turned into pod shapes; `field` is a dotted path into it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@dataclasses.dataclass(frozen=True)
class Workload:
    """Who a manifest is: its kind, namespace and name, as a builder needs them."""

    kind: str
    namespace: str
    name: str

    @property
    def label(self) -> str:
        """The prefix of every shape name: "<namespace>/<name>"."""
        return f"{self.namespace}/{self.name}"

    def demand(self, shapes: tuple[PodShape, ...], *, stateful: bool = False) -> WorkloadDemand:
        """This workload's demand with the given shapes."""
        return WorkloadDemand(
            kind=self.kind,
            namespace=self.namespace,
            name=self.name,
            shapes=shapes,
            stateful=stateful,
        )


class Builder(Protocol):
    """A family's function from a manifest to its demand (None: it creates no pods)."""

    def __call__(
        self, manifest: Mapping[str, Any], *, workload: Workload
    ) -> WorkloadDemand | None: ...
