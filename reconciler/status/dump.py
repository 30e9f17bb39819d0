"""The snapshot writer: one cluster read live, written as the `kind: List` snapshots are.

A live read and a snapshot of it hold the same items (the same reader lists them), so
they plan identically.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.errors import UsageError
from reconciler.status.kube_connect import api_client_for, close_client
from reconciler.status.live import ListReader, dict_page, server_minor

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_snapshot(
    context: str,
    *,
    kubeconfig: str | None = None,
    timeout: float = 10.0,
    deadline: float = 300.0,
    retries: int = 2,
) -> dict[str, Any]:
    """Read every object the live source reads from one context, as a `kind: List` dict.

    Raises a ClusterReadError (ConnectError, ReadError) when any list fails: a partial
    snapshot would plan wrongly.
    """
    api = api_client_for(context, kubeconfig=kubeconfig)
    try:
        reader = ListReader(
            api,
            decode=dict_page,  # complete objects: a snapshot holds what the API returned
            timeout=timeout,
            deadline=deadline,
            retries=retries,
            sleep=time.sleep,
            clock=time.monotonic,
        )
        items = reader.read_all()
        minor = server_minor(api, timeout=timeout)
    finally:
        close_client(api)
    for item in items:
        metadata = item.get("metadata")
        if isinstance(metadata, dict):
            # kubectl leaves these out of `get -o yaml` too; they are most of a pod's bytes.
            metadata.pop("managedFields", None)
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }
    if minor is not None:
        # Not in kubectl's output: the planner's score formulas follow the cluster's version.
        document["serverVersion"] = {"major": "1", "minor": str(minor)}
    document["items"] = items
    return document


def write_snapshot(data: dict[str, Any], *, directory: Path, cluster: str) -> Path:
    """Write `<cluster>.yaml` in `directory` atomically (a temporary file renamed over it).

    The file is created readable by its owner only: pod specs can hold secrets in env.
    """
    if not cluster or Path(cluster).name != cluster or cluster.startswith("."):
        raise UsageError(f"{cluster!r} is not a cluster name usable as a file name")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{cluster}.yaml"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{cluster}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yaml.dump(data, stream, Dumper=_Dumper, default_flow_style=False, sort_keys=False)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
