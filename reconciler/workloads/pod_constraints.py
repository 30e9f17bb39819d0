"""A pod spec's constraints that tie it to other pods or rank nodes, as PodShape fields.

Pod (anti-)affinity, topology spread constraints, host ports, matchFields and preferred
node affinity. Parsed leniently like the rest of the spec: entries that are not mappings
are skipped, wrong types of whole fields are a PodSpecError naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.workloads.shapes import (
    HostPort,
    LabelSelector,
    PodCoupling,
    PodTerm,
    Requirement,
    SpreadConstraint,
)


class ConstraintError(ValueError):
    """A bad constraint field; `field` is a path relative to the pod spec."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def coupling_of(spec: Mapping[str, Any]) -> PodCoupling | None:
    """The pod's coupling constraints, or None when it has none (the fast path)."""
    affinity = _mapping(spec.get("affinity"), "affinity")
    pod_affinity = _mapping(affinity.get("podAffinity"), "affinity.podAffinity")
    pod_anti = _mapping(affinity.get("podAntiAffinity"), "affinity.podAntiAffinity")
    coupling = PodCoupling(
        affinity=_terms(pod_affinity, "affinity.podAffinity", preferred=False),
        anti_affinity=_terms(pod_anti, "affinity.podAntiAffinity", preferred=False),
        preferred_affinity=_terms(pod_affinity, "affinity.podAffinity", preferred=True),
        preferred_anti_affinity=_terms(pod_anti, "affinity.podAntiAffinity", preferred=True),
        spread=tuple(
            _spread(item, f"topologySpreadConstraints[{index}]")
            for index, item in _entries(
                spec.get("topologySpreadConstraints"), "topologySpreadConstraints"
            )
        ),
        host_ports=host_ports_of(spec),
    )
    return None if coupling == PodCoupling() else coupling


def host_ports_of(spec: Mapping[str, Any]) -> tuple[HostPort, ...]:
    """The hostPorts of the containers and restartable init containers (NodePorts reads these)."""
    found = []
    containers = [*_entries(spec.get("containers"), "containers")]
    sidecars = [
        (index, c)
        for index, c in _entries(spec.get("initContainers"), "initContainers")
        if c.get("restartPolicy") == "Always"
    ]
    for _, container in containers + sidecars:
        for _, port in _entries(container.get("ports"), "ports"):
            host_port = port.get("hostPort")
            if isinstance(host_port, int) and not isinstance(host_port, bool) and host_port > 0:
                found.append(
                    HostPort(
                        port=host_port,
                        protocol=str(port.get("protocol") or "TCP"),
                        ip=str(port.get("hostIP") or ""),
                    )
                )
    return tuple(found)


def node_terms_of(raw: object, field: str) -> tuple[tuple[Requirement, ...], ...]:
    """nodeSelectorTerms: each term's matchExpressions, then matchFields (empty stays empty)."""
    terms = []
    for index, term in _entries(raw, field):
        where = f"{field}[{index}]"
        expressions = _requirements(term.get("matchExpressions"), f"{where}.matchExpressions")
        fields = tuple(
            Requirement(key=r.key, operator=r.operator, values=r.values, on_field=True)
            for r in _requirements(term.get("matchFields"), f"{where}.matchFields")
        )
        terms.append(expressions + fields)
    return tuple(terms)


def preferred_node_affinity_of(
    spec: Mapping[str, Any],
) -> tuple[tuple[int, tuple[Requirement, ...]], ...]:
    """preferredDuringScheduling node affinity: (weight, requirements) per term."""
    affinity = _mapping(spec.get("affinity"), "affinity")
    node_affinity = _mapping(affinity.get("nodeAffinity"), "affinity.nodeAffinity")
    field = "affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"
    preferred = []
    for index, item in _entries(
        node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution"), field
    ):
        weight = _int(item.get("weight"), f"{field}[{index}].weight", default=0)
        terms = node_terms_of([item.get("preference") or {}], f"{field}[{index}].preference")
        if weight and terms:
            preferred.append((weight, terms[0]))
    return tuple(preferred)


def selector_of(raw: object, field: str) -> LabelSelector | None:
    """A LabelSelector (matchLabels, matchExpressions); None stays None (matches nothing)."""
    if raw is None:
        return None
    selector = _mapping(raw, field)
    labels = _mapping(selector.get("matchLabels"), f"{field}.matchLabels")
    requirements = tuple(
        Requirement(key=str(key), operator="In", values=(str(value),))
        for key, value in labels.items()
    )
    return LabelSelector(
        requirements + _requirements(selector.get("matchExpressions"), f"{field}.matchExpressions")
    )


def _terms(raw: Mapping[str, Any], field: str, *, preferred: bool) -> tuple[PodTerm, ...]:
    key = "preferred" if preferred else "required"
    key += "DuringSchedulingIgnoredDuringExecution"
    terms = []
    for index, item in _entries(raw.get(key), f"{field}.{key}"):
        where = f"{field}.{key}[{index}]"
        weight = 0
        if preferred:
            weight = _int(item.get("weight"), f"{where}.weight", default=0)
            where += ".podAffinityTerm"
            item = _mapping(item.get("podAffinityTerm"), where)
        namespaces = item.get("namespaces") or []
        if not isinstance(namespaces, list):
            raise ConstraintError(f"{where}.namespaces", "must be a list")
        terms.append(
            PodTerm(
                topology_key=str(item.get("topologyKey") or ""),
                selector=selector_of(item.get("labelSelector"), f"{where}.labelSelector"),
                namespaces=tuple(str(n) for n in namespaces),
                namespace_selector=selector_of(
                    item.get("namespaceSelector"), f"{where}.namespaceSelector"
                ),
                weight=weight,
            )
        )
    return tuple(terms)


def _spread(item: Mapping[str, Any], field: str) -> SpreadConstraint:
    keys = item.get("matchLabelKeys") or []
    if not isinstance(keys, list):
        raise ConstraintError(f"{field}.matchLabelKeys", "must be a list")
    min_domains = item.get("minDomains")
    return SpreadConstraint(
        max_skew=_int(item.get("maxSkew"), f"{field}.maxSkew", default=1),
        topology_key=str(item.get("topologyKey") or ""),
        when_unsatisfiable=str(item.get("whenUnsatisfiable") or "DoNotSchedule"),
        selector=selector_of(item.get("labelSelector"), f"{field}.labelSelector"),
        min_domains=_int(min_domains, f"{field}.minDomains", default=1),
        node_affinity_policy=str(item.get("nodeAffinityPolicy") or "Honor"),
        node_taints_policy=str(item.get("nodeTaintsPolicy") or "Ignore"),
        match_label_keys=tuple(str(k) for k in keys),
    )


def _requirements(raw: object, field: str) -> tuple[Requirement, ...]:
    return tuple(
        Requirement(
            key=str(expr.get("key") or ""),
            operator=str(expr.get("operator") or "In"),
            values=tuple(str(v) for v in (expr.get("values") or ())),
        )
        for _, expr in _entries(raw, field)
    )


def _entries(raw: object, field: str) -> Iterable[tuple[int, Mapping[str, Any]]]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConstraintError(field, "must be a list")
    return [(index, item) for index, item in enumerate(raw) if isinstance(item, Mapping)]


def _mapping(raw: object, field: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConstraintError(field, "must be a mapping")
    return raw


def _int(raw: object, field: str, *, default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ConstraintError(field, f"must be an integer, not {raw!r}")
    return raw
