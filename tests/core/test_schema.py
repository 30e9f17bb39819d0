"""`placement-reconciler schema`: JSON Schema for editors, shipped with repo-template."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
import yaml

from reconciler.core.schema import render, schema, schemas

TEMPLATE = Path(__file__).parents[2] / "repo-template"


@pytest.mark.parametrize("name", ["fleet.schema.json", "placement.schema.json"])
def test_the_shipped_schema_files_are_what_schema_generates(name: str) -> None:
    shipped = (TEMPLATE / "schema" / name).read_text(encoding="utf-8")
    assert shipped == render(schemas()[name]), (
        f"repo-template/schema/{name} is out of date with reconciler/config.py: "
        "run `placement-reconciler schema -o repo-template/schema`"
    )


def test_schema_writes_both_files_to_a_directory(tmp_path: Path) -> None:
    out = io.StringIO()
    assert schema(argparse.Namespace(output=tmp_path / "s"), out) == 0
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "fleet.schema.json",
        "placement.schema.json",
    ]
    fleet = json.loads((tmp_path / "s" / "fleet.schema.json").read_text())
    assert fleet["required"] == ["clusters"]
    assert "maxStatusAge" in fleet["properties"]  # aliases, not python names


def test_schema_without_a_directory_prints_both() -> None:
    out = io.StringIO()
    assert schema(argparse.Namespace(output=None), out) == 0
    assert "# fleet.schema.json" in out.getvalue()
    assert "# placement.schema.json" in out.getvalue()


@pytest.mark.parametrize(
    ("path", "schema_file"),
    [
        ("fleet.yaml", "fleet.schema.json"),
        ("clusters/onprem/groups/batch-etl/placement.yaml", "placement.schema.json"),
    ],
)
def test_template_files_point_editors_at_the_schema(path: str, schema_file: str) -> None:
    first = (TEMPLATE / path).read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = (TEMPLATE / path).parent / first.removeprefix(prefix)
    assert target.resolve() == (TEMPLATE / "schema" / schema_file).resolve()


def test_the_schema_accepts_the_template_and_rejects_a_bad_cluster_name() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    fleet_schema = schemas()["fleet.schema.json"]
    fleet = yaml.safe_load((TEMPLATE / "fleet.yaml").read_text())
    jsonschema.validate(fleet, fleet_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"clusters": [{"name": "Bad_Name"}]}, fleet_schema)
