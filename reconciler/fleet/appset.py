"""The Applications an ApplicationSet would generate from this repo, computed without Argo CD.

A small, faithful evaluator of what the fleet's ApplicationSets use, not of all of Argo CD:
git `directories` generators (glob paths matched a segment at a time, `*` never crossing a
`/`, and `exclude: true` entries), and in the template's strings the goTemplate actions
`{{.path.path}}`, `{{.path.basename}}`, `{{.path.basenameNormalized}}`,
`{{index .path.segments N}}` (plus the legacy `{{path}}`, `{{path.basename}}`,
`{{path[N]}}`). A string with any other action is left as written and reported in
`unknown`, so a check never trusts a value it could not compute.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_INDEX = re.compile(r"index \.path\.segments (\d+)|path\[(\d+)\]")


@dataclasses.dataclass(frozen=True)
class GeneratedApplication:
    """One Application the ApplicationSet would create: its rendered template and its source."""

    directory: str  # the repo-relative directory the generator matched
    body: Mapping[str, Any]  # the ApplicationSet's template with every action evaluated
    unknown: tuple[str, ...] = ()  # template actions this evaluator does not know

    @property
    def name(self) -> str:
        """metadata.name of the generated Application."""
        return str(_mapping(self.body.get("metadata")).get("name") or "")


def generated_applications(
    application_set: Mapping[str, Any], *, root: Path
) -> list[GeneratedApplication]:
    """Every Application the ApplicationSet's git directories generators would produce."""
    spec = _mapping(application_set.get("spec"))
    template = _mapping(spec.get("template"))
    found: list[GeneratedApplication] = []
    for directory in matched_directories(spec.get("generators"), root=root):
        unknown: list[str] = []
        body = _render(template, _parameters(directory), unknown)
        found.append(GeneratedApplication(directory, body, tuple(dict.fromkeys(unknown))))
    return found


def matched_directories(generators: object, *, root: Path) -> list[str]:
    """The repo directories the git directories generators select, in path order."""
    chosen: dict[str, None] = {}
    for generator in generators if isinstance(generators, list) else ():
        entries = _mapping(_mapping(generator).get("git")).get("directories")
        entries = entries if isinstance(entries, list) else []
        include = [str(_mapping(e).get("path") or "") for e in entries if not _excluded(e)]
        exclude = [str(_mapping(e).get("path") or "") for e in entries if _excluded(e)]
        for pattern in include:
            for directory in _glob(root, pattern):
                if not any(_matches(directory, other) for other in exclude):
                    chosen[directory] = None
    return sorted(chosen)


def _excluded(entry: object) -> bool:
    return _mapping(entry).get("exclude") is True


def _glob(root: Path, pattern: str) -> list[str]:
    parts = [p for p in pattern.strip("/").split("/") if p not in ("", ".")]
    current = [root]
    for part in parts:
        current = [
            child
            for parent in current
            for child in sorted(parent.iterdir())
            if child.is_dir() and not child.is_symlink() and fnmatch.fnmatchcase(child.name, part)
        ]
    return [str(p.relative_to(root)) for p in current if p != root]


def _matches(directory: str, pattern: str) -> bool:
    parts, wanted = directory.split("/"), pattern.strip("/").split("/")
    return len(parts) == len(wanted) and all(map(fnmatch.fnmatchcase, parts, wanted))


def _parameters(directory: str) -> dict[str, Any]:
    segments = directory.split("/")
    basename = segments[-1]
    normalized = re.sub(r"[^a-zA-Z0-9-]", "-", basename).lower()
    return {"path": directory, "basename": basename, "normalized": normalized, "segments": segments}


def _render(value: Any, params: Mapping[str, Any], unknown: list[str]) -> Any:
    if isinstance(value, Mapping):
        return {k: _render(v, params, unknown) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, params, unknown) for v in value]
    if isinstance(value, str):
        return _ACTION.sub(lambda m: _action(m, params, unknown), value)
    return value


def _action(match: re.Match[str], params: Mapping[str, Any], unknown: list[str]) -> str:
    action = match.group(1)
    simple = {
        ".path.path": "path",
        "path": "path",
        ".path.basename": "basename",
        "path.basename": "basename",
        ".path.basenameNormalized": "normalized",
        "path.basenameNormalized": "normalized",
    }
    if action in simple:
        return str(params[simple[action]])
    index = _INDEX.fullmatch(action)
    segments: list[str] = params["segments"]
    if index is not None:
        number = int(index.group(1) or index.group(2))
        if number < len(segments):
            return segments[number]
    unknown.append(match.group(0))
    return match.group(0)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclasses.dataclass(frozen=True)
class ApplicationNamer:
    """An ApplicationSet's git directories generators and its template's metadata.name, to
    name the Application of any directory without walking the repo (the reader found the
    directories): a fleet's every group is named cheaply."""

    include: tuple[str, ...]
    exclude: tuple[str, ...]
    template: str

    @classmethod
    def of(cls, application_set: Mapping[str, Any]) -> ApplicationNamer:
        """The namer of one ApplicationSet."""
        spec = _mapping(application_set.get("spec"))
        include: list[str] = []
        exclude: list[str] = []
        generators = spec.get("generators")
        for generator in generators if isinstance(generators, list) else ():
            entries = _mapping(_mapping(generator).get("git")).get("directories")
            for entry in entries if isinstance(entries, list) else ():
                path = str(_mapping(entry).get("path") or "")
                (exclude if _excluded(entry) else include).append(path)
        metadata = _mapping(_mapping(spec.get("template")).get("metadata"))
        return cls(tuple(include), tuple(exclude), str(metadata.get("name") or ""))

    def name_of(self, directory: str) -> str:
        """The Application name generated for a directory; '' when no generator selects it
        or the name has an action this evaluator does not know."""
        if not any(_matches(directory, p) for p in self.include):
            return ""
        if any(_matches(directory, p) for p in self.exclude):
            return ""
        unknown: list[str] = []
        params = _parameters(directory)
        name = _ACTION.sub(lambda m: _action(m, params, unknown), self.template)
        return "" if unknown else name
