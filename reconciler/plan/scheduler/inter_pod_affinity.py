"""InterPodAffinity: required pod affinity and anti-affinity both ways, and preferred terms.

Follows pkg/scheduler/framework/plugins/interpodaffinity/filtering.go (PreFilter counts per
topology pair, then Filter per node) and scoring.go (weights per topology pair, normalized
to 0-100 between the lowest and the highest node).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from reconciler.plan.scheduler.board import Board, Bound
from reconciler.plan.scheduler.selectors import term_matches_pod
from reconciler.status.model import Node
from reconciler.workloads.shapes import PodShape, PodTerm

Pair = tuple[str, str]


@dataclasses.dataclass
class AffinityCounts:
    """PreFilter's state for one incoming pod."""

    affinity: dict[Pair, int] = dataclasses.field(default_factory=dict)
    anti_affinity: dict[Pair, int] = dataclasses.field(default_factory=dict)
    existing_anti: dict[Pair, int] = dataclasses.field(default_factory=dict)
    self_affine: bool = False  # the pod matches all its own affinity terms


def prefilter(shape: PodShape, board: Board) -> AffinityCounts | None:
    """The counts Filter reads, or None when no pod-to-pod rule concerns this pod."""
    counts = AffinityCounts()
    ns_labels = board.view.namespace_labels
    for peer in board.with_affinity:
        assert peer.shape.coupling is not None
        for term in peer.shape.coupling.anti_affinity:
            if _matches(term, owner=peer.namespace, pod=shape, ns_labels=ns_labels):
                _count(counts.existing_anti, term, board.by_name[peer.node])
    coupling = shape.coupling
    if coupling is None or not (coupling.affinity or coupling.anti_affinity):
        return counts if counts.existing_anti else None
    if coupling.affinity:
        # An existing pod counts for affinity only when it matches every term.
        for peer in _candidates(coupling.affinity, shape, board):
            if all(_peer_matches(t, shape, peer, ns_labels) for t in coupling.affinity):
                for term in coupling.affinity:
                    _count(counts.affinity, term, board.by_name[peer.node])
        counts.self_affine = all(
            _matches(t, owner=shape.namespace, pod=shape, ns_labels=ns_labels)
            for t in coupling.affinity
        )
    for term in coupling.anti_affinity:
        for peer in _candidates((term,), shape, board):
            if _peer_matches(term, shape, peer, ns_labels):
                _count(counts.anti_affinity, term, board.by_name[peer.node])
    return counts


def affinity_filter(shape: PodShape, node: Node, counts: AffinityCounts) -> str:
    """Filter: the pod's affinity, its anti-affinity, then existing pods' anti-affinity."""
    coupling = shape.coupling
    labels = node.labels
    if coupling is not None and coupling.affinity:
        pods_exist = True
        for term in coupling.affinity:
            value = labels.get(term.topology_key)
            if value is None:
                return "node(s) didn't match pod affinity rules"
            if counts.affinity.get((term.topology_key, value), 0) <= 0:
                pods_exist = False
        # The first pod of a set with affinity to itself may land (satisfyPodAffinity).
        if not pods_exist and not (not counts.affinity and counts.self_affine):
            return "node(s) didn't match pod affinity rules"
    if coupling is not None and counts.anti_affinity:
        for term in coupling.anti_affinity:
            value = labels.get(term.topology_key)
            if value is not None and counts.anti_affinity.get((term.topology_key, value), 0) > 0:
                return "node(s) didn't match pod anti-affinity rules"
    if counts.existing_anti and any(
        counts.existing_anti.get(pair, 0) > 0 for pair in labels.items()
    ):
        return "node(s) didn't satisfy existing pods anti-affinity rules"
    return ""


def affinity_scores(shape: PodShape, nodes: Sequence[Node], board: Board) -> list[int] | None:
    """Score and NormalizeScore for the feasible nodes; None when every node scores 0."""
    coupling = shape.coupling
    preferred = coupling is not None and bool(
        coupling.preferred_affinity or coupling.preferred_anti_affinity
    )
    ns_labels = board.view.namespace_labels
    weights: dict[str, dict[str, int]] = {}
    peers: Iterable[Bound] = board.peers if preferred else board.with_affinity
    for peer in peers:
        node = board.by_name[peer.node]
        if not node.labels:
            continue
        if coupling is not None:
            for term in coupling.preferred_affinity:
                if _peer_matches(term, shape, peer, ns_labels):
                    _weigh(weights, term, node, term.weight)
            for term in coupling.preferred_anti_affinity:
                if _peer_matches(term, shape, peer, ns_labels):
                    _weigh(weights, term, node, -term.weight)
        theirs = peer.shape.coupling
        if theirs is None:
            continue
        # hardPodAffinityWeight 1: an existing pod's required affinity draws the pod near it.
        for term in theirs.affinity:
            if _matches(term, owner=peer.namespace, pod=shape, ns_labels=ns_labels):
                _weigh(weights, term, node, 1)
        for term in theirs.preferred_affinity:
            if _matches(term, owner=peer.namespace, pod=shape, ns_labels=ns_labels):
                _weigh(weights, term, node, term.weight)
        for term in theirs.preferred_anti_affinity:
            if _matches(term, owner=peer.namespace, pod=shape, ns_labels=ns_labels):
                _weigh(weights, term, node, -term.weight)
    if not weights:
        return None
    raw = [
        sum(
            values.get(node.labels[key], 0) for key, values in weights.items() if key in node.labels
        )
        for node in nodes
    ]
    low, high = min(raw), max(raw)
    if high == low:
        return [0] * len(raw)
    return [int(100 * (score - low) / (high - low)) for score in raw]


def _candidates(terms: Sequence[PodTerm], shape: PodShape, board: Board) -> Iterable[Bound]:
    """The peers that could match these terms: by namespace unless a namespaceSelector is set."""
    if any(t.namespace_selector is not None for t in terms):
        return board.peers
    namespaces: set[str] = set()
    for term in terms:
        namespaces.update(term.namespaces or (shape.namespace,))
    return board.in_namespaces(sorted(namespaces))


def _peer_matches(
    term: PodTerm, shape: PodShape, peer: Bound, ns_labels: Mapping[str, Mapping[str, str]]
) -> bool:
    return term_matches_pod(
        term,
        owner_namespace=shape.namespace,
        namespace=peer.namespace,
        labels=peer.labels,
        namespace_labels=ns_labels,
    )


def _matches(
    term: PodTerm, *, owner: str, pod: PodShape, ns_labels: Mapping[str, Mapping[str, str]]
) -> bool:
    return term_matches_pod(
        term,
        owner_namespace=owner,
        namespace=pod.namespace,
        labels=pod.labels,
        namespace_labels=ns_labels,
    )


def _count(counts: dict[Pair, int], term: PodTerm, node: Node) -> None:
    value = node.labels.get(term.topology_key)
    if value is not None:
        pair = (term.topology_key, value)
        counts[pair] = counts.get(pair, 0) + 1


def _weigh(weights: dict[str, dict[str, int]], term: PodTerm, node: Node, amount: int) -> None:
    value = node.labels.get(term.topology_key)
    if value is not None:
        values = weights.setdefault(term.topology_key, {})
        values[value] = values.get(value, 0) + amount
