"""JSON Schema for fleet.yaml and placement.yaml, for editors (yaml-language-server)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

from reconciler.core.config import FleetConfig, PolicyFields

SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "fleet.schema.json": FleetConfig,
    "placement.schema.json": PolicyFields,
}
_TITLES = {
    "fleet.schema.json": "placement-reconciler fleet.yaml",
    "placement.schema.json": "placement-reconciler placement.yaml",
}


def schemas() -> dict[str, dict[str, Any]]:
    """Each schema file's name and content, generated from the pydantic models."""
    generated = {}
    for name, model in SCHEMA_FILES.items():
        schema = model.model_json_schema(by_alias=True, mode="validation")
        generated[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **schema,
            "title": _TITLES[name],
        }
    return generated


def render(schema: dict[str, Any]) -> str:
    """A schema as the text written to a file (stable: sorted keys, a final newline)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema(args: argparse.Namespace, out: TextIO) -> int:
    """`schema [-o DIR]`: write fleet.schema.json and placement.schema.json, or print both."""
    directory: Path | None = getattr(args, "output", None)
    generated = schemas()
    if directory is None:
        for name, content in generated.items():
            print(f"# {name}", file=out)
            out.write(render(content))
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in generated.items():
        (directory / name).write_text(render(content), encoding="utf-8")
        print(f"wrote {directory / name}", file=out)
    return 0
