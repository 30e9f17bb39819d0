"""The planner's verdict against a real kube-scheduler, on random constrained groups.

Opt in: start shared/tools/real-kube, then
    REAL_KUBECONFIG=~/.cache/real-kube/kube.kubeconfig pytest -m real_scheduler
(REAL_SCHEDULER_CASES, default 100; REAL_SCHEDULER_SEED, default 1). The cluster is
Kubernetes 1.20: the cases use only fields it knows, and the planner reads its version.
A case agrees when the planner says "fits" exactly when the scheduler binds every pod.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.core.config import ClusterConfig
from reconciler.plan.fit import free_on_nodes
from reconciler.plan.scheduler.board import view_of
from reconciler.plan.scheduler.place import fits_cluster, hazard_matches
from reconciler.status.live import read_cluster
from reconciler.workloads.pod_spec import shape_from_pod_spec
from tests.plan.builders import sure
from tests.real_scheduler.cases import Case, make_case

pytestmark = pytest.mark.real_scheduler

CONTEXT = "kube"


@pytest.fixture(scope="module")
def core() -> Iterator[Any]:
    path = os.environ.get("REAL_KUBECONFIG")
    if not path:
        pytest.skip("REAL_KUBECONFIG is not set (see shared/tools/real-kube)")
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=os.path.expanduser(path), context=CONTEXT)
    yield client.CoreV1Api(api)
    api.close()


def _scheduler_verdict(v1: Any, case: Case) -> tuple[bool, list[str], str]:
    """Create the group's pods one by one; each waits until bound or refused."""
    placed: list[str] = []
    for pod in case.group:
        v1.create_namespaced_pod(case.namespace, pod)
        name = pod["metadata"]["name"]
        deadline = time.monotonic() + 30
        while True:
            found = v1.read_namespaced_pod(name, case.namespace)
            if found.spec.node_name:
                placed.append(found.spec.node_name)
                break
            refused = [
                c.message
                for c in found.status.conditions or []
                if c.type == "PodScheduled" and c.status == "False"
            ]
            if refused:
                return False, placed, refused[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"case {case.number}: {name} neither bound nor refused")
            time.sleep(0.05)
    return True, placed, ""


def _planner_verdict(case: Case, kubeconfig: str) -> tuple[bool, list[str], str, bool | None]:
    state = read_cluster(
        ClusterConfig(name=CONTEXT, context=CONTEXT), kubeconfig=os.path.expanduser(kubeconfig)
    )
    assert state.known, state.reason
    shapes = [
        shape_from_pod_spec(
            pod["spec"],
            name=pod["metadata"]["name"],
            namespace=case.namespace,
            labels=pod["metadata"]["labels"],
        )
        for pod in case.group
    ]
    free, view = free_on_nodes(state), view_of(state)
    fit = fits_cluster(
        shapes,
        cluster=CONTEXT,
        nodes=state.nodes,
        free=free,
        reserve={},
        view=view,
        runtime_overheads=state.runtime_overheads,
    )
    # The planner's shortcut, where it asks it: no bound pod's anti-affinity selects the group.
    verdict = None
    if not hazard_matches(shapes, view=view):
        found = sure(shapes, state.nodes, state.pods)
        verdict = found.fits if found is not None else None
    return fit.fits, [p.node for p in fit.placements], fit.short, verdict


def _set_up(v1: Any, case: Case) -> None:
    v1.create_namespace({"metadata": {"name": case.namespace, "labels": {"case": "real"}}})
    for node in case.nodes:
        v1.create_node(node)
    time.sleep(1.0)  # the scheduler learns about nodes through a watch
    for pod in case.bound:
        v1.create_namespaced_pod(case.namespace, pod)


def _tear_down(v1: Any, case: Case) -> None:
    for pod in v1.list_namespaced_pod(case.namespace).items:
        v1.delete_namespaced_pod(pod.metadata.name, case.namespace, grace_period_seconds=0)
    for node in case.nodes:
        v1.delete_node(node["metadata"]["name"])
    v1.delete_namespace(case.namespace)


def test_planner_agrees_with_the_real_scheduler(core: Any) -> None:
    kubeconfig = os.environ["REAL_KUBECONFIG"]
    count = int(os.environ.get("REAL_SCHEDULER_CASES", "100"))
    seed = int(os.environ.get("REAL_SCHEDULER_SEED", "1"))
    agree = false_fits = false_misses = constrained = placed = 0
    sure_verdicts = sure_wrong = 0
    lines = []
    for number in range(count):
        case = make_case(number, seed=seed)
        _set_up(core, case)
        try:
            planned, planned_nodes, why, sure = _planner_verdict(case, kubeconfig)
            real, real_nodes, message = _scheduler_verdict(core, case)
        finally:
            _tear_down(core, case)
        constrained += any(
            "affinity" in p["spec"]
            or "topologySpreadConstraints" in p["spec"]
            or "ports" in p["spec"]["containers"][0]
            for p in case.group
        )
        placed += real
        if sure is not None:
            sure_verdicts += 1
            sure_wrong += sure and not real
        if planned == real:
            agree += 1
        elif planned:
            false_fits += 1
        else:
            false_misses += 1
        if planned != real:
            lines.append(
                f"case {number}: planner {planned} {planned_nodes} ({why}); "
                f"scheduler {real} {real_nodes} ({message})"
            )
    summary = (
        f"{agree}/{count} agree ({constrained} groups constrained; the scheduler placed every "
        f"pod in {placed}, not in {count - placed}); "
        f"planner fits where the scheduler cannot: {false_fits}; "
        f"planner refuses where the scheduler places: {false_misses}; "
        f"sure-fit shortcut: {sure_verdicts} verdicts, {sure_wrong} fits the scheduler refused"
    )
    report = os.environ.get("REAL_SCHEDULER_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as stream:
            stream.write("\n".join([summary, *lines]) + "\n")
    print(summary, *lines, sep="\n")
    assert false_fits == 0, summary
    assert sure_wrong == 0, summary
    assert agree >= 0.99 * count, summary
