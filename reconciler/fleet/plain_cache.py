"""Plain groups' manifests kept on disk between passes, keyed by the group directory's tree id.

A plain group reads nothing outside its directory, so its tree id (from the fleet read's
one TreeIds, shared with the render cache) and a format tag are its whole key; a directory
with uncommitted changes, or outside git, has none and is read afresh. Only a read without
any problem is stored, and only when its objects come back from JSON unchanged (no
timestamps, binary or non-string keys). A stored body is a plain dict without the line
numbers of YAML: only readers that never locate a finding in a manifest (a pass, not
`validate`) use this cache.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from reconciler.core import yaml_files
from reconciler.fleet import plain, plain_source, render_cache
from reconciler.fleet.model import Manifest

FORMAT = "plain-manifests-1"


@functools.cache
def _reading_code() -> str:
    """A digest of the code that reads a plain group: a release that reads them differently
    never serves what an older one stored."""
    digest = hashlib.sha256(FORMAT.encode())
    for module in (plain, plain_source, yaml_files):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class PlainCache:
    """Where plain groups are kept, and the tree ids that key them."""

    trees: render_cache.TreeIds
    directory: Path

    def key(self, shown: str) -> str | None:
        """The key of a group directory, or None when it is not committed as it is on disk."""
        tree = self.trees.tree(shown)
        return (
            None
            if tree is None
            else hashlib.sha256(f"{_reading_code()}\0{tree}".encode()).hexdigest()
        )

    def load(self, key: str, *, shown: str) -> tuple[Manifest, ...] | None:
        """The group's manifests stored under a key, or None."""
        objects = render_cache.load(self.directory, key)
        if objects is None:
            return None
        try:
            return tuple(
                Manifest(file=f"{shown}/{o['file']}", body=o["body"], namespace=o["namespace"])
                for o in objects
            )
        except (KeyError, TypeError):
            return None

    def store(self, key: str, manifests: Sequence[Manifest], *, shown: str) -> None:
        """Keep a group's manifests (file names relative to it: a moved group still hits)."""
        prefix = f"{shown}/"
        entries = [
            {"file": m.file.removeprefix(prefix), "namespace": m.namespace, "body": m.body}
            for m in manifests
        ]
        try:
            if json.loads(json.dumps(entries)) != entries:
                return  # JSON would change a value: read this group afresh each time
        except (TypeError, ValueError):
            return
        render_cache.store(self.directory, key, entries)


def plain_cache_dir() -> Path:
    """Beside the rendered groups."""
    return render_cache.render_cache_dir().with_name("plain")
