"""Render the groups that are not plain: checked, cached, in parallel, failures per group."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from reconciler.core.config import RenderConfig
from reconciler.core.problems import Problem
from reconciler.fleet import render_cache
from reconciler.fleet.model import Manifest
from reconciler.fleet.render import FIX, Rendered, find_renderer, render
from reconciler.fleet.render_inputs import RenderInputs, kustomization_file, render_inputs


@dataclasses.dataclass(frozen=True)
class GroupRender:
    """One group's rendered manifests, or the problems that kept it from being judged."""

    manifests: tuple[Manifest, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether the group cannot be judged (no objects to judge it by)."""
        return any(p.severity == "error" for p in self.problems)


@dataclasses.dataclass(frozen=True)
class _Job:
    shown: str  # the group directory, repo-relative
    directory: Path
    inputs: RenderInputs
    key: str | None


def render_groups(
    shown_dirs: Sequence[str],
    *,
    root: Path,
    config: RenderConfig,
    cache: Path | None = None,
    trees: Callable[[], render_cache.TreeIds | None] | None = None,
) -> tuple[dict[str, GroupRender], str]:
    """Each group directory's render, and the renderer in words ("" when none was needed)."""
    if not shown_dirs:
        return {}, ""
    renderer = find_renderer(config)
    parsed: dict[Path, Any] = {}
    inputs = {s: render_inputs(root / s, root=root, parsed=parsed) for s in shown_dirs}
    results: dict[str, GroupRender] = {}
    for shown, found in inputs.items():
        if found.problems:
            results[shown] = GroupRender(problems=found.problems)
        elif renderer is None:
            results[shown] = GroupRender(problems=(_no_renderer(shown),))
        elif found.helm and not renderer.helm:
            results[shown] = GroupRender(problems=(_no_helm(shown, config=config),))
    if renderer is None:
        return results, "none found"
    todo = [s for s in shown_dirs if s not in results]
    tree_ids = (trees() if trees is not None else render_cache.TreeIds.of(root)) if todo else None
    where = cache if cache is not None else render_cache.render_cache_dir()
    jobs: list[_Job] = []
    for shown in todo:
        key = None
        if tree_ids is not None:
            command = [*renderer.command, renderer.version, f"helm={inputs[shown].helm}"]
            key = render_cache.cache_key(
                group=shown, directories=inputs[shown].directories, trees=tree_ids, renderer=command
            )
        stored = render_cache.load(where, key) if key is not None else None
        if stored is not None:
            results[shown] = _manifests(root, shown, stored)
        else:
            jobs.append(_Job(shown, root / shown, inputs[shown], key))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = pool.map(lambda job: render(renderer, job.directory, helm=job.inputs.helm), jobs)
        for job, rendered in zip(jobs, done, strict=True):
            results[job.shown] = _outcome(root, job, rendered, cache=where)
    return results, renderer.describe()


def _outcome(root: Path, job: _Job, rendered: Rendered, *, cache: Path) -> GroupRender:
    if rendered.error:
        message = (
            f"kustomize could not render it: {rendered.error}; the group is not judged "
            f"(fix the kustomization; if the renderer is too old, {FIX})"
        )
        return GroupRender(problems=(Problem(job.shown, "", message),))
    if job.key is not None:
        render_cache.store(cache, job.key, rendered.objects)
    return _manifests(root, job.shown, rendered.objects)


def _manifests(root: Path, shown: str, objects: Sequence[Mapping[str, Any]]) -> GroupRender:
    """Rendered objects as manifests; `file` is the group's kustomization."""
    found = kustomization_file(root / shown)
    file = f"{shown}/{found.name}" if found is not None else shown
    manifests = []
    for body in objects:
        metadata = body.get("metadata")
        namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
        manifests.append(Manifest(file=file, body=body, namespace=str(namespace or "default")))
    return GroupRender(manifests=tuple(manifests))


def _no_renderer(shown: str) -> Problem:
    message = (
        "needs kustomize to render it (its kustomization is not plain), and none was found "
        f"on PATH; the group is not judged: {FIX}, or name one in fleet.yaml render.command"
    )
    return Problem(shown, "", message)


def _no_helm(shown: str, *, config: RenderConfig) -> Problem:
    why = "helm is not on PATH" if config.helm else "fleet.yaml does not set render.helm: true"
    message = (
        f"uses helmCharts, which need kustomize's --enable-helm and helm, but {why}; "
        "the group is not judged"
    )
    return Problem(shown, "", message)
