"""The effective-request rule for one pod spec, shared by demand (manifests) and usage (pods)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.core.quantity import QuantityError, to_milli
from reconciler.workloads.pod_constraints import (
    ConstraintError,
    coupling_of,
    node_terms_of,
    preferred_node_affinity_of,
)
from reconciler.workloads.shapes import LabelSelector, PodShape, Requirement, Toleration


class PodSpecError(QuantityError):
    """A bad value in a pod spec, located by `field`, a path relative to the pod spec.

    A QuantityError, so callers that catch QuantityError keep working; str() reads
    "<field>: <message>", e.g. "containers[0].resources.requests.cpu: 'abc' is not a quantity".
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def within(self, prefix: str) -> PodSpecError:
        """The same error with its field moved under `prefix` (a container, a list entry)."""
        return PodSpecError(_join(prefix, self.field), self.message)


def container_requests(container: Mapping[str, Any]) -> dict[str, int]:
    """A container's requests, with limits standing in for requests that are not set.

    Raises PodSpecError with a field such as "resources.requests.cpu".
    """
    resources = container.get("resources") or {}
    if not isinstance(resources, Mapping):
        raise PodSpecError("resources", "must be a mapping")
    limits = _amounts(resources.get("limits"), "resources.limits")
    requests = _amounts(resources.get("requests"), "resources.requests")
    return {**limits, **requests}


def effective_requests(
    spec: Mapping[str, Any],
    *,
    extra_containers: Sequence[Mapping[str, Any]] = (),
    extra_init_containers: Sequence[Mapping[str, Any]] = (),
) -> dict[str, int]:
    """Requests kube-scheduler charges for a pod spec, per resource, in milli-units.

    The larger of (the sum of the regular containers plus every restartable init
    "sidecar") and (each regular init container plus the sidecars started before it),
    plus the pod overhead. `extra_*` are containers an operator injects (KubeRay).
    """
    containers = _located(spec.get("containers"), "containers") + _extras(
        extra_containers, "(injected containers)"
    )
    # Operators append what they inject (KubeRay's wait-gcs-ready runs after the user's
    # init containers), so injected init containers see every sidecar started before them.
    inits = _located(spec.get("initContainers"), "initContainers") + _extras(
        extra_init_containers, "(injected initContainers)"
    )
    running: dict[str, int] = {}
    for field, container in containers:
        _add(running, _requests_at(container, field))
    sidecars: dict[str, int] = {}
    peak_init: dict[str, int] = {}
    for field, init in inits:
        wanted = _requests_at(init, field)
        if init.get("restartPolicy") == "Always":
            _add(sidecars, wanted)
            _max(peak_init, sidecars)
            continue
        _max(peak_init, _sum(sidecars, wanted))
    total = _sum(running, sidecars)
    _max(total, peak_init)
    _add(total, _amounts(spec.get("overhead"), "overhead"))
    return {name: amount for name, amount in total.items() if amount}


def shape_from_pod_spec(
    spec: Mapping[str, Any],
    *,
    name: str,
    extra_containers: Sequence[Mapping[str, Any]] = (),
    extra_init_containers: Sequence[Mapping[str, Any]] = (),
    namespace: str = "",
    labels: Mapping[str, str] | None = None,
    default_spread: LabelSelector | None = None,
) -> PodShape:
    """Build the PodShape of a pod spec; raise PodSpecError (a QuantityError) for bad input.

    `namespace` and `labels` are the pod's as it will be created; `default_spread` the
    selector of its controller (see PodShape).
    """
    node_selector = spec.get("nodeSelector") or {}
    if not isinstance(node_selector, Mapping):
        raise PodSpecError("nodeSelector", "must be a mapping")
    try:
        coupling = coupling_of(spec)
        preferred = preferred_node_affinity_of(spec)
        required = required_affinity_of(spec.get("affinity"))
    except ConstraintError as error:
        raise PodSpecError(error.field, error.message) from None
    runtime_class = spec.get("runtimeClassName")
    return PodShape(
        name=name,
        requests=effective_requests(
            spec,
            extra_containers=extra_containers,
            extra_init_containers=extra_init_containers,
        ),
        tolerations=tolerations_of(spec.get("tolerations")),
        node_selector={str(k): str(v) for k, v in node_selector.items()},
        required_affinity=required,
        namespace=namespace,
        labels=dict(labels or {}),
        coupling=coupling,
        preferred_node_affinity=preferred,
        default_spread=default_spread,
        # The RuntimeClass admission sets the overhead only where the spec has none.
        runtime_class=str(runtime_class) if runtime_class and spec.get("overhead") is None else "",
    )


def tolerations_of(raw: object) -> tuple[Toleration, ...]:
    """Parse a pod's tolerations list, skipping entries that are not mappings."""
    return tuple(
        Toleration(
            key=str(item.get("key") or ""),
            operator=str(item.get("operator") or "Equal"),
            value=str(item.get("value") or ""),
            effect=str(item.get("effect") or ""),
        )
        for item in _mappings(raw, "tolerations")
    )


def required_affinity_of(raw: object) -> tuple[tuple[Requirement, ...], ...]:
    """The requiredDuringSchedulingIgnoredDuringExecution node selector terms of an affinity."""
    if not isinstance(raw, Mapping):
        return ()
    node_affinity = raw.get("nodeAffinity") or {}
    if not isinstance(node_affinity, Mapping):
        return ()
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    if not isinstance(required, Mapping):
        return ()
    field = "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    return node_terms_of(required.get("nodeSelectorTerms"), f"{field}.nodeSelectorTerms")


def _mappings(raw: object, field: str) -> Iterable[Mapping[str, Any]]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PodSpecError(field, "must be a list")
    return [item for item in raw if isinstance(item, Mapping)]


def _located(raw: object, field: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The containers of a list with their paths; unlike _mappings, a non-mapping is an error."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PodSpecError(field, "must be a list")
    located = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise PodSpecError(f"{field}[{index}]", "must be a mapping (a container)")
        located.append((f"{field}[{index}]", item))
    return located


def _extras(
    containers: Sequence[Mapping[str, Any]], field: str
) -> list[tuple[str, Mapping[str, Any]]]:
    return [(f"{field}[{index}]", item) for index, item in enumerate(containers)]


def _requests_at(container: Mapping[str, Any], field: str) -> dict[str, int]:
    try:
        return container_requests(container)
    except PodSpecError as error:
        raise error.within(field) from None


def _amounts(raw: object, field: str) -> dict[str, int]:
    """Parse a `{resource: quantity}` mapping into milli-units, refusing negative amounts."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise PodSpecError(field, "must be a mapping of resource names to quantities")
    parsed: dict[str, int] = {}
    for name, value in raw.items():
        where = _join(field, str(name))
        try:
            amount = to_milli(value)
        except QuantityError as error:
            raise PodSpecError(where, str(error)) from None
        if amount < 0:
            raise PodSpecError(where, f"{value!r} is negative")
        parsed[str(name)] = amount
    return parsed


def _join(prefix: str, field: str) -> str:
    if not prefix:
        return field
    if not field:
        return prefix
    return f"{prefix}.{field}"


def _add(total: dict[str, int], more: Mapping[str, int]) -> None:
    for name, amount in more.items():
        total[name] = total.get(name, 0) + amount


def _sum(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    total = dict(a)
    _add(total, b)
    return total


def _max(total: dict[str, int], other: Mapping[str, int]) -> None:
    for name, amount in other.items():
        if amount > total.get(name, 0):
            total[name] = amount
