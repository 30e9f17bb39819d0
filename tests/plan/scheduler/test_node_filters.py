"""NodeUnschedulable, TaintToleration, NodeAffinity and NodePorts, as upstream filters them."""

from __future__ import annotations

import dataclasses

from reconciler.status.model import Taint
from tests.plan.scheduler.kit import HOST, bound, fit, hosts, incoming, nodes_of, spec

UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}


def test_a_cordoned_node_takes_a_pod_that_tolerates_its_taint() -> None:
    # plugins/nodeunschedulable/node_unschedulable.go: the pod may tolerate the taint.
    nodes = hosts("n1", unschedulable=True)
    assert not fit([incoming("p", spec())], nodes).fits
    tolerant = incoming("p", spec(tolerations=[{**UNSCHEDULABLE, "effect": "NoSchedule"}]))
    assert nodes_of(fit([tolerant], nodes)) == ["n1"]


def test_an_untolerated_taint_is_named_as_the_scheduler_names_it() -> None:
    # plugins/tainttoleration/taint_toleration.go: "node(s) had untolerated taint {k: v}".
    nodes = hosts("n1", taints=[Taint("dedicated", "ml")])
    result = fit([incoming("p", spec(affinity={"podAntiAffinity": {}}))], nodes)
    assert result.short.endswith(
        "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: ml}."
    )


def test_an_empty_node_selector_term_matches_no_node() -> None:
    # component-helpers nodeaffinity: a term without requirements matches nothing.
    empty = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}}
    result = fit([incoming("p", spec(affinity={"nodeAffinity": empty}))], hosts("n1", "n2"))
    assert not result.fits
    assert "2 node(s) didn't match Pod's node affinity/selector" in result.short


def test_match_fields_pick_the_node_by_name() -> None:
    # nodeaffinity: matchFields supports metadata.name only.
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    assert nodes_of(fit([incoming("p", spec(affinity=affinity))], hosts("n1", "n2"))) == ["n2"]


def _port(host_port: int, protocol: str = "TCP", ip: str = "") -> dict[str, object]:
    port: dict[str, object] = {"containerPort": 80, "hostPort": host_port, "protocol": protocol}
    if ip:
        port["hostIP"] = ip
    return port


def test_host_ports_conflict_with_bound_pods_and_with_the_groups_own() -> None:
    # plugins/nodeports/node_ports.go: same port and protocol, and overlapping host IPs.
    nodes = hosts("n1", "n2")
    web = spec(ports=[_port(8080)])
    busy = [bound("old", "n1", spec(ports=[_port(8080)]))]
    assert nodes_of(fit([incoming("a", web)], nodes, busy)) == ["n2"]
    result = fit([incoming("a", web), incoming("b", web)], nodes, busy)
    assert result.short.endswith(
        "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports."
    )


def test_host_ports_on_another_protocol_or_host_ip_do_not_conflict() -> None:
    nodes = hosts("n1")
    busy = [bound("old", "n1", spec(ports=[_port(53, "UDP", "10.0.0.1")]))]
    assert fit([incoming("tcp", spec(ports=[_port(53, "TCP")]))], nodes, busy).fits
    assert fit([incoming("ip", spec(ports=[_port(53, "UDP", "10.0.0.2")]))], nodes, busy).fits
    assert not fit([incoming("any", spec(ports=[_port(53, "UDP")]))], nodes, busy).fits


def test_three_anti_affine_replicas_with_a_host_port_do_not_fit_one_node() -> None:
    # The example of issue 14: the planner said fits: ['n1', 'n1', 'n1'].
    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "w"}}, "topologyKey": HOST}
            ]
        }
    }
    web = spec(affinity=anti, ports=[_port(8080)])
    shapes = [incoming(f"w{i}", web, labels={"app": "w"}) for i in range(3)]
    assert not fit(shapes, hosts("n1")).fits
    assert sorted(nodes_of(fit(shapes, hosts("n1", "n2", "n3")))) == ["n1", "n2", "n3"]


def test_a_pinned_pod_lands_on_its_node_or_nowhere_in_the_full_simulation() -> None:
    # plugins/nodename/node_name.go: a pod bound to a node (a DaemonSet's pod, pinned by the
    # planner) fits only that node. The empty anti-affinity sends it to the full simulation.
    pod = incoming("ds", spec(affinity={"podAntiAffinity": {}}))
    nodes = hosts("n1", "n2")
    assert nodes_of(fit([dataclasses.replace(pod, node_name="n2")], nodes)) == ["n2"]
    busy = [bound("big", "n2", spec(cpu="8"))]  # n2 (8 CPU) is full; n1 is empty
    result = fit([dataclasses.replace(pod, node_name="n2")], nodes, busy)
    assert not result.fits
    assert "1 node(s) didn't match the requested node name" in result.short
