"""Hypothesis strategies for hostile input: YAML-ish text and Kubernetes-ish nested values."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Keys the loaders and workloads look for, so generated objects reach deep into them.
KEYS = [
    "apiVersion", "kind", "metadata", "name", "namespace", "spec", "status", "template",
    "containers", "initContainers", "resources", "requests", "limits", "cpu", "memory",
    "replicas", "items", "nodeName", "phase", "conditions", "type", "reason", "message",
    "lastTransitionTime", "allocatable", "capacity", "ownerReferences", "labels",
    "volumeClaimTemplates", "volumes", "rayClusterConfig", "headGroupSpec",
    "workerGroupSpecs", "minReplicas", "maxReplicas", "numOfHosts", "resources",
    "clusters", "defaults", "git", "reserve", "cooldown", "skipCapacityRelocate",
    "allowedClusters", "preferredClusters", "strategy", "allowStateful", "taints",
    "tolerations", "nodeSelector", "affinity", "overhead", "suspend", "uid", "unschedulable",
]  # fmt: skip
KINDS = [
    "Pod", "Deployment", "StatefulSet", "ReplicaSet", "Job", "RayService", "RayCluster",
    "RayJob", "Node", "List", "PersistentVolumeClaim", "Namespace", "ConfigMap", "CronJob",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["500m", "2Gi", "-1", "1e3", "lots", "", "0", "1.5", "Unschedulable"]),
    st.sampled_from(KINDS),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8))


def nested(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    """JSON-like values whose mappings favour the keys the reconciler reads."""
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(keys, children, max_size=5),
        ),
        max_leaves=max_leaves,
    )


@st.composite
def kube_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A mapping with a kind (so it is treated as an object) and otherwise anything."""
    body = draw(st.dictionaries(keys, nested(8), max_size=4))
    body["kind"] = draw(st.one_of(st.sampled_from(KINDS), scalars))
    if draw(st.booleans()):
        body["metadata"] = draw(
            st.fixed_dictionaries(
                {"name": st.one_of(st.text(max_size=8), scalars)},
                optional={"namespace": scalars, "ownerReferences": nested(5)},
            )
        )
    return body


# Text close to YAML: its structural characters, some words, tabs, anchors and tags.
yaml_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(" \t\n-:?[]{},&*!|>'\"#%@`0123456789abcxyz.~\\")),
        st.characters(codec="utf-8"),
    ),
    max_size=120,
) | st.lists(
    st.sampled_from(
        [
            "a: 1",
            "- x",
            "  b: [1, 2]",
            "&a {x: 1}",
            "*a",
            "<<: *a",
            "!!binary aGk=",
            "!!int x",
            "2026-13-45",
            "? [k]",
            ": v",
            "---",
            "...",
            "\t",
            "kind: Pod",
            "key: &k [*k]",
            "%YAML 1.1",
            "!!set {a}",
            "!!timestamp x",
            "x: !!map [1]",
            "clusters:",
            "  - name: onprem",
            "resources: [a, a]",
            "a: 1\na: 2",
        ]
    ),
    max_size=8,
).map("\n".join)
