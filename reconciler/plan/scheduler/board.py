"""What the full simulation sees of a cluster: nodes, room, and the pods bound to each node.

The board grows as the group's pods land, so the pod-to-pod rules of later pods see the
earlier ones (the scheduler's cache assumes each pod on its node before the next cycle).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from reconciler.plan.fit import charge_shape
from reconciler.status.model import ClusterState, Node
from reconciler.workloads.shapes import HostPort, PodShape

_DONE_PHASES = frozenset({"Succeeded", "Failed"})


@dataclasses.dataclass(frozen=True)
class Peer:
    """A pod bound to a node, as pod-to-pod rules see it."""

    namespace: str
    labels: Mapping[str, str]
    node: str
    shape: PodShape  # its coupling: anti-affinity, preferred terms, host ports


@dataclasses.dataclass(frozen=True)
class ClusterView:
    """One cluster's pods and namespaces for the full simulation (built once per pass)."""

    peers: tuple[Peer, ...] = ()
    namespace_labels: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    kube_minor: int | None = None  # the cluster's Kubernetes minor version, when known

    @property
    def hazards(self) -> tuple[Peer, ...]:
        """Pods whose own required anti-affinity may keep a plain pod away from a node."""
        return tuple(p for p in self.peers if p.shape.coupling and p.shape.coupling.anti_affinity)


def view_of(
    state: ClusterState,
    *,
    without: frozenset[tuple[str, str]] = frozenset(),
    extra: Iterable[Peer] = (),
) -> ClusterView:
    """The running pods bound to a node of `state`, but `without` ((namespace, name)), plus `extra`."""
    peers = [
        Peer(namespace=p.namespace, labels=p.labels, node=p.node, shape=p.shape)
        for p in state.pods
        if p.node and p.phase not in _DONE_PHASES and (p.namespace, p.name) not in without
    ]
    return ClusterView(
        peers=(*peers, *extra),
        namespace_labels=state.namespace_labels,
        kube_minor=state.kube_minor,
    )


class Board:
    """The simulation's mutable state: room per node and the peers per node and namespace."""

    def __init__(
        self, view: ClusterView, *, nodes: Sequence[Node], free: Mapping[str, Mapping[str, int]]
    ) -> None:
        self.view = view
        self.nodes = nodes
        self.by_name = {node.name: node for node in nodes}
        self.room = {name: dict(amounts) for name, amounts in free.items()}
        self.by_namespace: dict[str, list[Peer]] = {}
        self.on_node: dict[str, list[Peer]] = {}
        self.with_affinity: list[Peer] = []  # peers with any pod (anti-)affinity term
        self.ports: dict[str, list[HostPort]] = {}
        for peer in view.peers:
            self._add(peer)

    @property
    def peers(self) -> Iterable[Peer]:
        """Every pod on the board."""
        for peers in self.by_namespace.values():
            yield from peers

    def place(self, shape: PodShape, node: Node) -> None:
        """Bind one of the group's pods: charge its room and make it a peer."""
        charge_shape(self.room.setdefault(node.name, {}), shape.requests)
        self._add(Peer(namespace=shape.namespace, labels=shape.labels, node=node.name, shape=shape))

    def _add(self, peer: Peer) -> None:
        if peer.node not in self.by_name:
            return
        self.by_namespace.setdefault(peer.namespace, []).append(peer)
        self.on_node.setdefault(peer.node, []).append(peer)
        coupling = peer.shape.coupling
        if coupling is None:
            return
        if (
            coupling.affinity
            or coupling.anti_affinity
            or coupling.preferred_affinity
            or coupling.preferred_anti_affinity
        ):
            self.with_affinity.append(peer)
        if coupling.host_ports:
            self.ports.setdefault(peer.node, []).extend(coupling.host_ports)

    def in_namespaces(self, namespaces: Iterable[str] | None) -> Iterable[Peer]:
        """The peers in these namespaces (None: in every namespace)."""
        if namespaces is None:
            yield from self.peers
            return
        for namespace in namespaces:
            yield from self.by_namespace.get(namespace, ())
