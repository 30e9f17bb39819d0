"""Where a pass reads the clusters' status from: snapshot files or the live API servers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from reconciler.core.config import FleetConfig
from reconciler.core.progress import Progress, no_progress
from reconciler.status.model import ClusterState, mark_stale
from reconciler.status.snapshot import read_snapshots

StatusReader = Callable[[FleetConfig], Mapping[str, ClusterState]]


def snapshot_status(directory: Path, *, progress: Progress = no_progress) -> StatusReader:
    """Status from a directory of per-cluster snapshot files."""
    return lambda config: read_snapshots(
        directory, clusters=[c.name for c in config.clusters], progress=progress
    )


def live_status(*, kubeconfig: str | None, progress: Progress = no_progress) -> StatusReader:
    """Status read from the clusters' API servers through their kubeconfig contexts."""

    def read(config: FleetConfig) -> Mapping[str, ClusterState]:
        from reconciler.status.live import read_live  # the kubernetes client loads slowly

        return read_live(config.clusters, kubeconfig=kubeconfig, progress=progress)

    return read


def read_states(
    status: StatusReader, config: FleetConfig, *, now: dt.datetime
) -> dict[str, ClusterState]:
    """Every cluster's status, with stale ones (older than maxStatusAge) made unknown."""
    limits = {c.name: c.max_status_age or config.max_status_age for c in config.clusters}
    return mark_stale(status(config), now=now, max_age=limits)
