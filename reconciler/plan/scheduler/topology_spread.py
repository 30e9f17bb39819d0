"""PodTopologySpread: DoNotSchedule constraints filter, ScheduleAnyway ones (or the system
defaults) score.

Follows pkg/scheduler/framework/plugins/podtopologyspread/filtering.go and scoring.go.
minDomains, nodeAffinityPolicy, nodeTaintsPolicy and matchLabelKeys are newer than 1.20;
they follow the current upstream source (with their defaults: minDomains 1, Honor, Ignore).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from reconciler.plan.scheduler.board import Board
from reconciler.plan.scheduler.node_filters import HARD_EFFECTS, node_affinity
from reconciler.plan.scheduler.selectors import selector_matches
from reconciler.plan.scheduler.tolerations import tolerates
from reconciler.status.model import Node
from reconciler.workloads.shapes import LabelSelector, PodShape, Requirement, SpreadConstraint

HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


@dataclasses.dataclass(frozen=True)
class SpreadCounts:
    """PreFilter's state: matching pods per topology pair, and per key the fewest and domains."""

    constraints: tuple[SpreadConstraint, ...]
    per_pair: dict[tuple[str, str], int]
    fewest: dict[str, int]
    domains: dict[str, int]
    own: tuple[int, ...]  # per constraint: 1 when its selector matches the pod itself


def effective(constraint: SpreadConstraint, shape: PodShape) -> SpreadConstraint:
    """The constraint with matchLabelKeys folded into its selector (the pod's own values)."""
    if not constraint.match_label_keys or constraint.selector is None:
        return constraint
    extra = tuple(
        Requirement(key=key, operator="In", values=(shape.labels[key],))
        for key in constraint.match_label_keys
        if key in shape.labels
    )
    selector = LabelSelector(constraint.selector.requirements + extra)
    return dataclasses.replace(constraint, selector=selector)


def prefilter(shape: PodShape, board: Board) -> SpreadCounts | None:
    """Counts for the pod's DoNotSchedule constraints over the nodes that may hold a domain."""
    if shape.coupling is None:
        return None
    constraints = tuple(
        effective(c, shape)
        for c in shape.coupling.spread
        if c.when_unsatisfiable == "DoNotSchedule"
    )
    if not constraints:
        return None
    matching = [board.matching(shape.namespace, c.selector) for c in constraints]
    per_pair: dict[tuple[str, str], int] = {}
    for node in board.nodes:
        if any(c.topology_key not in node.labels for c in constraints):
            continue
        for constraint, counts in zip(constraints, matching, strict=True):
            if not _included(constraint, shape, node):
                continue
            pair = (constraint.topology_key, node.labels[constraint.topology_key])
            per_pair[pair] = per_pair.get(pair, 0) + counts.get(node.name, 0)
    fewest: dict[str, int] = {}
    domains: dict[str, int] = {}
    for (key, _), count in per_pair.items():
        fewest[key] = min(fewest.get(key, count), count)
        domains[key] = domains.get(key, 0) + 1
    own = tuple(int(selector_matches(c.selector, shape.labels)) for c in constraints)
    return SpreadCounts(constraints, per_pair, fewest=fewest, domains=domains, own=own)


def spread_filter(shape: PodShape, node: Node, counts: SpreadCounts) -> str:
    """Filter: the skew after placing the pod on this node's domain stays within maxSkew."""
    for constraint, own in zip(counts.constraints, counts.own, strict=True):
        key = constraint.topology_key
        value = node.labels.get(key)
        if value is None:
            return "node(s) didn't match pod topology spread constraints (missing required label)"
        if key not in counts.fewest:  # no eligible domain at all: upstream errors out
            return "node(s) didn't match pod topology spread constraints"
        fewest = counts.fewest[key]
        if counts.domains[key] < constraint.min_domains:
            fewest = 0
        if counts.per_pair.get((key, value), 0) + own - fewest > constraint.max_skew:
            return "node(s) didn't match pod topology spread constraints"
    return ""


def spread_scores(shape: PodShape, nodes: Sequence[Node], board: Board) -> list[int] | None:
    """Score and NormalizeScore on the feasible nodes; None when the plugin skips the pod."""
    explicit = shape.coupling is not None and bool(shape.coupling.spread)
    if explicit:
        assert shape.coupling is not None
        constraints = [
            effective(c, shape)
            for c in shape.coupling.spread
            if c.when_unsatisfiable == "ScheduleAnyway"
        ]
    elif shape.default_spread is not None and shape.default_spread.requirements:
        # The system defaults (pkg/scheduler/apis/config/v1/defaults.go) with the selector of
        # the pod's controller; Services that select the pod are not read.
        constraints = [
            SpreadConstraint(3, HOSTNAME, "ScheduleAnyway", shape.default_spread),
            SpreadConstraint(5, ZONE, "ScheduleAnyway", shape.default_spread),
        ]
    else:
        constraints = []
    if not constraints:
        return None
    ignored = {
        node.name
        for node in nodes
        if explicit and any(c.topology_key not in node.labels for c in constraints)
    }
    counted = [n for n in nodes if n.name not in ignored]
    per_pair: dict[tuple[str, str], int] = {}
    sizes = []
    for constraint in constraints:
        key = constraint.topology_key
        if key == HOSTNAME:
            sizes.append(len(counted))
            continue
        values = {(key, node.labels.get(key, "")) for node in counted}
        sizes.append(len(values))
        for pair in values:
            per_pair.setdefault(pair, 0)
    matching = [board.matching(shape.namespace, c.selector) for c in constraints]
    for node in board.nodes:
        if explicit and any(c.topology_key not in node.labels for c in constraints):
            continue
        for constraint, counts in zip(constraints, matching, strict=True):
            pair = (constraint.topology_key, node.labels.get(constraint.topology_key, ""))
            if pair in per_pair and _included(constraint, shape, node):
                per_pair[pair] += counts.get(node.name, 0)
    raw: list[int] = []
    for node in nodes:
        if node.name in ignored:
            raw.append(0)
            continue
        score = 0.0
        for constraint, size, counts in zip(constraints, sizes, matching, strict=True):
            value = node.labels.get(constraint.topology_key)
            if value is None:
                continue
            if constraint.topology_key == HOSTNAME:
                count = counts.get(node.name, 0)
            else:
                count = per_pair[(constraint.topology_key, value)]
            score += count * math.log(size + 2) + constraint.max_skew - 1
        raw.append(round(score))
    kept = [s for node, s in zip(nodes, raw, strict=True) if node.name not in ignored]
    if not kept:
        return [0] * len(nodes)
    low, high = min(kept), max(kept)
    return [
        0 if node.name in ignored else (100 if high == 0 else 100 * (high + low - s) // high)
        for node, s in zip(nodes, raw, strict=True)
    ]


def _included(constraint: SpreadConstraint, shape: PodShape, node: Node) -> bool:
    """nodeAffinityPolicy (default Honor) and nodeTaintsPolicy (default Ignore)."""
    if constraint.node_affinity_policy == "Honor" and node_affinity(shape, node):
        return False
    if constraint.node_taints_policy == "Honor":
        return all(tolerates(shape.tolerations, t) for t in node.taints if t.effect in HARD_EFFECTS)
    return True
