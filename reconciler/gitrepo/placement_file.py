"""Edit a group's placement.yaml: set or clear the make-before-break marker, keep the rest.

The marker says a move is in progress: the group directory is present under both
clusters on purpose. ruamel.yaml's round trip keeps the file's comments and order.
"""

from __future__ import annotations

import io

from ruamel.yaml.comments import CommentedMap

from reconciler.gitrepo.kustomization import load_mapping, round_trip_yaml

MARKER = "moveInProgress"


def with_move_marker(text: str | None, *, source: str, target: str, started: str) -> str:
    """placement.yaml with `moveInProgress: {from, to, started}` set (created if absent)."""
    data = load_mapping(text or "")
    marker = CommentedMap()
    marker["from"] = source
    marker["to"] = target
    marker["started"] = started
    marker.fa.set_flow_style()
    data[MARKER] = marker
    return _dump(data)


def without_move_marker(text: str | None) -> str | None:
    """placement.yaml without the marker; None when nothing else is left in it."""
    data = load_mapping(text or "")
    data.pop(MARKER, None)
    return _dump(data) if data else None


def _dump(data: CommentedMap) -> str:
    out = io.StringIO()
    round_trip_yaml().dump(data, out)
    return out.getvalue()
