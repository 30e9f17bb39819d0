"""Membership by the GitOps engine's tracking: each rule finds the group's pods, and so
decides whether the group is stuck and moves; identity is the fallback."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pytest

from reconciler.fleet.model import EngineNames, Group
from reconciler.plan.explain import plan_json
from reconciler.plan.membership import members
from reconciler.plan.planner import Plan, make_plan
from reconciler.plan.tracking import (
    ARGOCD_INSTANCE_LABEL,
    ARGOCD_TRACKING_ID,
    FLUX_LABELS,
    IDENTITY,
    Owners,
)
from reconciler.status.model import KubeObject, Pod

from .builders import (
    CAPACITY_MESSAGE,
    NOW,
    cluster_state,
    deployment_manifest,
    fleet,
    group,
    minutes_ago,
    node,
    owner,
    pod,
)

ENGINES = EngineNames(
    argo_apps={"onprem-web": "web", "onprem-api": "api"},
    flux={"onprem": {("flux-system", "group-web"): "web"}},
)
FLUX = {"kustomize.toolkit.fluxcd.io/name": "group-web"}
FLUX_NS = {"kustomize.toolkit.fluxcd.io/namespace": "flux-system"}


def web_group() -> Group:
    """The group as written: its Deployment in `dev`. A kustomize namespace override puts
    it in `prod` on the cluster, which only the engine's tracking can tell."""
    return group("web", "onprem", [deployment_manifest("web", namespace="dev", cpu="2")])


def live_web(
    *, tracking_id: str = "", labels: Mapping[str, str] | None = None, namespace: str = "prod"
) -> tuple[list[Pod], list[KubeObject]]:
    """The live Deployment web (as applied) with its ReplicaSet and two pending pods."""
    deployment = KubeObject(
        kind="Deployment",
        namespace=namespace,
        name="web",
        uid="d-web",
        labels=dict(labels or {}),
        tracking_id=tracking_id,
    )
    # The Deployment controller copies its annotations onto its ReplicaSets.
    replica_set = KubeObject(
        kind="ReplicaSet",
        namespace=namespace,
        name="web-7d9f8",
        uid="rs-web",
        owners=(owner("Deployment", "web", uid="d-web"),),
        tracking_id=tracking_id,
    )
    pods = [
        pod(
            f"web-7d9f8-{suffix}",
            namespace=namespace,
            cpu="2",
            unschedulable=CAPACITY_MESSAGE,
            since=minutes_ago(10),
            owners=[owner("ReplicaSet", "web-7d9f8", uid="rs-web")],
            labels={"app.kubernetes.io/instance": "onprem-web"} if labels is None else {},
        )
        for suffix in ("aaaaa", "bbbbb")
    ]
    return pods, [deployment, replica_set]


def plan(
    groups: Sequence[Group],
    pods: Sequence[Pod],
    objects: Sequence[KubeObject],
    *,
    engines: EngineNames = ENGINES,
) -> Plan:
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="1")], pods, objects),
        "cloud": cluster_state("cloud", [node("c1", cpu="8")]),
    }
    return make_plan(
        dataclasses.replace(fleet(("onprem", "cloud"), groups), engines=engines), states, now=NOW
    )


@pytest.mark.parametrize(
    ("tracking_id", "labels", "rule"),
    [
        ("onprem-web:apps/Deployment:prod/web", {}, ARGOCD_TRACKING_ID),
        ("", {"app.kubernetes.io/instance": "onprem-web"}, ARGOCD_INSTANCE_LABEL),
        ("", {**FLUX, **FLUX_NS}, FLUX_LABELS),
    ],
)
def test_the_engines_tracking_finds_pods_the_identity_misses(
    tracking_id: str, labels: dict[str, str], rule: str
) -> None:
    pods, objects = live_web(tracking_id=tracking_id, labels=labels)

    decided = plan([web_group()], pods, objects).decisions[0]

    assert (decided.state, decided.action, decided.target) == ("stuck", "move", "cloud")
    assert decided.membership == ((rule, 2),)


def test_without_tracking_the_renamed_objects_belong_to_no_group() -> None:
    pods, objects = live_web(labels={})

    decided = plan([web_group()], pods, objects).decisions[0]

    # Nothing of the group is seen by identity: it is absent, never moved, never running.
    assert (decided.state, decided.action) == ("absent", "report")
    assert decided.membership == ()


def test_identity_is_the_fallback_and_is_told() -> None:
    pods, objects = live_web(labels={}, namespace="dev")

    result = plan([web_group()], pods, objects)

    decided = result.decisions[0]
    assert (decided.state, decided.action) == ("stuck", "move")
    assert plan_json(result)["decisions"][0]["membership"] == {IDENTITY: 2}


def test_a_tracking_id_that_names_another_object_is_not_this_objects() -> None:
    # Argo CD counts an id only on the object it names (IsSelfReferencedObj): here the
    # Deployment carries an id copied from some other object.
    pods, objects = live_web(tracking_id="onprem-web:apps/Deployment:prod/other", labels={})

    assert plan([web_group()], pods, objects).decisions[0].state == "absent"


@pytest.mark.parametrize(
    "value",
    [
        "onprem-web",
        "onprem-web:apps/Deployment",
        "onprem-web:Deployment:prod/web",
        "onprem-web:a/b/c:prod/web",
    ],
)
def test_a_malformed_tracking_id_is_ignored(value: str) -> None:
    pods, objects = live_web(tracking_id=value, labels={})

    assert plan([web_group()], pods, objects).decisions[0].state == "absent"


def test_tracking_wins_over_identity() -> None:
    # `api` declares a Deployment named web in prod too, but Argo CD applied it for web.
    api = group("api", "onprem", [deployment_manifest("web", namespace="prod", cpu="2")])
    pods, objects = live_web(tracking_id="onprem-web:apps/Deployment:prod/web", labels={})

    found = members(
        cluster_state("onprem", [], pods, objects),
        Owners({("Deployment", "prod", "web"): "api"}, argo_apps=ENGINES.argo_apps),
    )

    assert list(found.pods) == ["web"] and found.rules == {"web": {ARGOCD_TRACKING_ID: 2}}
    assert plan([web_group(), api], pods, objects).decisions[1].membership == (
        (ARGOCD_TRACKING_ID, 2),
    )


def test_an_unknown_application_or_kustomization_falls_back_to_identity() -> None:
    labels = {
        "app.kubernetes.io/instance": "infrastructure",
        "kustomize.toolkit.fluxcd.io/name": "apps",
        **FLUX_NS,
    }
    pods, objects = live_web(
        tracking_id="infrastructure:apps/Deployment:dev/web", labels=labels, namespace="dev"
    )

    decided = plan([web_group()], pods, objects).decisions[0]

    assert decided.membership == ((IDENTITY, 2),)


def test_flux_labels_count_only_on_their_cluster() -> None:
    # Flux's per-group Kustomizations are per cluster: cloud has none named group-web.
    pods, objects = live_web(labels={**FLUX, **FLUX_NS})
    state = cluster_state("cloud", [], pods, objects)

    on_cloud = members(state, Owners({}, flux=ENGINES.flux.get("cloud", {})))
    on_onprem = members(state, Owners({}, flux=ENGINES.flux["onprem"]))

    assert on_cloud.pods == {} and list(on_onprem.pods) == ["web"]


def test_pods_own_template_labels_do_not_count_only_their_owners_marks() -> None:
    # Pods copy the template's app.kubernetes.io/instance (Helm charts set it): Argo CD
    # counts marks only on objects without owners, and so do we.
    pods, objects = live_web(labels=None)  # pods labelled onprem-web, Deployment unmarked

    assert plan([web_group()], pods, objects).decisions[0].state == "absent"


def test_a_bare_pod_is_tracked_by_its_own_marks() -> None:
    bare = dataclasses.replace(
        pod("solo", namespace="prod", cpu="2", unschedulable=CAPACITY_MESSAGE),
        tracking_id="onprem-web:/Pod:prod/solo",
    )

    found = members(cluster_state("onprem", [], [bare]), Owners({}, argo_apps=ENGINES.argo_apps))

    assert found.rules == {"web": {ARGOCD_TRACKING_ID: 1}}


def test_ray_pods_reach_a_tracked_ray_service() -> None:
    service = KubeObject(
        kind="RayService",
        namespace="ml",
        name="serve",
        uid="rs-1",
        tracking_id="onprem-api:ray.io/RayService:ml/serve",
    )
    cluster = KubeObject(
        kind="RayCluster",
        namespace="ml",
        name="serve-x7k2p",
        owners=(owner("RayService", "serve", uid="rs-1"),),
    )
    head = pod(
        "serve-x7k2p-head",
        namespace="ml",
        labels={"ray.io/cluster": "serve-x7k2p"},
        owners=[owner("RayCluster", "serve-x7k2p")],
    )

    found = members(
        cluster_state("onprem", [], [head], [service, cluster]),
        Owners({}, argo_apps=ENGINES.argo_apps),
    )

    assert found.rules == {"api": {ARGOCD_TRACKING_ID: 1}}


def test_generated_config_maps_with_hashed_names_do_not_confuse_membership() -> None:
    # configMapGenerator / secretGenerator name web-settings-<hash>; a new render has a new
    # hash. Pods are matched through their owners, never through what they mount.
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web-settings-g5t8b2dk4h", "namespace": "prod"},
        "data": {"mode": "new"},
    }
    deployment = deployment_manifest(
        "web",
        namespace="prod",
        cpu="2",
        volumes=[{"name": "settings", "configMap": {"name": "web-settings-g5t8b2dk4h"}}],
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "web-token-8m2kh7c5tf", "namespace": "prod"},
        "type": "Opaque",
        "data": {"token": "c2Vrcml0"},
    }
    web = group("web", "onprem", [config, secret, deployment])
    # A ReplicaSet whose name looks like the ConfigMap's base plus a hash: not read, it is
    # guessed as Deployment web-settings, which no group declares: the pod is nobody's.
    stray = pod(
        "web-settings-7fh2k9m4bt-aaaaa",
        namespace="prod",
        cpu="2",
        unschedulable=CAPACITY_MESSAGE,
        owners=[owner("ReplicaSet", "web-settings-7fh2k9m4bt")],
    )
    pods, objects = live_web(tracking_id="onprem-web:apps/Deployment:prod/web", labels={})

    decided = plan([web], [*pods, stray], objects).decisions[0]

    assert (decided.state, decided.action) == ("stuck", "move")
    assert decided.membership == ((ARGOCD_TRACKING_ID, 2),)
    assert len(decided.stuck_pods) == 2


def test_explain_says_which_rule_found_the_pods() -> None:
    from reconciler.plan.explain_group import explain_group

    pods, objects = live_web(labels={**FLUX, **FLUX_NS})
    states = {
        "onprem": cluster_state("onprem", [node("o1", cpu="1")], pods, objects),
        "cloud": cluster_state("cloud", [node("c1", cpu="8")]),
    }
    the_fleet = dataclasses.replace(fleet(("onprem", "cloud"), [web_group()]), engines=ENGINES)
    decided = make_plan(the_fleet, states, now=NOW).decisions[0]

    told = explain_group(the_fleet.groups[0], decided, states=states, now=NOW)

    assert (
        "members:   2 pod(s) by Flux's kustomize.toolkit.fluxcd.io/name and /namespace labels"
        in told
    )


def test_daemon_set_pods_reach_their_tracked_daemon_set() -> None:
    agent = KubeObject(
        kind="DaemonSet", namespace="prod", name="agent", uid="ds-1", labels={**FLUX, **FLUX_NS}
    )
    pods = [
        pod(
            f"agent-{n}", namespace="prod", node=n, owners=[owner("DaemonSet", "agent", uid="ds-1")]
        )
        for n in ("n1", "n2")
    ]

    found = members(
        cluster_state("onprem", [], pods, [agent]), Owners({}, flux=ENGINES.flux["onprem"])
    )

    assert found.rules == {"web": {FLUX_LABELS: 2}}
