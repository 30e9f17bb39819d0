"""The wire schema: the fields of Kubernetes objects the planner reads, as msgspec Structs.

Decoding JSON straight into these Structs skips every other field (env, probes,
managedFields, container statuses...) without building it, which is what makes reading a
large list cheap. Every field is optional, unknown fields are ignored, and attribute names
are the JSON's camelCase. A value of the wrong type fails only the object that holds it:
that object becomes an `Unreadable` carrying why, and the others still load.

Quantities stay raw (str, int or float); reconciler.core.quantity parses them. Timestamps are
decoded here (RFC 3339, as the API server writes them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

import msgspec

from reconciler.core.errors import ClusterReadError

OWNER_KINDS = frozenset({"ReplicaSet", "Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"})
RAY_KINDS = frozenset({"RayService", "RayCluster", "RayJob"})
SCALER_KINDS = frozenset({"HorizontalPodAutoscaler"})
# The GitOps engines' marks on what they apply (see plan/membership.py).
ARGOCD_TRACKING_ID = "argocd.argoproj.io/tracking-id"
# Read for the scheduler simulation: namespaces' labels (namespaceSelector), overheads.
SCHEDULING_KINDS = frozenset({"Namespace", "RuntimeClass"})

Quantity = str | int | float
Amounts = dict[str, Quantity]
Timestamp = dt.datetime | None  # naive when the text has no offset; parse.py makes it UTC


class Wire(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    """Base of the wire Structs; decoded JSON holds no cycles, so the collector skips them."""


class OwnerReference(Wire):
    kind: str | None = None
    name: str | None = None
    uid: str | None = None
    controller: bool | None = None


class Annotations(Wire):
    """Only Argo CD's tracking id: annotations can be large (last-applied-configuration)."""

    tracking_id: str | None = msgspec.field(default=None, name=ARGOCD_TRACKING_ID)


class ObjectMeta(Wire):
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    labels: dict[str, str] | None = None
    annotations: Annotations | None = None
    ownerReferences: list[OwnerReference] | None = None
    creationTimestamp: Timestamp = None


class Condition(Wire):
    type: str | None = None
    status: str | None = None
    reason: str | None = None
    message: str | None = None
    lastTransitionTime: Timestamp = None


class Taint(Wire):
    key: str | None = None
    value: str | None = None
    effect: str | None = None


class NodeSpec(Wire):
    taints: list[Taint] | None = None
    unschedulable: bool | None = None


class NodeStatus(Wire):
    allocatable: Amounts | None = None
    capacity: Amounts | None = None
    conditions: list[Condition] | None = None


class Node(Wire):
    """A Node: labels, taints, allocatable resources and readiness."""

    kind: str | None = None
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)


class ResourceRequirements(Wire):
    requests: Amounts | None = None
    limits: Amounts | None = None


class ContainerPort(Wire):
    containerPort: int | None = None
    hostPort: int | None = None
    hostIP: str | None = None
    protocol: str | None = None


class Container(Wire):
    name: str | None = None
    resources: ResourceRequirements | None = None
    restartPolicy: str | None = None
    ports: list[ContainerPort] | None = None  # NodePorts reads the hostPorts


class Toleration(Wire):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None


class NodeSelectorRequirement(Wire):
    key: str | None = None
    operator: str | None = None
    values: list[str] | None = None


class NodeSelectorTerm(Wire):
    matchExpressions: list[NodeSelectorRequirement] | None = None
    matchFields: list[NodeSelectorRequirement] | None = None


class NodeSelector(Wire):
    nodeSelectorTerms: list[NodeSelectorTerm] | None = None


class NodeAffinity(Wire):
    requiredDuringSchedulingIgnoredDuringExecution: NodeSelector | None = None


class LabelSelector(Wire):
    matchLabels: dict[str, str] | None = None
    matchExpressions: list[NodeSelectorRequirement] | None = None


class PodAffinityTerm(Wire):
    labelSelector: LabelSelector | None = None
    namespaces: list[str] | None = None
    namespaceSelector: LabelSelector | None = None
    topologyKey: str | None = None


class WeightedPodAffinityTerm(Wire):
    weight: int | None = None
    podAffinityTerm: PodAffinityTerm | None = None


class PodAffinity(Wire):
    requiredDuringSchedulingIgnoredDuringExecution: list[PodAffinityTerm] | None = None
    preferredDuringSchedulingIgnoredDuringExecution: list[WeightedPodAffinityTerm] | None = None


class Affinity(Wire):
    """Required node affinity, and pod (anti-)affinity: a bound pod's terms act on the pods
    scheduled after it (its anti-affinity keeps them away, its preferences draw them)."""

    nodeAffinity: NodeAffinity | None = None
    podAffinity: PodAffinity | None = None
    podAntiAffinity: PodAffinity | None = None


class PodSpec(Wire):
    nodeName: str | None = None
    containers: list[Container] | None = None
    initContainers: list[Container] | None = None
    overhead: Amounts | None = None
    nodeSelector: dict[str, str] | None = None
    tolerations: list[Toleration] | None = None
    affinity: Affinity | None = None


class PodStatus(Wire):
    phase: str | None = None
    conditions: list[Condition] | None = None


class Pod(Wire):
    """A Pod: where it is bound, its state, its owners and what its spec requests."""

    kind: str | None = None
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)


class ServiceStatus(Wire):
    rayClusterName: str | None = None


class ObjectStatus(Wire):
    conditions: list[Condition] | None = None
    activeServiceStatus: ServiceStatus | None = None
    pendingServiceStatus: ServiceStatus | None = None
    state: str | None = None  # RayCluster: ready | failed | suspended
    desiredWorkerReplicas: int | None = None  # RayCluster: worker pods the autoscaler wants


class Overhead(Wire):
    podFixed: Amounts | None = None


class Object(Wire):
    """An owner (ReplicaSet, Job, ...), a KubeRay object, a Namespace (its labels) or a
    RuntimeClass (its overhead): identity, owners and conditions."""

    kind: str | None = None
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    status: ObjectStatus = msgspec.field(default_factory=ObjectStatus)
    overhead: Overhead | None = None  # RuntimeClass


class DeploymentSpec(Wire):
    replicas: int | None = None


class Deployment(Object):
    """A Deployment: an owner, and its spec.replicas (what an HPA set it to)."""

    spec: DeploymentSpec = msgspec.field(default_factory=DeploymentSpec)


class ScaleTarget(Wire):
    kind: str | None = None
    name: str | None = None


class AutoscalerSpec(Wire):
    scaleTargetRef: ScaleTarget | None = None
    minReplicas: int | None = None


class HorizontalPodAutoscaler(Object):
    """An autoscaling/v2 HorizontalPodAutoscaler: what it scales and its minReplicas."""

    spec: AutoscalerSpec = msgspec.field(default_factory=AutoscalerSpec)


class Unreadable(Wire):
    """An object that could not be decoded, with the line `ClusterState.skipped` shows for it."""

    reason: str


WireObject = Node | Pod | Object | Unreadable
T = TypeVar("T")


class ListMeta(Wire):
    continue_: str | None = msgspec.field(default=None, name="continue")  # a Python keyword


class ServerVersion(Wire):
    major: str | None = None
    minor: str | None = None


class ObjectList(Wire, Generic[T]):
    """A list response (`PodList`, ...) or a `kind: List` snapshot document."""

    kind: Any = None
    items: list[T] | None = None
    metadata: ListMeta | None = None
    # Snapshots written by `snapshot` keep the server's /version here.
    serverVersion: ServerVersion | None = None


class WireError(ClusterReadError):
    """A list body that is not a list of objects; str() is a short reason."""


def wire_type(kind: object) -> type[Node | Pod | Object] | None:
    """The Struct that holds objects of this kind; None for kinds the planner does not read."""
    if not isinstance(kind, str):
        return None
    if kind == "Pod":
        return Pod
    if kind == "Node":
        return Node
    if kind == "Deployment":
        return Deployment
    if kind in SCALER_KINDS:
        return HorizontalPodAutoscaler
    if kind in OWNER_KINDS or kind in RAY_KINDS or kind in SCHEDULING_KINDS:
        return Object
    return None


_KINDS: tuple[type[Node | Pod | Object], ...] = (
    Node,
    Pod,
    Object,
    Deployment,
    HorizontalPodAutoscaler,
)
_TYPED: dict[type, msgspec.json.Decoder[ObjectList[Any]]] = {
    cls: msgspec.json.Decoder(ObjectList[cls])  # type: ignore[valid-type]
    for cls in _KINDS
}
_ITEM: dict[type, msgspec.json.Decoder[Node | Pod | Object]] = {
    cls: msgspec.json.Decoder(cls) for cls in _KINDS
}
_RAW = msgspec.json.Decoder(ObjectList[msgspec.Raw])
_DICTS = msgspec.json.Decoder(ObjectList[Any])


class _Kind(Wire):
    kind: Any = None


_KIND = msgspec.json.Decoder(_Kind)


def decode_list(body: bytes, *, kind: str) -> tuple[list[WireObject], str]:
    """A list response of one kind → its objects (kind set) and the continue token.

    The whole page is decoded in one pass; only when an item is unreadable is the page
    decoded again item by item, so that one bad object costs only itself.
    """
    cls = wire_type(kind)
    if cls is None:
        raise ValueError(f"{kind} is not a kind the planner reads")
    try:
        page = _TYPED[cls].decode(body)
    except msgspec.ValidationError:
        objects, token = _decode_item_by_item(body, cls=cls, kind=kind)
    except msgspec.DecodeError:
        raise WireError(_syntax_reason(body)) from None
    else:
        objects, token = list(page.items or ()), _token(page)
    for item in objects:
        if not isinstance(item, Unreadable):
            item.kind = kind  # items of a list response carry no kind
    return objects, token


def decode_dict_list(body: bytes) -> tuple[list[Any], str]:
    """A list response → its items as plain JSON values (complete objects) and the token."""
    try:
        page = _DICTS.decode(body)
    except msgspec.ValidationError:
        raise WireError(_envelope_reason(body)) from None
    except msgspec.DecodeError:
        raise WireError(_syntax_reason(body)) from None
    return list(page.items or ()), _token(page)


def decode_document(text: str | bytes) -> list[WireObject]:
    """A JSON snapshot (a `kind: List` document or one object) → the objects the planner reads."""
    return decode_snapshot(text)[0]


def decode_snapshot(text: str | bytes) -> tuple[list[WireObject], str]:
    """decode_document, and the minor field of the document's serverVersion ('' if absent)."""
    try:
        document = _RAW.decode(text)
    except msgspec.ValidationError:
        raise WireError(_envelope_reason(text, document=True)) from None
    except msgspec.DecodeError as error:
        raise WireError(f"invalid JSON: {error}") from None
    if document.kind is None:
        raise WireError("not a kind: List document")
    if document.kind != "List":
        raws: Iterable[msgspec.Raw] = [msgspec.Raw(text)]  # one object on its own
    elif document.items is None:
        raise WireError("items is not a list")
    else:
        raws = document.items
    objects: list[WireObject] = []
    for raw in raws:
        guessed = _decode_kind_first(raw) if isinstance(text, bytes) else None
        if guessed is not None:
            objects.append(guessed)
            continue
        try:
            kind = _KIND.decode(raw).kind
        except msgspec.ValidationError:
            objects.append(Unreadable("an item that is not an object"))
            continue
        cls = wire_type(kind)
        if cls is not None:
            objects.append(_decode_item(raw, cls=cls, kind=str(kind)))
    version = document.serverVersion
    return objects, (version.minor or "") if version is not None else ""


# kubectl and the API server write "kind" first, or right after "apiVersion".
_KIND_FIRST = re.compile(
    rb'\{\s*(?:"apiVersion"\s*:\s*"[^"\\]*"\s*,\s*)?"kind"\s*:\s*"([A-Za-z]+)"'
)


def _decode_kind_first(raw: msgspec.Raw) -> Node | Pod | Object | None:
    """An item decoded in one pass when its kind is written first; None when unsure.

    The kind read from the first bytes picks the Struct, and the decoded item must carry
    that kind: then finding the kind by decoding first would have given the same item.
    Anything else (a kind the planner skips, an item that does not fit its Struct) goes
    the long way, which words the reason.
    """
    match = _KIND_FIRST.match(memoryview(raw))
    if match is None:
        return None
    kind = match.group(1).decode("ascii")
    cls = wire_type(kind)
    if cls is None:
        return None
    try:
        item = _ITEM[cls].decode(raw)
    except msgspec.ValidationError:
        return None
    return item if item.kind == kind else None


def convert_item(item: object) -> WireObject | None:
    """A plain object (from YAML, or a test) → its Struct; None for kinds the planner skips."""
    if not isinstance(item, Mapping):
        return Unreadable("an item that is not an object")
    cls = wire_type(item.get("kind"))
    if cls is None:
        return None
    try:
        return msgspec.convert(item, cls)
    except msgspec.ValidationError as error:
        return Unreadable(f"{item.get('kind')} {_name_of(item)}: {error}")


def _decode_item_by_item(
    body: bytes, *, cls: type[Node | Pod | Object], kind: str
) -> tuple[list[WireObject], str]:
    try:
        page = _RAW.decode(body)
    except msgspec.ValidationError:
        raise WireError(_envelope_reason(body)) from None
    return [_decode_item(raw, cls=cls, kind=kind) for raw in page.items or ()], _token(page)


def _decode_item(raw: msgspec.Raw, *, cls: type[Node | Pod | Object], kind: str) -> WireObject:
    try:
        return _ITEM[cls].decode(raw)
    except msgspec.ValidationError as error:
        plain = msgspec.json.decode(raw)
        return Unreadable(f"{kind} {_name_of(plain)}: {error}")


def _token(page: ObjectList[Any]) -> str:
    return (page.metadata.continue_ if page.metadata else None) or ""


def _syntax_reason(body: bytes) -> str:
    return "body cut short" if body.lstrip()[:1] == b"{" else "not JSON"


def _envelope_reason(body: str | bytes, *, document: bool = False) -> str:
    """Why a well-formed body is not a list (called only once decoding has failed)."""
    plain = msgspec.json.decode(body)
    if not isinstance(plain, dict):
        return "not a kind: List document" if document else "not a list object"
    if plain.get("items") is not None and not isinstance(plain["items"], list):
        return "items is not a list"
    metadata = plain.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "metadata is not an object"
    if not isinstance((metadata or {}).get("continue") or "", str):
        return "continue is not a string"
    return "not a list object"


def _name_of(item: object) -> str:
    metadata = item.get("metadata") if isinstance(item, Mapping) else None
    if not isinstance(metadata, Mapping):
        return "?"
    return f"{metadata.get('namespace') or ''}/{metadata.get('name') or '?'}".lstrip("/")
