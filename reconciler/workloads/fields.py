"""Typed reads of manifest fields that fail with a WorkloadError naming the field's full path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.workloads.demand import WorkloadError
from reconciler.workloads.pod_constraints import ConstraintError, selector_of
from reconciler.workloads.pod_spec import PodSpecError, shape_from_pod_spec
from reconciler.workloads.shapes import LabelSelector, PodShape

_EMPTY: Mapping[str, Any] = {}


def join(path: str, key: str) -> str:
    """The dotted path of `key` under `path` ("spec" + "replicas" → "spec.replicas")."""
    return f"{path}.{key}" if path else key


def mapping_at(
    parent: Mapping[str, Any], key: str, *, path: str, required: bool = False
) -> Mapping[str, Any]:
    """parent[key] as a mapping; an absent or null value is empty unless required."""
    value = parent.get(key)
    if value is None:
        if required:
            raise WorkloadError(join(path, key), "is required")
        return _EMPTY
    if not isinstance(value, Mapping):
        raise WorkloadError(join(path, key), f"must be a mapping, not {_kind_of(value)}")
    return value


def list_at(parent: Mapping[str, Any], key: str, *, path: str) -> list[Mapping[str, Any]]:
    """parent[key] as a list of mappings; an absent or null value is an empty list."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WorkloadError(join(path, key), f"must be a list, not {_kind_of(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise WorkloadError(f"{join(path, key)}[{index}]", "must be a mapping")
    return value


def count_at(parent: Mapping[str, Any], key: str, *, path: str, default: int) -> int:
    """parent[key] as a non-negative integer (replicas, parallelism...); absent → default."""
    value = parent.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise WorkloadError(join(path, key), f"must be an integer, not {value!r}")
    if value < 0:
        raise WorkloadError(join(path, key), f"must not be negative, got {value}")
    return value


def flag_at(parent: Mapping[str, Any], key: str, *, path: str) -> bool:
    """parent[key] as a boolean (suspend, enableInTreeAutoscaling); absent → False."""
    value = parent.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise WorkloadError(join(path, key), f"must be true or false, not {value!r}")
    return value


def text_at(parent: Mapping[str, Any], key: str, *, path: str, default: str | None = None) -> str:
    """parent[key] as a non-empty string; absent → default, or an error when default is None."""
    value = parent.get(key)
    if value is None or value == "":
        if default is None:
            raise WorkloadError(join(path, key), "is required")
        return default
    if not isinstance(value, str):
        raise WorkloadError(join(path, key), f"must be a string, not {value!r}")
    return value


def template_spec_at(parent: Mapping[str, Any], *, path: str) -> tuple[Mapping[str, Any], str]:
    """The pod spec of parent's `template`, and its path ("<path>.template.spec")."""
    template = mapping_at(parent, "template", path=path, required=True)
    template_path = join(path, "template")
    return mapping_at(template, "spec", path=template_path, required=True), join(
        template_path, "spec"
    )


def pod_shape(
    spec: Mapping[str, Any],
    *,
    path: str,
    name: str,
    extra_containers: Sequence[Mapping[str, Any]] = (),
    extra_init_containers: Sequence[Mapping[str, Any]] = (),
    namespace: str = "",
    labels: Mapping[str, str] | None = None,
    default_spread: LabelSelector | None = None,
) -> PodShape:
    """shape_from_pod_spec, with its errors re-raised at their full path in the manifest."""
    try:
        return shape_from_pod_spec(
            spec,
            name=name,
            extra_containers=extra_containers,
            extra_init_containers=extra_init_containers,
            namespace=namespace,
            labels=labels,
            default_spread=default_spread,
        )
    except PodSpecError as error:
        raise WorkloadError(join(path, error.field), error.message) from None


def numbered(shape: PodShape, *, prefix: str, count: int) -> tuple[PodShape, ...]:
    """`count` copies of a shape named "<prefix> 1" to "<prefix> <count>", in creation order."""
    return tuple(shape.renamed(f"{prefix} {index}") for index in range(1, count + 1))


def claims_volumes(spec: Mapping[str, Any], *, path: str) -> bool:
    """Whether a pod spec mounts a PersistentVolumeClaim (data that stays behind on a move)."""
    volumes = list_at(spec, "volumes", path=path)
    return any(volume.get("persistentVolumeClaim") is not None for volume in volumes)


def _kind_of(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return type(value).__name__


def template_labels_at(parent: Mapping[str, Any], *, path: str) -> dict[str, str]:
    """The labels of parent's pod `template` (what its pods carry), as strings."""
    template = mapping_at(parent, "template", path=path)
    metadata = mapping_at(template, "metadata", path=join(path, "template"))
    labels = mapping_at(metadata, "labels", path=join(path, "template.metadata"))
    return {str(key): str(value) for key, value in labels.items()}


def selector_at(parent: Mapping[str, Any], key: str, *, path: str) -> LabelSelector | None:
    """parent[key] as a label selector (a controller's spec.selector); absent → None."""
    try:
        return selector_of(parent.get(key), join(path, key))
    except ConstraintError as error:
        raise WorkloadError(error.field, error.message) from None
