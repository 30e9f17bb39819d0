"""Edit a group's placement.yaml: set or clear the make-before-break marker, keep the rest.

The marker says a move is in progress: the group directory is present under both
clusters on purpose. ruamel.yaml's round trip keeps the file's comments and order.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from reconciler.core.errors import FleetRepoError

MARKER = "moveInProgress"


def with_move_marker(text: str | None, *, source: str, target: str, started: str) -> str:
    """placement.yaml with `moveInProgress: {from, to, started}` set (created if absent)."""
    data = _load(text)
    marker = CommentedMap()
    marker["from"] = source
    marker["to"] = target
    marker["started"] = started
    marker.fa.set_flow_style()
    data[MARKER] = marker
    return _dump(data)


def without_move_marker(text: str | None) -> str | None:
    """placement.yaml without the marker; None when nothing else is left in it."""
    data = _load(text)
    data.pop(MARKER, None)
    if not data:
        return None
    return _dump(data)


def _load(text: str | None) -> CommentedMap:
    if not text or not text.strip():
        return CommentedMap()
    try:
        data: Any = _yaml().load(text)
    except YAMLError as error:
        raise FleetRepoError(f"invalid YAML: {error}") from None
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise FleetRepoError("expected a mapping at the top level")
    return data


def _dump(data: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml
