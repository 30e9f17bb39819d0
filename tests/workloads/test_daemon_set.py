"""A DaemonSet: the pod it runs on each node, with what its controller adds; no count."""

from __future__ import annotations

from reconciler.workloads.registry import demand_of
from reconciler.workloads.shapes import Toleration

from .builders import GI, claim_volume, deployment, pod_spec


def daemon_set(**spec: object) -> dict[str, object]:
    return deployment("agent", namespace="ops", kind="DaemonSet", **spec)  # type: ignore[arg-type]


def test_a_daemon_set_has_one_pod_per_node_not_a_count() -> None:
    found = demand_of(daemon_set(cpu="250m", memory="1Gi"), default_namespace="team")

    assert found is not None and found.shapes == ()
    shape = found.per_node
    assert shape is not None
    assert (shape.name, shape.requests, shape.node_name) == (
        "ops/agent on",
        {"cpu": 250, "memory": GI},
        "",
    )


def test_its_pod_tolerates_what_the_daemon_set_controller_adds() -> None:
    found = demand_of(daemon_set(node_selector={"role": "edge"}), default_namespace="team")

    assert found is not None and found.per_node is not None
    added = {(t.key.rpartition("/")[2], t.operator, t.effect) for t in found.per_node.tolerations}
    assert added == {
        ("not-ready", "Exists", "NoExecute"),
        ("unreachable", "Exists", "NoExecute"),
        ("disk-pressure", "Exists", "NoSchedule"),
        ("memory-pressure", "Exists", "NoSchedule"),
        ("pid-pressure", "Exists", "NoSchedule"),
        ("unschedulable", "Exists", "NoSchedule"),
    }
    assert dict(found.per_node.node_selector) == {"role": "edge"}


def test_a_host_network_pod_also_tolerates_a_node_without_network() -> None:
    spec = {**pod_spec(), "hostNetwork": True}
    found = demand_of(
        deployment("agent", kind="DaemonSet", template_spec=spec), default_namespace="team"
    )

    assert found is not None and found.per_node is not None
    unavailable = Toleration("node.kubernetes.io/network-unavailable", "Exists", "", "NoSchedule")
    assert unavailable in found.per_node.tolerations


def test_a_daemon_set_with_a_claim_holds_data() -> None:
    found = demand_of(daemon_set(volumes=[claim_volume()]), default_namespace="team")

    assert found is not None and found.stateful
