"""InterPodAffinity's filter (plugins/interpodaffinity/filtering.go) and score (scoring.go)."""

from __future__ import annotations

from typing import Any

from tests.plan.scheduler.kit import HOST, ZONE, bound, fit, hosts, incoming, nodes_of, spec


def _term(labels: dict[str, str], key: str = HOST, **more: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": labels}, "topologyKey": key, **more}


def _required(kind: str, *terms: dict[str, Any]) -> dict[str, Any]:
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


def test_anti_affine_replicas_take_one_host_each_and_the_rest_is_refused() -> None:
    web = spec(affinity=_required("podAntiAffinity", _term({"app": "w"})))
    shapes = [incoming(f"w{i}", web, labels={"app": "w"}) for i in range(3)]
    result = fit(shapes, hosts("n1", "n2"))
    assert not result.fits
    assert result.short.endswith(
        "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules."
    )


def test_a_bound_pods_anti_affinity_keeps_the_incoming_pod_away() -> None:
    # satisfyExistingPodsAntiAffinity: the bound pod's term selects the incoming pod.
    guard = spec(affinity=_required("podAntiAffinity", _term({"app": "w"})))
    busy = [bound("guard", "n1", guard, labels={"app": "guard"})]
    result = fit([incoming("w", spec(), labels={"app": "w"})], hosts("n1"), busy)
    assert "1 node(s) didn't satisfy existing pods anti-affinity rules" in result.short
    assert nodes_of(fit([incoming("w", spec(), labels={"app": "w"})], hosts("n1", "n2"), busy)) == [
        "n2"
    ]


def test_anti_affinity_on_the_zone_blocks_every_node_of_the_zone() -> None:
    nodes = hosts("a1", "a2", "b1", zone={"a1": "a", "a2": "a", "b1": "b"})
    web = spec(affinity=_required("podAntiAffinity", _term({"app": "w"}, ZONE)))
    busy = [bound("old", "a1", labels={"app": "w"})]
    assert nodes_of(fit([incoming("w", web, labels={"app": "w"})], nodes, busy)) == ["b1"]


def test_required_affinity_follows_the_matching_pod_into_its_zone() -> None:
    nodes = hosts("a1", "b1", "b2", zone={"a1": "a", "b1": "b", "b2": "b"})
    worker = spec(affinity=_required("podAffinity", _term({"role": "head"}, ZONE)))
    busy = [bound("head", "b2", labels={"role": "head"})]
    placed = nodes_of(fit([incoming("w", worker, labels={"role": "worker"})], nodes, busy))
    assert placed[0] in {"b1", "b2"}


def test_the_first_pod_of_a_self_affine_set_may_land() -> None:
    # satisfyPodAffinity: no pod matches anywhere and the pod matches its own terms.
    web = spec(affinity=_required("podAffinity", _term({"app": "w"})))
    shapes = [incoming(f"w{i}", web, labels={"app": "w"}) for i in range(2)]
    assert nodes_of(fit(shapes, hosts("n1", "n2"))) == ["n1", "n1"]
    stranger = incoming("x", web, labels={"app": "x"})
    assert "didn't match pod affinity rules" in fit([stranger], hosts("n1")).short


def test_the_terms_namespaces_and_namespace_selector_decide_which_pods_count() -> None:
    # AffinityTerm.Matches: the term's namespaces, those its namespaceSelector selects, or
    # (neither given) the pod's own.
    nodes = hosts("n1")
    busy = [bound("old", "n1", labels={"app": "w"}, namespace="other")]
    own_namespace = spec(affinity=_required("podAntiAffinity", _term({"app": "w"})))
    assert fit([incoming("w", own_namespace, labels={"app": "w"})], nodes, busy).fits
    listed = _term({"app": "w"}, namespaces=["other"])
    by_list = spec(affinity=_required("podAntiAffinity", listed))
    assert not fit([incoming("w", by_list)], nodes, busy).fits
    selected = _term({"app": "w"}, namespaceSelector={"matchLabels": {"team": "blue"}})
    by_selector = spec(affinity=_required("podAntiAffinity", selected))
    blue, red = {"other": {"team": "blue"}}, {"other": {"team": "red"}}
    assert not fit([incoming("w", by_selector)], nodes, busy, namespace_labels=blue).fits
    assert fit([incoming("w", by_selector)], nodes, busy, namespace_labels=red).fits


def test_preferred_affinity_draws_the_pod_to_its_peers_host() -> None:
    # scoring.go: a matching pod adds the term's weight to every node of its domain.
    preferred = {"weight": 100, "podAffinityTerm": _term({"app": "cache"})}
    web = spec(
        affinity={"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [preferred]}}
    )
    busy = [bound("cache", "n2", labels={"app": "cache"})]
    assert nodes_of(fit([incoming("w", web)], hosts("n1", "n2"), busy)) == ["n2"]
