"""The scheduler's own words for a pod that fits no node (FitError.Error in
pkg/scheduler/framework/types.go): "0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
didn't match pod anti-affinity rules." Each reason counts the nodes that gave it; the
counted reasons are sorted as strings, as upstream does."""

from __future__ import annotations

from collections.abc import Mapping


def fit_error(node_count: int, reasons: Mapping[str, int]) -> str:
    """The FitError message for `node_count` nodes and the nodes per reason."""
    counted = sorted(f"{count} {reason}" for reason, count in reasons.items())
    if not counted:
        return f"0/{node_count} nodes are available."
    return f"0/{node_count} nodes are available: {', '.join(counted)}."
