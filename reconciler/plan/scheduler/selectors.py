"""Label selectors and node selector requirements, matched as Kubernetes' labels package does.

Follows k8s.io/apimachinery/pkg/labels/selector.go and
k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.workloads.shapes import LabelSelector, PodTerm, Requirement

NAME_FIELD = "metadata.name"  # the only field matchFields may name


def requirement_matches(requirement: Requirement, labels: Mapping[str, str]) -> bool:
    """One requirement against a label set (In, NotIn, Exists, DoesNotExist, Gt, Lt)."""
    value = labels.get(requirement.key)
    operator = requirement.operator
    if operator == "In":
        return value is not None and value in requirement.values
    if operator == "NotIn":
        return value is None or value not in requirement.values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in {"Gt", "Lt"} and value is not None and requirement.values:
        try:
            left, right = int(value), int(requirement.values[0])
        except ValueError:
            return False
        return left > right if operator == "Gt" else left < right
    return False


def node_term_matches(
    term: tuple[Requirement, ...], *, labels: Mapping[str, str], name: str
) -> bool:
    """A nodeSelectorTerm: every matchExpression on labels and matchField on the node's name.

    An empty term matches no node (nodeaffinity.go: "nil or empty term matches no objects").
    """
    if not term:
        return False
    fields = {NAME_FIELD: name}
    return all(requirement_matches(r, fields if r.on_field else labels) for r in term)


def selector_matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """A label selector: None matches nothing, an empty one everything (metav1 semantics)."""
    if selector is None:
        return False
    return all(requirement_matches(r, labels) for r in selector.requirements)


def term_namespaces_match(
    term: PodTerm,
    *,
    owner_namespace: str,
    namespace: str,
    namespace_labels: Mapping[str, Mapping[str, str]],
) -> bool:
    """Whether a pod in `namespace` is in a term's namespaces (interpodaffinity: the term's
    namespaces, plus those its namespaceSelector selects; neither set: the owner's own)."""
    if not term.namespaces and term.namespace_selector is None:
        return namespace == owner_namespace
    if namespace in term.namespaces:
        return True
    if term.namespace_selector is None:
        return False
    return selector_matches(term.namespace_selector, namespace_labels.get(namespace, {}))


def term_matches_pod(
    term: PodTerm,
    *,
    owner_namespace: str,
    namespace: str,
    labels: Mapping[str, str],
    namespace_labels: Mapping[str, Mapping[str, str]],
) -> bool:
    """Whether a pod (namespace, labels) matches a pod affinity term owned by a pod in
    `owner_namespace` (framework.AffinityTerm.Matches in pkg/scheduler/framework/types.go)."""
    return term_namespaces_match(
        term,
        owner_namespace=owner_namespace,
        namespace=namespace,
        namespace_labels=namespace_labels,
    ) and selector_matches(term.selector, labels)
