"""Read a plain group in-process, exactly as kustomize would render it, or say it cannot.

kustomize leaves a plain group's objects as they are, except its namespace transformer
(the kustomization's `namespace` replaces metadata.namespace of every namespaced object)
and plain `labels` (pairs set on every object's metadata.labels, nothing else).
Kinds where that transformer does more (RoleBinding subjects, webhook services) or where
it depends on kustomize's own list of cluster-scoped kinds, `kind: List` documents (which
kustomize unpacks) and two objects with one identity (which kustomize refuses) send the
group to kustomize. tests/fleet/test_plain_differential.py proves the rest equal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.core.problems import InputError, Problem
from reconciler.core.yaml_files import YamlMap, load_yaml_documents
from reconciler.fleet.model import Manifest
from reconciler.fleet.plain_source import Source

# Built-in API groups: their kinds are namespaced only when listed in NAMESPACED_BUILTINS.
# kustomize treats the kinds of any other group (custom resources) as namespaced.
_BUILTIN_GROUPS = frozenset({"", "apps", "batch", "autoscaling", "policy"})
NAMESPACED_BUILTINS = frozenset(
    {
        "Pod",
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "PersistentVolumeClaim",
        "Endpoints",
        "LimitRange",
        "ResourceQuota",
        "ReplicationController",
        "PodTemplate",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ControllerRevision",
        "Job",
        "CronJob",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "NetworkPolicy",
        "Role",
        "Lease",
        "EndpointSlice",
    }
)


@dataclasses.dataclass(frozen=True)
class PlainRead:
    """A plain group's manifests and problems, or `needs_render` when kustomize must do it."""

    manifests: tuple[Manifest, ...] = ()
    problems: tuple[Problem, ...] = ()
    needs_render: bool = False


def read_plain(path: Path, source: Source, *, shown: str) -> PlainRead:
    """The group's objects from its files, with the kustomization's namespace applied."""
    problems: list[Problem] = list(source.problems)
    manifests: list[Manifest] = []
    for file in source.files:
        shown_file = f"{shown}/{file}"
        try:
            documents = load_yaml_documents(path / file, shown_as=shown_file, lines=True)
        except InputError as error:
            problems.append(error.problem)
            continue
        for index, document in enumerate(documents):
            if not isinstance(document, Mapping) or "kind" not in document:
                problems.append(
                    Problem(
                        shown_file,
                        f"document {index + 1}",
                        "is not a Kubernetes object (no kind)",
                        line=document.line if isinstance(document, YamlMap) else None,
                    )
                )
                continue
            if str(document.get("kind")).endswith("List"):
                return PlainRead(needs_render=True)
            if source.namespace:
                if not _namespaced_plainly(document):
                    return PlainRead(needs_render=True)
                document = _in_namespace(document, source.namespace)
            if source.labels:
                document = _labelled(document, source.labels)
            metadata = _metadata(document)
            namespace = str(metadata.get("namespace") or "default")
            manifests.append(Manifest(file=shown_file, body=document, namespace=namespace))
    if _has_duplicates(manifests):
        return PlainRead(needs_render=True)
    return PlainRead(manifests=tuple(manifests), problems=tuple(problems))


def _metadata(document: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = document.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _api_group(document: Mapping[str, Any]) -> str:
    api_version = str(document.get("apiVersion") or "")
    return api_version.rpartition("/")[0]


def _namespaced_plainly(document: Mapping[str, Any]) -> bool:
    """Whether kustomize's namespace transformer only sets metadata.namespace on it."""
    group = _api_group(document)
    if group in _BUILTIN_GROUPS or group.endswith(".k8s.io"):
        return str(document.get("kind")) in NAMESPACED_BUILTINS
    return True


def _in_namespace(document: Mapping[str, Any], namespace: str) -> Mapping[str, Any]:
    """The object with metadata.namespace set, line numbers kept."""
    metadata = _metadata(document)
    if metadata.get("namespace") == namespace:
        return document
    new_metadata = _copy(metadata)
    new_metadata["namespace"] = namespace
    new_document = _copy(document)
    new_document["metadata"] = new_metadata
    return new_document


def _labelled(
    document: Mapping[str, Any], labels: tuple[tuple[str, str], ...]
) -> Mapping[str, Any]:
    """The object with the kustomization's labels added to metadata.labels."""
    metadata = _metadata(document)
    old = metadata.get("labels")
    new_labels = _copy(old) if isinstance(old, Mapping) else {}
    new_labels.update(labels)
    new_metadata = _copy(metadata)
    new_metadata["labels"] = new_labels
    new_document = _copy(document)
    new_document["metadata"] = new_metadata
    return new_document


def _copy(mapping: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(mapping, YamlMap):
        copied = YamlMap(mapping)
        copied.line = mapping.line
        copied.key_lines = dict(mapping.key_lines)
        return copied
    return dict(mapping)


def _has_duplicates(manifests: list[Manifest]) -> bool:
    """Two objects with one identity (group, kind, namespace, name): kustomize refuses it."""
    seen: set[tuple[str, str, str, str]] = set()
    for manifest in manifests:
        key = (_api_group(manifest.body), manifest.kind, manifest.namespace, manifest.name)
        if key in seen:
            return True
        seen.add(key)
    return False
