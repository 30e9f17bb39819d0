"""Edit a cluster's `groups/kustomization.yaml` so that only the one group entry changes,
and the make-before-break marker of a group's `placement.yaml`.

A block-style `resources:` list is edited line by line (the item's line leaves, or a new
line joins after the last item), so every other byte of the file survives: comments, key
order, quoting, indentation. Anything else (a flow list, an empty or missing list) goes
through a ruamel.yaml round-trip. Either way the result is parsed back and checked: the
resources list is exactly what was asked for and nothing else in the document changed.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from reconciler.core.errors import FleetRepoError

NEW_KUSTOMIZATION = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {entry}\n"
)
MOVE_MARKER = "moveInProgress"  # in placement.yaml: the group is under both clusters on purpose


class NotListed(FleetRepoError):
    """The group is not in the kustomization's resources list."""

    def __init__(self, group: str) -> None:
        super().__init__(f"{group} is not listed in resources")


def names_group(entry: object, group: str) -> bool:
    """True when a `resources` entry (`ray-pred`, `./ray-pred`, `ray-pred/`) is the group."""
    return isinstance(entry, str) and entry.strip().removeprefix("./").rstrip("/") == group


def lists_group(text: str, group: str) -> bool:
    """True when the kustomization's `resources` list names the group."""
    return any(names_group(entry, group) for entry in _resources(load_mapping(text)))


def without_group(text: str, group: str) -> str:
    """The kustomization text with every `resources` entry naming the group removed."""
    data = load_mapping(text)
    resources = _resources(data)
    keep = [str(entry) for entry in resources if not names_group(entry, group)]
    if len(keep) == len(resources):
        raise NotListed(group)
    if isinstance(resources, CommentedSeq) and not resources.fa.flow_style():
        edited = _delete_lines(text, data, group)
        if edited is not None and _is_clean_edit(data, edited, keep):
            return edited
    return _round_trip(text, keep, remove=group)


def with_group(text: str | None, group: str) -> str:
    """The kustomization text with the group appended to `resources` (created if absent)."""
    if text is None:
        return NEW_KUSTOMIZATION.format(entry=_styled_like(None, group))
    data = load_mapping(text)
    resources = _resources(data)
    if any(names_group(entry, group) for entry in resources):
        return text
    expected = [*(str(entry) for entry in resources), group]
    if resources and isinstance(resources, CommentedSeq) and not resources.fa.flow_style():
        edited = _append_line(text, resources, group)
        if edited is not None and _is_clean_edit(data, edited, expected):
            return edited
    return _round_trip(text, expected, add=group)


def with_move_marker(text: str | None, *, source: str, target: str, started: str) -> str:
    """placement.yaml with `moveInProgress: {from, to, started}` set (created if absent)."""
    data = load_mapping(text or "")
    data[MOVE_MARKER] = CommentedMap([("from", source), ("to", target), ("started", started)])
    data[MOVE_MARKER].fa.set_flow_style()
    return _dump(round_trip_yaml(), data)


def without_move_marker(text: str) -> str | None:
    """placement.yaml without the marker; None when nothing else is left in it."""
    data = load_mapping(text)
    data.pop(MOVE_MARKER, None)
    return _dump(round_trip_yaml(), data) if data else None


def _delete_lines(text: str, data: CommentedMap, group: str) -> str | None:
    """Drop the lines of the group's items; an emptied list becomes `resources: []`."""
    resources: CommentedSeq = data["resources"]
    lines = text.splitlines(keepends=True)
    for index in reversed(range(len(resources))):
        if names_group(resources[index], group):
            del lines[resources.lc.item(index)[0]]
    if any(not names_group(entry, group) for entry in resources):
        return "".join(lines)
    line_no, column = data.lc.key("resources")
    key_line = lines[line_no]
    colon = column + len("resources")
    if key_line[colon : colon + 1] != ":":
        return None
    lines[line_no] = f"{key_line[: colon + 1]} []{key_line[colon + 1 :]}"
    return "".join(lines)


def _append_line(text: str, resources: CommentedSeq, group: str) -> str | None:
    """Insert `- group` right after the last item's line, indented and quoted like it."""
    lines = text.splitlines(keepends=True)
    line_no, column = resources.lc.item(len(resources) - 1)
    last = lines[line_no]
    dash = last.rfind("-", 0, column)
    if dash < 0 or last[:dash].strip():
        return None
    body = last.rstrip("\r\n")
    ending = last[len(body) :] or "\n"
    lines[line_no] = body + ending
    lines.insert(line_no + 1, f"{last[:dash]}- {_styled_like(resources[-1], group)}{ending}")
    return "".join(lines)


def _styled_like(neighbour: object, group: str) -> str:
    """The group quoted as its neighbour is, else plain when YAML reads that back as it."""
    if isinstance(neighbour, DoubleQuotedScalarString):
        return f'"{group}"'
    if isinstance(neighbour, SingleQuotedScalarString):
        return f"'{group}'"
    try:
        if round_trip_yaml().load(f"- {group}\n") == [group]:
            return group
    except YAMLError:
        pass
    return '"' + group.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _round_trip(
    text: str, expected: list[str], *, remove: str | None = None, add: str | None = None
) -> str:
    _, indent, block_seq_indent = load_yaml_guess_indent(text)
    yaml = round_trip_yaml()
    if indent is not None:
        yaml.indent(mapping=indent, sequence=indent, offset=block_seq_indent or 0)
    yaml.explicit_start = text.lstrip().startswith("---")
    data = yaml.load(text)
    resources = data.get("resources")
    if not isinstance(resources, CommentedSeq):
        resources = data["resources"] = CommentedSeq()
    for index in reversed(range(len(resources))):
        if remove is not None and names_group(resources[index], remove):
            del resources[index]
    if add is not None:
        resources.append(add)
    if not resources:
        resources.fa.set_flow_style()
    edited = _dump(yaml, data)
    if not _is_clean_edit(data, edited, expected):  # only its resources were changed
        raise FleetRepoError("the edit would change more than the resources list")
    return edited


def _is_clean_edit(before: CommentedMap, after: str, expected: list[str]) -> bool:
    """The edited text parses, lists exactly `expected`, and changed nothing else."""
    try:
        new = load_mapping(after)
    except FleetRepoError:
        return False
    unchanged = {key: value for key, value in before.items() if key != "resources"}
    rest = {key: value for key, value in new.items() if key != "resources"}
    return rest == unchanged and [str(entry) for entry in new.get("resources") or []] == expected


def load_mapping(text: str) -> CommentedMap:
    """The round-trip parse of the text ({} when empty); FleetRepoError unless a mapping."""
    try:
        data = round_trip_yaml().load(text)
    except YAMLError as error:
        raise FleetRepoError(f"not valid YAML: {error}") from error
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise FleetRepoError("the document is not a mapping")
    return data


def _resources(data: CommentedMap) -> list[Any]:
    resources = data.get("resources")
    if resources is None:
        return []
    if not isinstance(resources, list):
        raise FleetRepoError("resources is not a list")
    return resources


def round_trip_yaml() -> YAML:
    """A ruamel.yaml round-trip loader and dumper that keeps quotes and long lines."""
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _dump(yaml: YAML, data: CommentedMap) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
