"""What the full simulation sees of a cluster: nodes, room, and the pods bound to each node.

The board grows as the group's pods land, so the pod-to-pod rules of later pods see the
earlier ones (the scheduler's cache assumes each pod on its node before the next cycle).
A cluster's pods are indexed once per pass (ClusterView); each simulation only keeps the
pods it places itself (Board).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol

from reconciler.plan.fit import POD_SLOT, charge_shape, node_score
from reconciler.plan.scheduler.node_filters import fixed_failure, insufficient
from reconciler.plan.scheduler.selectors import selector_matches
from reconciler.status.model import ClusterState, Node
from reconciler.workloads.shapes import HostPort, LabelSelector, PodShape, PodTerm

_DONE_PHASES = frozenset({"Succeeded", "Failed"})


class Bound(Protocol):
    """A pod bound to a node, as pod-to-pod rules see it (a status Pod or a Peer)."""

    @property
    def namespace(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def node(self) -> str: ...
    @property
    def shape(self) -> PodShape: ...


@dataclasses.dataclass(frozen=True)
class Peer:
    """One of the group's pods once placed (or a pod an earlier choice of the pass placed)."""

    namespace: str
    labels: Mapping[str, str]
    node: str
    shape: PodShape


@dataclasses.dataclass
class _Index:
    by_namespace: dict[str, list[Bound]] = dataclasses.field(default_factory=dict)
    on_node: dict[str, list[Bound]] = dataclasses.field(default_factory=dict)
    with_affinity: list[Bound] = dataclasses.field(default_factory=list)  # any pod (anti-)affinity
    ports: dict[str, list[HostPort]] = dataclasses.field(default_factory=dict)

    def add(self, pod: Bound) -> None:
        self.by_namespace.setdefault(pod.namespace, []).append(pod)
        self.on_node.setdefault(pod.node, []).append(pod)
        coupling = pod.shape.coupling
        if coupling is None:
            return
        if (
            coupling.affinity
            or coupling.anti_affinity
            or coupling.preferred_affinity
            or coupling.preferred_anti_affinity
        ):
            self.with_affinity.append(pod)
        if coupling.host_ports:
            self.ports.setdefault(pod.node, []).extend(coupling.host_ports)


class ClusterView:
    """One cluster's bound pods and namespaces for the full simulation, indexed on first use."""

    def __init__(
        self,
        pods: Sequence[Bound] = (),
        *,
        namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
        kube_minor: int | None = None,
    ) -> None:
        self._pods = pods
        self._index: _Index | None = None
        self._hazards: tuple[tuple[str, PodTerm], ...] | None = None
        self.namespace_labels: Mapping[str, Mapping[str, str]] = namespace_labels or {}
        self.kube_minor = kube_minor

    @property
    def index(self) -> _Index:
        if self._index is None:
            self._index = _Index()
            for pod in self._pods:
                self._index.add(pod)
        return self._index

    @property
    def hazards(self) -> tuple[tuple[str, PodTerm], ...]:
        """The required anti-affinity terms of bound pods, with each owner's namespace: they
        may keep a plain pod away from a node. Each distinct pair once.

        Asked for every candidate of a pass: one scan, without building the index.
        """
        if self._hazards is None:
            self._hazards = tuple(
                dict.fromkeys(
                    (p.namespace, term)
                    for p in self._pods
                    if p.shape.coupling
                    for term in p.shape.coupling.anti_affinity
                )
            )
        return self._hazards


def view_of(
    state: ClusterState,
    *,
    without: frozenset[tuple[str, str]] = frozenset(),
    extra: Sequence[Peer] = (),
) -> ClusterView:
    """Bound running pods of `state`, less `without` ((namespace, name)), and `extra`."""
    pods: list[Bound] = [
        p
        for p in state.pods
        if p.node and p.phase not in _DONE_PHASES and (p.namespace, p.name) not in without
    ]
    return ClusterView(
        [*pods, *extra], namespace_labels=state.namespace_labels, kube_minor=state.kube_minor
    )


class Board:
    """The simulation's mutable state: room per node, the cluster's pods and the group's."""

    def __init__(
        self, view: ClusterView, *, nodes: Sequence[Node], free: Mapping[str, Mapping[str, int]]
    ) -> None:
        self.view = view
        self.nodes = nodes
        self.by_name = {node.name: node for node in nodes}
        self.room = {name: dict(amounts) for name, amounts in free.items()}
        self.base = view.index
        self.placed = _Index()
        # Per (namespace, selector): the matching pods per node, kept up to date by place.
        self._counts: dict[tuple[str, LabelSelector | None], dict[str, int]] = {}
        # Per node, per requests: what NodeResourcesFit says and the two resource scores
        # give. Only the node a pod lands on changes, so replicas reuse the rest.
        self._resources: dict[str, dict[tuple[tuple[str, int], ...], tuple[list[str], int]]] = {}
        # Per kind of pod (what the filters that read only the pod and the node see of it):
        # the first such filter's reason per node, '' where they all pass.
        self._fixed: dict[tuple[object, ...], list[str]] = {}

    def place(self, shape: PodShape, node: Node) -> None:
        """Bind one of the group's pods: charge its room and make it a peer."""
        charge_shape(self.room.setdefault(node.name, {}), shape.requests)
        self._resources.pop(node.name, None)
        self.placed.add(
            Peer(namespace=shape.namespace, labels=shape.labels, node=node.name, shape=shape)
        )
        for (namespace, selector), counts in self._counts.items():
            if namespace == shape.namespace and selector_matches(selector, shape.labels):
                counts[node.name] = counts.get(node.name, 0) + 1

    def fixed_failures(self, shape: PodShape) -> list[str]:
        """Per node of the board, the reason of the first filter that reads only the pod and
        the node (NodeName, NodeUnschedulable, TaintToleration, NodeAffinity) and rejects
        it; '' where they all pass. Checked once per kind of pod: replicas share it."""
        key = (
            shape.node_name,
            shape.tolerations,
            tuple(shape.node_selector.items()),
            shape.required_affinity,
        )
        found = self._fixed.get(key)
        if found is None:
            found = self._fixed[key] = [fixed_failure(shape, node) for node in self.nodes]
        return found

    def resources(self, requests: Mapping[str, int], node: Node) -> tuple[list[str], int]:
        """NodeResourcesFit's reasons against the node's room (none: it fits), and the node's
        LeastAllocated + BalancedAllocation score for the pod."""
        per_node = self._resources.setdefault(node.name, {})
        key = tuple(requests.items())
        found = per_node.get(key)
        if found is None:
            room = self.room.get(node.name, {})
            found = per_node[key] = (
                insufficient(requests, room, pod_slot=POD_SLOT),
                node_score(requests, node=node, room=room, kube_minor=self.view.kube_minor),
            )
        return found

    def matching(self, namespace: str, selector: LabelSelector | None) -> Mapping[str, int]:
        """Per node, the pods in `namespace` that `selector` matches (spreading counts these)."""
        key = (namespace, selector)
        found = self._counts.get(key)
        if found is None:
            found = self._counts[key] = {}
            for pod in self.in_namespaces((namespace,)):
                if selector_matches(selector, pod.labels):
                    found[pod.node] = found.get(pod.node, 0) + 1
        return found

    @property
    def peers(self) -> Iterator[Bound]:
        """Every pod on the board's nodes."""
        for index in (self.base, self.placed):
            for pods in index.by_namespace.values():
                yield from (p for p in pods if p.node in self.by_name)

    @property
    def with_affinity(self) -> Iterator[Bound]:
        """The pods on the board's nodes with pod (anti-)affinity terms."""
        for index in (self.base, self.placed):
            yield from (p for p in index.with_affinity if p.node in self.by_name)

    def in_namespaces(self, namespaces: Iterable[str]) -> Iterator[Bound]:
        """The pods on the board's nodes in these namespaces."""
        for namespace in namespaces:
            for index in (self.base, self.placed):
                yield from (
                    p for p in index.by_namespace.get(namespace, ()) if p.node in self.by_name
                )

    def on_node(self, node: str) -> Iterator[Bound]:
        """The pods bound to one node."""
        yield from self.base.on_node.get(node, ())
        yield from self.placed.on_node.get(node, ())

    def ports(self, node: str) -> list[HostPort]:
        """The host ports in use on one node."""
        return [*self.base.ports.get(node, ()), *self.placed.ports.get(node, ())]
