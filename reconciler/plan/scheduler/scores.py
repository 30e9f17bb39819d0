"""Score plugins that read only the pod and the node, the framework's normalization, and the
default weights (pkg/scheduler/apis/config/v1/default_plugins.go).

ImageLocality is left out: which images a node already holds is not known here, and it
only breaks ties between nodes that are otherwise equal.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.scheduler.selectors import node_term_matches
from reconciler.plan.scheduler.tolerations import tolerates
from reconciler.status.model import Node
from reconciler.workloads.shapes import PodShape

MAX_SCORE = 100
WEIGHTS = {
    "NodeResourcesFit": 1,
    "NodeResourcesBalancedAllocation": 1,
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "InterPodAffinity": 2,
    "PodTopologySpread": 2,
}
# Before the v1beta3 configuration (Kubernetes 1.23) every default score plugin weighed 1
# but PodTopologySpread, 2 (pkg/scheduler/apis/config/v1beta1/default_plugins.go).
_WEIGHTS_BEFORE_1_23 = {**dict.fromkeys(WEIGHTS, 1), "PodTopologySpread": 2}


def weights_of(kube_minor: int | None) -> dict[str, int]:
    """The default score weights of a Kubernetes minor version (unknown: the current ones)."""
    return _WEIGHTS_BEFORE_1_23 if kube_minor is not None and kube_minor < 23 else WEIGHTS


def taint_scores(shape: PodShape, nodes: Sequence[Node]) -> list[int]:
    """TaintToleration (plugins/tainttoleration): PreferNoSchedule taints not tolerated,
    fewer is better (DefaultNormalizeScore, reversed)."""
    tolerations = [t for t in shape.tolerations if t.effect in {"", "PreferNoSchedule"}]
    raw = [
        sum(
            1
            for taint in node.taints
            if taint.effect == "PreferNoSchedule" and not tolerates(tolerations, taint)
        )
        for node in nodes
    ]
    return default_normalized(raw, reverse=True)


def node_affinity_scores(shape: PodShape, nodes: Sequence[Node]) -> list[int]:
    """NodeAffinity (plugins/nodeaffinity): the weights of the preferred terms a node matches."""
    raw = [
        sum(
            weight
            for weight, term in shape.preferred_node_affinity
            if node_term_matches(term, labels=node.labels, name=node.name)
        )
        for node in nodes
    ]
    return default_normalized(raw, reverse=False)


def default_normalized(raw: Sequence[int], *, reverse: bool) -> list[int]:
    """helper.DefaultNormalizeScore (plugins/helper/normalize_score.go)."""
    top = max(raw, default=0)
    if top == 0:
        return [MAX_SCORE if reverse else 0 for _ in raw]
    scaled = [MAX_SCORE * score // top for score in raw]
    return [MAX_SCORE - s for s in scaled] if reverse else scaled
