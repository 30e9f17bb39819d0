"""Job: the pods that run at once; CronJob: none."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.workloads.demand import WorkloadError
from reconciler.workloads.registry import demand_of

from .builders import claim_volume, cron_job, job


@pytest.mark.parametrize(
    ("options", "pods"),
    [
        pytest.param({}, 1, id="defaults: one pod"),
        pytest.param({"parallelism": 4}, 4, id="parallelism"),
        pytest.param({"parallelism": 4, "completions": 2}, 2, id="fewer completions than parallel"),
        pytest.param({"parallelism": 2, "completions": 10}, 2, id="more completions than parallel"),
        pytest.param({"completions": 5}, 1, id="completions alone run one at a time"),
        pytest.param({"parallelism": 0}, 0, id="parallelism zero"),
        pytest.param({"parallelism": 4, "suspend": True}, 0, id="suspended"),
        pytest.param({"parallelism": 3, "suspend": False}, 3, id="not suspended"),
    ],
)
def test_job_pods_run_in_parallel(options: dict[str, Any], pods: int) -> None:
    found = demand_of(job("etl", cpu="2", **options), default_namespace="team")
    assert found is not None
    assert [shape.name for shape in found.shapes] == [
        f"team/etl pod {i}" for i in range(1, pods + 1)
    ]
    assert all(shape.requests == {"cpu": 2000} for shape in found.shapes)


def test_job_mounting_a_claim_is_stateful() -> None:
    found = demand_of(job(volumes=[claim_volume()]), default_namespace="team")
    assert found is not None and found.stateful


def test_cron_job_has_no_standing_demand() -> None:
    assert demand_of(cron_job(), default_namespace="team") is None


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"parallelism": "2"}, "spec.parallelism"),
        ({"completions": -1}, "spec.completions"),
        ({"suspend": "yes"}, "spec.suspend"),
        ({"memory": "1.2.3"}, "spec.template.spec.containers[0].resources.requests.memory"),
    ],
)
def test_bad_job_names_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(WorkloadError) as caught:
        demand_of(job(**options), default_namespace="team")
    assert caught.value.field == field
