"""The live source: every cluster's objects read through the official client, concurrently.

Lists are read raw (`_preload_content=False`) and decoded with msgspec straight into the
wire Structs of reconciler.status.wire, which hold only the fields the planner reads: the
client's models are never built, they cost twenty times more than the read. Every fault
(network, TLS, HTTP status, timeout, bad or short body, expired list) makes that cluster
*unknown* with a short reason written here, never from the client's exception text,
which can quote request headers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Generic, TypeVar

from kubernetes import client

from reconciler.core.config import ClusterConfig
from reconciler.core.gc_pause import collector_paused
from reconciler.core.progress import CLUSTERS_READ, Progress, no_progress
from reconciler.status.kube_connect import ConnectError, api_client_for, close_client
from reconciler.status.kube_faults import ReadError, describe_fault
from reconciler.status.model import ClusterState
from reconciler.status.parse import cluster_state_from_wire
from reconciler.status.wire import (
    RAY_KINDS,
    WireError,
    WireObject,
    decode_dict_list,
    decode_list,
)

PAGE_SIZE = 500
BACKOFF_SECONDS = 0.5  # first retry after 0.5s, then 1s, 2s, ...

RawObject = dict[str, Any]
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Resource:
    """A kind the reader lists across all namespaces, and the client method that lists it."""

    kind: str
    api_version: str
    plural: str
    method: str = ""  # on CoreV1Api / AppsV1Api / ...; custom objects have none
    optional: bool = False  # a 404 means the API is not installed: no objects, not a fault
    # Read since the role grew (HPAs, DaemonSets): a 403 from a role not yet re-applied
    # leaves them out with a note, instead of making the whole cluster unknown.
    newer_rbac: bool = False


RESOURCES = (
    Resource("Node", "v1", "nodes", "list_node"),
    Resource("Pod", "v1", "pods", "list_pod_for_all_namespaces"),
    Resource("ReplicaSet", "apps/v1", "replicasets", "list_replica_set_for_all_namespaces"),
    Resource("Deployment", "apps/v1", "deployments", "list_deployment_for_all_namespaces"),
    Resource("StatefulSet", "apps/v1", "statefulsets", "list_stateful_set_for_all_namespaces"),
    # A DaemonSet's pods reach it as their owner: read, its Argo CD or Flux marks count.
    Resource(
        "DaemonSet",
        "apps/v1",
        "daemonsets",
        "list_daemon_set_for_all_namespaces",
        newer_rbac=True,
    ),
    Resource("Job", "batch/v1", "jobs", "list_job_for_all_namespaces"),
    # What an HPA keeps a Deployment at, for Deployments that leave replicas to it.
    Resource(
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
        "horizontalpodautoscalers",
        "list_horizontal_pod_autoscaler_for_all_namespaces",
        optional=True,
        newer_rbac=True,
    ),
    Resource("RayService", "ray.io/v1", "rayservices", optional=True),
    Resource("RayCluster", "ray.io/v1", "rayclusters", optional=True),
    Resource("RayJob", "ray.io/v1", "rayjobs", optional=True),
    # For the scheduler simulation: namespaces' labels and RuntimeClass overheads.
    Resource("Namespace", "v1", "namespaces", "list_namespace", optional=True, newer_rbac=True),
    Resource(
        "RuntimeClass",
        "node.k8s.io/v1",
        "runtimeclasses",
        "list_runtime_class",
        optional=True,
        newer_rbac=True,
    ),
)


log = logging.getLogger(__name__)
_UNEXPECTED = "read failed unexpectedly (the debug log has the details)"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def read_live(
    clusters: Sequence[ClusterConfig],
    *,
    kubeconfig: str | None = None,
    timeout: float = 10.0,
    deadline: float = 60.0,
    max_workers: int = 8,
    retries: int = 2,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = _utc_now,
    clock: Callable[[], float] = time.monotonic,
    progress: Progress = no_progress,
) -> dict[str, ClusterState]:
    """Read every cluster at once; a cluster that cannot be read fully comes back unknown.

    `timeout` bounds each connect and each read, `deadline` one cluster's whole read
    (retries and backoff included). Never raises for a cluster fault. `progress` is told
    as each cluster's read is collected.
    """
    if not clusters:
        return {}
    workers = max(1, min(max_workers, len(clusters)))
    # A backstop in case a thread overruns its own deadline (a trickling response).
    waves = math.ceil(len(clusters) / workers)
    give_up_at = time.monotonic() + waves * (deadline + 2 * timeout)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="status-live")
    try:
        futures = {
            cluster.name: pool.submit(
                read_cluster,
                cluster,
                kubeconfig=kubeconfig,
                timeout=timeout,
                deadline=deadline,
                retries=retries,
                sleep=sleep,
                now=now,
                clock=clock,
            )
            for cluster in clusters
        }
        states: dict[str, ClusterState] = {}
        progress(CLUSTERS_READ, done=0, total=len(futures))
        for name, future in futures.items():
            try:
                states[name] = future.result(timeout=max(0.0, give_up_at - time.monotonic()))
            except FutureTimeout:
                states[name] = ClusterState.unknown(name, f"deadline of {deadline:g}s exceeded")
            except Exception as error:  # read_cluster catches all; this is belt and braces
                log.debug("reading %s failed", name, exc_info=error)
                states[name] = ClusterState.unknown(name, _UNEXPECTED)
            progress(CLUSTERS_READ, done=len(states), total=len(futures))
        return states
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def read_cluster(
    cluster: ClusterConfig,
    *,
    kubeconfig: str | None = None,
    timeout: float = 10.0,
    deadline: float = 60.0,
    retries: int = 2,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = _utc_now,
    clock: Callable[[], float] = time.monotonic,
) -> ClusterState:
    """Read one cluster; every fault becomes an unknown ClusterState, never an exception."""
    # Taken before the read: pods then look younger, never older, than they are.
    read_at = now()
    try:
        api = api_client_for(cluster.context, kubeconfig=kubeconfig)
    except ConnectError as error:
        return ClusterState.unknown(cluster.name, str(error))
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        return ClusterState.unknown(cluster.name, f"kubeconfig cannot be used: {first_line}")
    try:
        reader = ListReader(
            api,
            decode=wire_page,
            timeout=timeout,
            deadline=deadline,
            retries=retries,
            sleep=sleep,
            clock=clock,
        )
        objects = reader.read_all()
        kube_minor = server_minor(api, timeout=timeout)
    except ReadError as error:
        return ClusterState.unknown(cluster.name, error.reason)
    except Exception as error:
        log.debug("reading %s failed", cluster.name, exc_info=error)
        return ClusterState.unknown(cluster.name, _UNEXPECTED)
    finally:
        close_client(api)
    with collector_paused():
        state = cluster_state_from_wire(objects, cluster=cluster.name, read_at=read_at)
    unserved = frozenset(reader.not_served) & RAY_KINDS  # what a group may need to run
    if state.known and unserved:
        state = dataclasses.replace(state, unserved_kinds=unserved)
    if state.known and reader.forbidden:
        notes = tuple(
            f"{plural}: forbidden to the reader's role, not read (re-apply deploy/rbac-reader.yaml)"
            for plural in sorted(reader.forbidden)
        )
        state = dataclasses.replace(state, skipped=state.skipped + notes)
    if state.known:
        state = dataclasses.replace(state, kube_minor=kube_minor)
    return state


def server_minor(api: client.ApiClient, *, timeout: float) -> int | None:
    """The server's Kubernetes minor version from /version ("1.29+" reads 29); None when
    it cannot be read: the planner then scores with the current formulas."""
    try:
        info = client.VersionApi(api).get_code(_request_timeout=(timeout, timeout))
    except Exception as error:  # the version only picks a score formula: never fatal
        log.debug("reading /version failed", exc_info=error)
        return None
    return minor_of(str(getattr(info, "minor", "") or ""))


def minor_of(text: str) -> int | None:
    """The leading number of a version's minor field ("29+" → 29), or None."""
    digits = ""
    for char in text:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


def wire_page(body: bytes, resource: Resource) -> tuple[list[WireObject], str]:
    """A list response → wire Structs of the resource's kind, and the continue token."""
    with collector_paused():
        return decode_list(body, kind=resource.kind)


def dict_page(body: bytes, resource: Resource) -> tuple[list[RawObject], str]:
    """A list response → complete objects as plain dicts (kind set), and the continue token."""
    with collector_paused():
        items, token = decode_dict_list(body)
    for item in items:
        # Items of a list response carry no kind or apiVersion; a snapshot needs them.
        if isinstance(item, dict):
            item["kind"] = resource.kind
            item["apiVersion"] = resource.api_version
    return items, token


class ListReader(Generic[T]):
    """Lists the RESOURCES of one cluster: pages, retries, backoff and the deadline.

    `decode` turns one page into its items and continue token: `wire_page` for the
    planner, `dict_page` for a snapshot that keeps every field.
    """

    def __init__(
        self,
        api: client.ApiClient,
        *,
        decode: Callable[[bytes, Resource], tuple[list[T], str]],
        timeout: float,
        deadline: float,
        retries: int,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self._api = api
        self._decode = decode
        self._timeout = timeout
        self._deadline = deadline
        self._retries = max(0, retries)
        self._sleep = sleep
        self._clock = clock
        self._ends_at = clock() + deadline
        self.not_served: set[str] = set()  # kinds of optional APIs that answered 404
        self.forbidden: set[str] = set()  # plurals the reader's role may not list yet

    def read_all(self, resources: Sequence[Resource] = RESOURCES) -> list[T]:
        """Every object of every resource, each with its kind set."""
        items: list[T] = []
        for resource in resources:
            items += self.list_all(resource)
        return items

    def list_all(self, resource: Resource) -> list[T]:
        """One consistent list: a 410 on a continue restarts it once from the beginning."""
        try:
            return self._pages(resource)
        except _Expired:
            pass
        try:
            return self._pages(resource)
        except _Expired:
            raise ReadError(
                f"list of {resource.plural} expired twice (410 Gone): no consistent list"
            ) from None

    def _pages(self, resource: Resource) -> list[T]:
        items: list[T] = []
        token = ""
        seen: set[str] = set()
        while True:
            page, token = self._page(resource, token)
            items += page
            if not token:
                return items
            if token in seen:
                raise ReadError(f"list of {resource.plural} cut short: continue token repeated")
            seen.add(token)

    def _page(self, resource: Resource, token: str) -> tuple[list[T], str]:
        for attempt in range(self._retries + 1):
            try:
                return self._fetch(resource, token)
            except ReadError as error:
                if not error.retryable or attempt == self._retries:
                    if attempt:
                        raise ReadError(f"{error.reason} ({attempt + 1} attempts)") from None
                    raise
                delay = BACKOFF_SECONDS * 2**attempt
                if self._remaining() <= delay:
                    raise ReadError(
                        f"{error.reason}; deadline of {self._deadline:g}s reached before retrying"
                    ) from None
                self._sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _fetch(self, resource: Resource, token: str) -> tuple[list[T], str]:
        remaining = self._remaining()
        if remaining <= 0:
            raise ReadError(
                f"deadline of {self._deadline:g}s exceeded before listing {resource.plural}"
            )
        request_timeout = min(self._timeout, remaining)
        what = f"listing {resource.plural}"
        response = None
        try:
            response = self._call(resource, token, request_timeout)
            body: bytes = response.data
        except Exception as error:
            fault = describe_fault(
                error, what=what, timeout=request_timeout, continuing=bool(token)
            )
            if fault.expired:
                raise _Expired() from None
            if fault.status == 404 and resource.optional and not token:
                self.not_served.add(resource.kind)  # that KubeRay CRD is not installed
                return [], ""
            if fault.status == 403 and resource.newer_rbac and not token:
                self.forbidden.add(resource.plural)
                return [], ""
            raise fault.error() from None
        finally:
            if response is not None:
                response.release_conn()
        try:
            return self._decode(body, resource)
        except WireError as error:
            raise ReadError(f"malformed response {what}: {error}") from None

    def _call(self, resource: Resource, token: str, request_timeout: float) -> Any:
        options: dict[str, Any] = {
            "limit": PAGE_SIZE,
            "_preload_content": False,
            "_request_timeout": (request_timeout, request_timeout),
        }
        if token:
            options["_continue"] = token
        if resource.method:
            group_api = _API_GROUPS[resource.api_version](self._api)
            return getattr(group_api, resource.method)(**options)
        group, version = resource.api_version.split("/")
        return client.CustomObjectsApi(self._api).list_cluster_custom_object(
            group, version, resource.plural, **options
        )

    def _remaining(self) -> float:
        return self._ends_at - self._clock()


_API_GROUPS: dict[str, Callable[[client.ApiClient], Any]] = {
    "v1": client.CoreV1Api,
    "apps/v1": client.AppsV1Api,
    "batch/v1": client.BatchV1Api,
    "autoscaling/v2": client.AutoscalingV2Api,
    "node.k8s.io/v1": client.NodeV1Api,
}


class _Expired(Exception):
    """A continue token the server no longer knows (410 Gone)."""
