"""The wire schema: typed decoding skips what is not read, and one bad object costs only itself."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

import pytest

from reconciler.status.model import ClusterState
from reconciler.status.parse import cluster_state_from_items, cluster_state_from_wire
from reconciler.status.wire import Unreadable, WireError, decode_document, decode_list
from reconciler.workloads.pod_spec import shape_from_pod_spec

from .fake_apiserver import node, owner, pod, ray_object, ray_service, workload

Obj = dict[str, Any]


def list_body(items: Iterable[Obj], **metadata: str) -> bytes:
    """A list response as the API server sends it: items without kind or apiVersion."""
    stripped = [
        {k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in items
    ]
    return json.dumps({"kind": "List", "metadata": metadata, "items": stripped}).encode()


def read_as_live(objects: list[Obj]) -> ClusterState:
    """The live path: one list response per kind, decoded into wire Structs."""
    decoded = []
    for kind in dict.fromkeys(item["kind"] for item in objects):
        page, _ = decode_list(list_body(o for o in objects if o["kind"] == kind), kind=kind)
        decoded += page
    return cluster_state_from_wire(decoded, cluster="c")


def cluster_objects() -> list[Obj]:
    gpu_taint = {"key": "gpu", "value": "true", "effect": "NoSchedule"}
    return [
        node("n1", labels={"zone": "a"}),
        node("n2", gpu="4", taints=[gpu_taint], ready=False, unschedulable=True),
        pod("web-1", node_name="n1", owned_by=owner("ReplicaSet", "web"), labels={"app": "web"}),
        pod("waiting", node_name=None, cpu="3", node_selector={"zone": "b"}),
        pod("trainer", node_name="n2", gpu="1"),
        workload("ReplicaSet", "web", owned_by=owner("Deployment", "web")),
        workload("Deployment", "web"),
        workload("Job", "train"),
        ray_service("serve", active="serve-a", pending="serve-b"),
        ray_object("RayCluster", "serve-a", owned_by=owner("RayService", "serve")),
    ]


def test_the_struct_path_and_the_dict_path_build_equal_states() -> None:
    objects = cluster_objects()

    from_structs = read_as_live(objects)
    from_dicts = cluster_state_from_items(copy.deepcopy(objects), cluster="c")

    assert from_structs == from_dicts
    assert (len(from_structs.nodes), len(from_structs.pods), len(from_structs.objects)) == (2, 3, 5)
    assert from_structs.skipped == ()
    service = next(o for o in from_structs.objects if o.kind == "RayService")
    assert (service.active_cluster, service.pending_cluster) == ("serve-a", "serve-b")


def test_a_json_snapshot_decodes_like_its_dicts() -> None:
    objects = cluster_objects()
    document = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})

    decoded = cluster_state_from_wire(decode_document(document), cluster="c")

    assert decoded == cluster_state_from_items(objects, cluster="c")


def test_a_pod_with_a_wrong_type_is_skipped_while_the_others_load() -> None:
    bad = pod("bad", labels={"app": "web"})
    bad["metadata"]["labels"]["replicas"] = 3  # label values are strings
    pods = [node("node-a"), pod("ok-1"), bad, pod("ok-2")]

    live = read_as_live(pods)
    plain = cluster_state_from_items(pods, cluster="c")

    for state in (live, plain):
        assert [p.name for p in state.pods] == ["ok-1", "ok-2"]
        (reason,) = state.skipped
        assert reason.startswith("Pod team/bad: Expected `str`, got `int`"), reason
        assert "$.metadata.labels" in reason


def test_an_item_that_is_not_an_object_is_skipped() -> None:
    body = b'{"kind":"PodList","metadata":{},"items":[7,{"metadata":{"name":"p"}}]}'

    objects, token = decode_list(body, kind="Pod")

    assert token == ""
    assert isinstance(objects[0], Unreadable) and "Pod ?" in objects[0].reason
    assert cluster_state_from_wire(objects, cluster="c").pods[0].name == "p"


def test_an_object_without_a_name_is_skipped_with_a_reason() -> None:
    nameless = ray_object("RayJob", "x")
    del nameless["metadata"]["name"]

    state = cluster_state_from_items([nameless, node("n1")], cluster="c")

    assert [n.name for n in state.nodes] == ["n1"]
    assert state.skipped == ("RayJob team/?: metadata.name is missing",)


def test_unknown_fields_are_ignored_at_every_level() -> None:
    plain = [pod("p", owned_by=owner("ReplicaSet", "r")), node("n1")]
    extended = copy.deepcopy(plain)
    for item in extended:
        item["surprise"] = {"nested": [1, 2, 3]}
        item["metadata"]["futureField"] = "x"
        item["spec"]["newSpecField"] = [{"a": None}]
        item["status"]["newStatusField"] = 1.5
        item["metadata"].get("ownerReferences", [{}])[0]["extra"] = True
    extended[0]["spec"]["containers"][0]["resizePolicy"] = [{"resourceName": "cpu"}]
    extended[0]["status"]["conditions"][0]["observedGeneration"] = 4

    assert read_as_live(extended) == read_as_live(plain)
    assert cluster_state_from_items(extended, cluster="c") == read_as_live(plain)


def test_templates_that_differ_only_in_constraints_get_their_own_shapes() -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                ]
            },
            "preferredDuringSchedulingIgnoredDuringExecution": [],
        },
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []},
    }
    plain, pinned, tolerant = pod("plain"), pod("pinned"), pod("tolerant")
    pinned["spec"]["affinity"] = affinity
    tolerant["spec"]["tolerations"] = [{"key": "gpu", "operator": "Exists"}]
    objects = [plain, pinned, tolerant, pod("plain-2")]

    state = read_as_live([node("node-a"), *objects])

    for item, found in zip(objects, state.pods, strict=True):
        name = f"team/{item['metadata']['name']}"
        assert found.shape == shape_from_pod_spec(item["spec"], name=name, namespace="team")
    assert state.pods[1].shape.required_affinity != state.pods[0].shape.required_affinity
    assert state.pods[2].shape.tolerations != state.pods[0].shape.tolerations


def test_the_continue_token_is_read_from_the_list_metadata() -> None:
    objects, token = decode_list(list_body([node("n1")], **{"continue": "abc"}), kind="Node")

    assert token == "abc"
    assert [o.kind for o in objects] == ["Node"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"items":[],"metadata":{"continue":5}}', "continue is not a string"),
        (b'{"items":"nope"}', "items is not a list"),
        (b"[]", "not a list object"),
        (b'{"items":[{"metadata":', "body cut short"),
    ],
)
def test_a_body_that_is_not_a_list_is_an_error(body: bytes, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        decode_list(body, kind="Pod")
