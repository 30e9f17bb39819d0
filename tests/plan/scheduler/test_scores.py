"""Score plugins and the framework's normalization, with the default weights."""

from __future__ import annotations

from reconciler.plan.scheduler.scores import default_normalized, weights_of
from reconciler.status.model import Taint
from tests.plan.scheduler.kit import fit, hosts, incoming, nodes_of, spec


def test_default_normalize_scales_to_the_highest_and_reverses() -> None:
    # plugins/helper/normalize_score.go: 100 * score / max, reversed for "fewer is better".
    assert default_normalized([0, 1, 2], reverse=False) == [0, 50, 100]
    assert default_normalized([0, 1, 2], reverse=True) == [100, 50, 0]
    assert default_normalized([0, 0], reverse=True) == [100, 100]


def test_a_prefer_no_schedule_taint_sends_the_pod_elsewhere() -> None:
    # TaintToleration scores intolerable PreferNoSchedule taints (weight 3 since 1.23).
    nodes = hosts("n1", "n2")
    nodes[0] = hosts("n1", taints=[Taint("spot", "yes", "PreferNoSchedule")])[0]
    assert nodes_of(fit([incoming("p", spec())], nodes)) == ["n2"]
    tolerant = spec(tolerations=[{"key": "spot", "operator": "Exists"}])
    assert nodes_of(fit([incoming("p", tolerant)], nodes)) == ["n1"]


def test_preferred_node_affinity_outweighs_a_little_more_room() -> None:
    # NodeAffinity scores the weights of the preferred terms a node matches.
    nodes = hosts("n1", "n2", labels={"disk": "ssd"})
    nodes[1] = hosts("n2", cpu="16", memory="64Gi")[0]
    preferred = {
        "weight": 10,
        "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]},
    }
    wants_ssd = spec(
        affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [preferred]}}
    )
    assert nodes_of(fit([incoming("p", spec())], nodes)) == ["n2"]
    assert nodes_of(fit([incoming("p", wants_ssd)], nodes)) == ["n1"]


def test_default_weights_follow_the_clusters_version() -> None:
    # v1beta3 (1.23) raised TaintToleration to 3, NodeAffinity and InterPodAffinity to 2.
    assert weights_of(None)["TaintToleration"] == 3
    assert weights_of(20)["TaintToleration"] == 1
    assert weights_of(20)["PodTopologySpread"] == weights_of(30)["PodTopologySpread"] == 2
