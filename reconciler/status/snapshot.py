"""The snapshot source: one `kubectl get ... -o yaml` file (`kind: List`) per cluster.

A `.json` snapshot is decoded straight into the wire Structs, as the live source decodes
its lists; YAML goes through plain dicts first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

from reconciler.core.gc_pause import collector_paused
from reconciler.core.problems import InputError
from reconciler.core.progress import CLUSTERS_READ, Progress, no_progress
from reconciler.core.yaml_files import load_yaml_documents, read_utf8_bytes
from reconciler.status.live import minor_of
from reconciler.status.model import ClusterState
from reconciler.status.parse import cluster_state_from_items, cluster_state_from_wire
from reconciler.status.wire import WireError, decode_snapshot

SNAPSHOT_BYTES_LIMIT = 2 * 1024 * 1024 * 1024  # snapshots of big clusters are large, not infinite
_SUFFIXES = (".yaml", ".yml", ".json")


def read_snapshots(
    directory: Path, *, clusters: Iterable[str], progress: Progress = no_progress
) -> dict[str, ClusterState]:
    """Read `<cluster>.yaml|.yml|.json` for every cluster; a missing or bad file → unknown."""
    names = list(clusters)
    states: dict[str, ClusterState] = {}
    progress(CLUSTERS_READ, done=0, total=len(names))
    with collector_paused():
        for name in names:
            states[name] = read_snapshot(directory, cluster=name)
            progress(CLUSTERS_READ, done=len(states), total=len(names))
    return states


def read_snapshot(directory: Path, *, cluster: str) -> ClusterState:
    """Read one cluster's snapshot file; never raises for bad content."""
    path = next(
        (directory / f"{cluster}{s}" for s in _SUFFIXES if (directory / f"{cluster}{s}").exists()),
        None,
    )
    if path is None:
        return ClusterState.unknown(cluster, f"no snapshot file {cluster}.yaml in {directory}")
    read_at = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    if path.suffix == ".json":
        return _read_json(path, cluster=cluster, read_at=read_at)
    try:
        documents = load_yaml_documents(path, shown_as=str(path), limit=SNAPSHOT_BYTES_LIMIT)
    except InputError as error:
        return ClusterState.unknown(cluster, f"snapshot unreadable: {error.problem}")
    items: list[Mapping[str, object]] = []
    minor = ""
    for document in documents:
        if isinstance(document, Mapping) and document.get("kind") == "List":
            version = document.get("serverVersion")
            if isinstance(version, Mapping):
                minor = str(version.get("minor") or "")
            found = document.get("items")
            if not isinstance(found, list):
                return ClusterState.unknown(cluster, f"snapshot {path.name}: items is not a list")
            items += found
        elif isinstance(document, Mapping) and "kind" in document:
            items.append(document)
        else:
            return ClusterState.unknown(cluster, f"snapshot {path.name}: not a kind: List document")
    state = cluster_state_from_items(items, cluster=cluster, read_at=read_at)
    return _versioned(state, minor)


def _versioned(state: ClusterState, minor: str) -> ClusterState:
    """The state with the Kubernetes minor version its snapshot kept, when it kept one."""
    found = minor_of(minor)
    return dataclasses.replace(state, kube_minor=found) if state.known and found else state


def _read_json(path: Path, *, cluster: str, read_at: dt.datetime) -> ClusterState:
    try:
        text = read_utf8_bytes(path, shown_as=str(path), limit=SNAPSHOT_BYTES_LIMIT)
    except InputError as error:
        return ClusterState.unknown(cluster, f"snapshot unreadable: {error.problem}")
    try:
        objects, minor = decode_snapshot(text)
    except WireError as error:
        return ClusterState.unknown(cluster, f"snapshot {path.name}: {error}")
    return _versioned(cluster_state_from_wire(objects, cluster=cluster, read_at=read_at), minor)
