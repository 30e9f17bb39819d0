"""PodTopologySpread (plugins/podtopologyspread/filtering.go and scoring.go)."""

from __future__ import annotations

from typing import Any

from tests.plan.scheduler.kit import HOST, ZONE, bound, fit, hosts, incoming, nodes_of, spec


def _spread(key: str = ZONE, skew: int = 1, **more: Any) -> dict[str, Any]:
    return {
        "maxSkew": skew,
        "topologyKey": key,
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "w"}},
        **more,
    }


ZONES = {"a1": "a", "a2": "a", "b1": "b"}


def test_replicas_alternate_between_zones_within_the_max_skew() -> None:
    web = spec(topologySpreadConstraints=[_spread()])
    shapes = [incoming(f"w{i}", web, labels={"app": "w"}) for i in range(4)]
    placed = nodes_of(fit(shapes, hosts("a1", "a2", "b1", zone=ZONES)))
    zones = [ZONES[name] for name in placed]
    assert zones.count("a") == 2 and zones.count("b") == 2


def test_a_full_zone_stops_the_spread_where_plain_pods_would_fit() -> None:
    nodes = hosts("a1", "a2", "b1", zone=ZONES)
    nodes[2] = hosts("b1", zone=ZONES, cpu="500m")[0]  # room for no replica in zone b
    web = spec(topologySpreadConstraints=[_spread()])
    shapes = [incoming(f"w{i}", web, labels={"app": "w"}) for i in range(2)]
    result = fit(shapes, nodes)
    assert not result.fits
    assert result.short.endswith(
        "0/3 nodes are available: 1 Insufficient cpu, "
        "2 node(s) didn't match pod topology spread constraints."
    )
    assert fit([incoming(f"p{i}", spec()) for i in range(2)], nodes).fits


def test_min_domains_counts_missing_domains_as_empty() -> None:
    # Newer than 1.20: with fewer domains than minDomains the global minimum is 0. One host
    # alone is always balanced; with minDomains 2 it takes one replica.
    plain = spec(topologySpreadConstraints=[_spread(HOST)])
    shapes = [incoming(f"w{i}", plain, labels={"app": "w"}) for i in range(3)]
    assert fit(shapes, hosts("n1")).fits
    two = spec(topologySpreadConstraints=[_spread(HOST, minDomains=2)])
    shapes = [incoming(f"w{i}", two, labels={"app": "w"}) for i in range(2)]
    assert not fit(shapes, hosts("n1")).fits
    assert fit(shapes, hosts("n1", "n2")).fits


def test_node_affinity_policy_honor_leaves_unselected_nodes_out_of_the_domains() -> None:
    # The default nodeAffinityPolicy: Honor. Zone b is not selectable, so it is no domain.
    nodes = hosts("a1", "a2", "b1", zone=ZONES)
    web = spec(topologySpreadConstraints=[_spread()], nodeSelector={ZONE: "a"})
    shapes = [incoming(f"w{i}", web, labels={"app": "w"}) for i in range(2)]
    assert fit(shapes, nodes).fits
    ignored = spec(
        topologySpreadConstraints=[_spread(nodeAffinityPolicy="Ignore")], nodeSelector={ZONE: "a"}
    )
    shapes = [incoming(f"w{i}", ignored, labels={"app": "w"}) for i in range(2)]
    assert not fit(shapes, nodes).fits


def test_match_label_keys_narrow_the_selector_to_the_pods_own_values() -> None:
    # Newer than 1.20: matchLabelKeys add "key in (the pod's value)" to the selector, so
    # the old revision's pods on n1 no longer count against the new one.
    nodes = hosts("n1", "n2")
    nodes[1] = hosts("n2", cpu="500m")[0]
    busy = [bound(f"old{i}", "n1", labels={"app": "w", "rev": "1"}) for i in range(3)]
    labels = {"app": "w", "rev": "2"}
    keyed = spec(topologySpreadConstraints=[_spread(HOST, matchLabelKeys=["rev"])])
    assert fit([incoming("w", keyed, labels=labels)], nodes, busy).fits
    plain = spec(topologySpreadConstraints=[_spread(HOST)])
    assert not fit([incoming("w", plain, labels=labels)], nodes, busy).fits


def test_a_node_without_the_topology_label_is_refused_with_the_schedulers_words() -> None:
    web = spec(topologySpreadConstraints=[_spread()])
    result = fit([incoming("w", web, labels={"app": "w"})], hosts("n1"))
    assert "1 node(s) didn't match pod topology spread constraints (missing required label)" in (
        result.short
    )


def test_schedule_anyway_only_scores_and_default_spreading_separates_replicas() -> None:
    # The system defaults (hostname maxSkew 3, zone maxSkew 5) score with the selector of
    # the pod's controller: the replica avoids the host that already runs two of its kind.
    from reconciler.workloads.shapes import LabelSelector, Requirement

    selector = LabelSelector((Requirement("app", "In", ("w",)),))
    replica = incoming("w", spec(), labels={"app": "w"})
    import dataclasses

    spread = dataclasses.replace(replica, default_spread=selector)
    busy = [
        bound(f"old{i}", "n1", spec(cpu="100m", memory="128Mi"), labels={"app": "w"})
        for i in range(2)
    ]
    nodes = hosts("n1", "n2")
    nodes[1] = hosts("n2", cpu="7")[0]  # a little less room: LeastAllocated alone prefers n1
    assert nodes_of(fit([replica], nodes, busy)) == ["n1"]
    assert nodes_of(fit([spread], nodes, busy)) == ["n2"]
