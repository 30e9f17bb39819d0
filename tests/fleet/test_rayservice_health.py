"""The template's Argo CD health check for ray.io/RayService, run in a real Lua interpreter.

Argo CD runs `resource.customizations.health.ray.io_RayService` with the object as the
global `obj` and takes the table it returns; here lupa's Lua runs the same text as the body
of a function of `obj`, with the object converted the way Argo CD converts JSON (arrays
become 1-based tables).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lupa
import pytest
import yaml

PATCH = (
    Path(__file__).parents[2] / "repo-template" / "bootstrap" / "argocd" / "argocd-cm-patch.yaml"
)
KEY = "resource.customizations.health.ray.io_RayService"


@pytest.fixture(scope="module")
def health() -> Any:
    document = yaml.safe_load(PATCH.read_text())
    assert document["metadata"] == {"name": "argocd-cm", "namespace": "argocd"}
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    script = lua.eval(f"function(obj)\n{document['data'][KEY]}\nend")

    def run(obj: dict[str, Any]) -> dict[str, str]:
        return dict(script(lua.table_from(obj, recursive=True)))

    return run


def ray_service(status: dict[str, Any] | None, *, generation: int = 2) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "RayService",
        "metadata": {"name": "ray-pred", "generation": generation},
    }
    if status is not None:
        obj["status"] = status
    return obj


def conditions(**statuses: str) -> list[dict[str, str]]:
    return [
        {"type": t, "status": s, "reason": f"{t}Reason", "message": f"{t} is {s}"}
        for t, s in statuses.items()
    ]


def test_a_rayservice_without_status_is_progressing(health: Any) -> None:
    assert health(ray_service(None))["status"] == "Progressing"


def test_ready_true_is_healthy(health: Any) -> None:
    status = {
        "observedGeneration": 2,
        "conditions": conditions(Ready="True", UpgradeInProgress="False"),
    }
    assert health(ray_service(status)) == {"status": "Healthy", "message": "Ready is True"}


def test_ready_false_is_progressing_with_its_message(health: Any) -> None:
    status = {"observedGeneration": 2, "conditions": conditions(Ready="False")}
    assert health(ray_service(status)) == {"status": "Progressing", "message": "Ready is False"}


def test_a_pending_upgrade_is_progressing_even_while_serving(health: Any) -> None:
    status = {
        "observedGeneration": 2,
        "conditions": conditions(Ready="True", UpgradeInProgress="True"),
    }
    assert health(ray_service(status))["status"] == "Progressing"


def test_an_unobserved_generation_is_progressing(health: Any) -> None:
    status = {"observedGeneration": 1, "conditions": conditions(Ready="True")}
    assert health(ray_service(status, generation=2))["status"] == "Progressing"


def test_suspended_is_suspended(health: Any) -> None:
    status = {"observedGeneration": 2, "conditions": conditions(Ready="False", Suspended="True")}
    assert health(ray_service(status))["status"] == "Suspended"


def test_older_operators_serviceStatus_running_is_healthy(health: Any) -> None:
    assert health(ray_service({"serviceStatus": "Running"}))["status"] == "Healthy"


def test_older_operators_other_serviceStatus_is_progressing(health: Any) -> None:
    result = health(ray_service({"serviceStatus": "WaitForServeDeploymentReady"}))
    assert result == {
        "status": "Progressing",
        "message": "serviceStatus WaitForServeDeploymentReady",
    }
