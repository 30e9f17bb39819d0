"""One pass of decisions: every group judged, stuck ones matched to a cluster that fits.

Pure: fleet, cluster states, history and the current time in; a Plan out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.config import ClusterConfig, format_duration
from reconciler.core.problems import Problem
from reconciler.fleet.model import Fleet, Group
from reconciler.plan.autoscaled import live_scale
from reconciler.plan.choice import Candidate, headroom, pick_target
from reconciler.plan.daemon_sets import demand_on
from reconciler.plan.demand import Demand, group_demand
from reconciler.plan.failback import PASSES_NEEDED, fits_home, home_of
from reconciler.plan.fit import (
    Placement,
    Rankings,
    ShapeKey,
    charge_shape,
    free_on_nodes,
    shape_keys_of,
    with_pods_added_back,
)
from reconciler.plan.landing import (
    ABSENT,
    ARRIVING,
    LANDED,
    NOT_ARRIVED,
    Landing,
    ObjectIndex,
    index_objects,
    judge_landing,
    own_objects,
)
from reconciler.plan.membership import Members, declared_objects, members
from reconciler.plan.phases import (
    RayClusterStatus,
    phase_verdict,
    ray_cluster_status,
    ray_worker_shapes,
    target_health,
)
from reconciler.plan.scheduler.board import ClusterView, Peer, view_of
from reconciler.plan.scheduler.place import fits_cluster, hazard_matches
from reconciler.plan.strategy import MAKE_BEFORE_BREAK, StrategyChoice, choose_strategy
from reconciler.plan.stuck import Health, StuckPod, judge
from reconciler.plan.sure_fit import (
    FilterIds,
    Needs,
    RoomBounds,
    needs_of,
    provisionally_fits,
    surely_fits,
)
from reconciler.plan.tracking import Owners, objects_by_group, owners_for
from reconciler.plan.usage import Usage, cluster_usage, pods_use
from reconciler.status.model import ClusterState, KubeObject, Pod
from reconciler.workloads.shapes import PodShape, Resources

_RAY_KINDS = frozenset({"RayService", "RayCluster", "RayJob"})


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the pass decided for one group, with the evidence."""

    group: str
    cluster: str
    # running | waiting | pending-other | stuck | upgrade-stalled | unknown | invalid | moving,
    # or a landing state: arriving | landed | not-arrived | absent | not-observed
    state: str
    action: str  # move | stay | report
    summary: str  # one plain sentence
    target: str = ""
    reason: str = ""  # Placement-Reason trailer: upgrade-stalled | capacity
    stuck_pods: tuple[StuckPod, ...] = ()
    ray_service: str = ""
    demand: Demand | None = None
    candidates: tuple[Candidate, ...] = ()
    guards: tuple[str, ...] = ()  # what held a move back, in plain words
    home_fits: bool | None = None  # failback groups: the home cluster fits with margin now
    phase: str = ""  # make-before-break: copy | finish | revert ("" moves the whole group)
    strategy: str = ""  # moves: which strategy and why, in plain words
    landing: Landing | None = None  # the landing states: since when, until when, the evidence
    # How its pods on its cluster were found to be its own: (rule, pods) per membership rule.
    membership: tuple[tuple[str, int], ...] = ()
    # What the group's bound pods take now, per cluster where it has some (moves and
    # groups with candidates only): the capacity table's "after the move" reads it.
    own_use: Mapping[str, Resources] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ClusterSummary:
    """A cluster as the pass saw it."""

    name: str
    known: bool
    reason: str = ""
    nodes: int = 0
    pods: int = 0
    skipped: tuple[str, ...] = ()
    usage: Usage | None = None  # schedulable capacity and use at the start of the pass


@dataclasses.dataclass(frozen=True)
class Plan:
    """The outcome of one pass: a decision per group, the clusters, the input problems."""

    now: dt.datetime
    decisions: tuple[Decision, ...]
    clusters: tuple[ClusterSummary, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def moves(self) -> tuple[Decision, ...]:
        """The decisions that move a group."""
        return tuple(d for d in self.decisions if d.action == "move")

    @property
    def nothing_judged(self) -> str:
        """Why nothing could be judged (every cluster's status unknown), or ''."""
        if not self.clusters or any(c.known for c in self.clusters):
            return ""
        unknown = "; ".join(f"{c.name}: {c.reason}" for c in self.clusters)
        return f"every cluster's status is unknown ({unknown})"


@dataclasses.dataclass(frozen=True)
class Veto:
    """A move people refused: its pull request was closed without merging."""

    target: str
    until: dt.datetime
    pull_request: int = 0


@dataclasses.dataclass
class _Capacity:
    """Free room per node of each known cluster, shrinking as moves are chosen in the pass."""

    states: Mapping[str, ClusterState]
    free: dict[str, dict[str, dict[str, int]]]
    # Per cluster, its nodes ranked per pod shape on `free` (see fits_group); emptied when
    # `free` changes, so the many fits of one pass score each node once per shape.
    rankings: dict[str, Rankings] = dataclasses.field(default_factory=dict)
    # Per cluster, its room arranged for sure_fit's bound; told when `free` changes.
    bounds: dict[str, RoomBounds] = dataclasses.field(default_factory=dict)
    filter_ids: FilterIds = dataclasses.field(default_factory=FilterIds)
    reserves: dict[str, Resources] = dataclasses.field(default_factory=dict)
    # Per cluster, its bound pods for the full simulation, and the pods this pass's choices
    # placed there (pod-to-pod rules see them as the scheduler will).
    views: dict[str, ClusterView] = dataclasses.field(default_factory=dict)
    added: dict[str, list[Peer]] = dataclasses.field(default_factory=dict)

    def view(self, cluster: str, *, own: Sequence[Pod] = ()) -> ClusterView:
        """The cluster's bound pods, without the group's `own` pods there (they make way)."""
        extra = self.added.get(cluster, ())
        if own:
            without = frozenset((p.namespace, p.name) for p in own)
            return view_of(self.states[cluster], without=without, extra=extra)
        found = self.views.get(cluster)
        if found is None:
            found = self.views[cluster] = view_of(self.states[cluster], extra=extra)
        return found

    def reserve(self, cluster: ClusterConfig) -> Resources:
        """The cluster's reserve in milli-units, parsed once per pass."""
        found = self.reserves.get(cluster.name)
        if found is None:
            found = self.reserves[cluster.name] = cluster.reserve_milli
        return found

    def rankings_of(self, cluster: str) -> Rankings:
        found = self.rankings.get(cluster)
        if found is None:
            found = self.rankings[cluster] = Rankings(kube_minor=self.states[cluster].kube_minor)
        return found

    def bounds_of(self, cluster: str) -> RoomBounds:
        found = self.bounds.get(cluster)
        if found is None:
            found = self.bounds[cluster] = RoomBounds(self.states[cluster].nodes, self.filter_ids)
        return found

    def take(
        self, cluster: str, shapes: Sequence[PodShape], *, placements: Sequence[Placement]
    ) -> None:
        # Pair shapes with placements by position: shape names are not unique (a Deployment
        # and a ReplicaSet of the same name both make "<ns>/<name> replica 1").
        self.rankings.pop(cluster, None)
        if cluster in self.bounds:
            self.bounds[cluster].room_changed()
        room = self.free[cluster]
        self.views.pop(cluster, None)
        added = self.added.setdefault(cluster, [])
        for shape, placement in zip(shapes, placements, strict=True):
            charge_shape(room[placement.node], shape.requests)
            added.append(Peer(shape.namespace, shape.labels, placement.node, shape))


def make_plan(
    fleet: Fleet,
    states: Mapping[str, ClusterState],
    *,
    now: dt.datetime,
    last_moves: Mapping[str, dt.datetime] | None = None,
    proposed: Mapping[str, str] | None = None,
    vetoes: Mapping[str, Sequence[Veto]] | None = None,
    home_streaks: Mapping[str, int] | None = None,
) -> Plan:
    """Judge every group and choose a target for each stuck one; deterministic for equal input.

    `last_moves`: when each group last moved (from git history). `proposed`: the target of
    each group's open move pull request; such a group chooses first (its proposal holds
    that capacity) and keeps that target while it still fits. `vetoes`: moves people
    refused, not proposed again until the veto ends. `home_streaks`: for failback groups,
    on how many passes in a row before this one their home cluster fitted with margin.
    """
    last_moves = last_moves or {}
    proposed = proposed or {}
    known = {name: s for name, s in states.items() if s.known}
    owners, found, tracked = _memberships(fleet, known)
    pods = {name: m.pods for name, m in found.items()}
    capacity = _Capacity(states=known, free={name: free_on_nodes(s) for name, s in known.items()})
    usage = {name: cluster_usage(s.nodes, capacity.free[name]) for name, s in known.items()}
    problems = list(fleet.problems)
    # Every group's demand, stuck or not: a bad manifest is reported before it matters.
    # Deployments that leave replicas to an HPA count what their current cluster runs.
    scales = {name: live_scale(state) for name, state in known.items()}
    demands = {
        group.name: group_demand(group, live=scales.get(group.cluster)) for group in fleet.groups
    }
    for demand in demands.values():
        problems += demand.problems
    decisions: dict[str, Decision] = {}
    judged: list[tuple[Group, Health]] = []
    for group in fleet.groups:
        state = states.get(group.cluster)
        if state is None or not state.known:
            why = state.reason if state is not None else "no status read"
            decisions[group.name] = Decision(
                group=group.name,
                cluster=group.cluster,
                state="unknown",
                action="report",
                summary=f"not judged: the status of {group.cluster} is unknown ({why})",
            )
            continue
        if unserved := _unserved(group, state):
            decisions[group.name] = Decision(
                group=group.name,
                cluster=group.cluster,
                state="unknown",
                action="report",
                summary=f"not judged: {group.cluster} does not serve ray.io/v1 {unserved} "
                "(KubeRay is not installed, or only partly), so the group's Ray objects cannot "
                "be read there",
            )
            continue
        health = judge(
            pods[group.cluster].get(group.name, []),
            ray_services=_ray_services(group, state, tracked=tracked[group.cluster]),
            now=now,
            grace=group.policy.pending_grace_period,
        )
        judged.append((group, health))
    # Open proposals first (an open pull request holds its target's capacity), then the
    # longest stuck; capacity taken by one choice is gone for the next.
    judged.sort(
        key=lambda item: (item[0].name not in proposed, _stuck_since(item[1]), item[0].name)
    )
    context = _Pass(
        fleet=fleet,
        capacity=capacity,
        pods=pods,
        owners=owners,
        tracked=tracked,
        now=now,
        proposed=proposed,
        vetoes=vetoes or {},
        home_streaks=home_streaks or {},
    )
    for group, health in judged:
        decisions[group.name] = _decide(
            group,
            health,
            context=context,
            last_move=last_moves.get(group.name),
            demand=demands[group.name],
        )
    ordered = tuple(
        _with_own_use(_with_membership(decisions[g.name], found.get(g.cluster)), pods=pods)
        for g in sorted(fleet.groups, key=lambda g: g.name)
    )
    clusters = tuple(
        ClusterSummary(
            name=c.name,
            known=bool(states.get(c.name) and states[c.name].known),
            reason=states[c.name].reason if c.name in states else "no status read",
            nodes=len(states[c.name].nodes) if c.name in states else 0,
            pods=len(states[c.name].pods) if c.name in states else 0,
            skipped=states[c.name].skipped if c.name in states else (),
            usage=usage.get(c.name),
        )
        for c in fleet.config.clusters
    )
    return Plan(now=now, decisions=ordered, clusters=clusters, problems=tuple(problems))


def _memberships(
    fleet: Fleet, known: Mapping[str, ClusterState]
) -> tuple[dict[str, Owners], dict[str, Members], dict[str, dict[str, list[KubeObject]]]]:
    """Per known cluster: who owns what, the groups' pods found there, and the objects the
    engines' tracking names as a group's (a RayService in a namespace the manifests do not
    say, say)."""
    declared = declared_objects(fleet.groups)
    owners = {name: owners_for(name, declared=declared, engines=fleet.engines) for name in known}
    found = {name: members(state, owners[name]) for name, state in known.items()}
    tracked = {name: objects_by_group(state, owners[name]) for name, state in known.items()}
    return owners, found, tracked


def _with_membership(decision: Decision, found: Members | None) -> Decision:
    """The decision with the rules that matched its group's pods on its cluster."""
    rules = found.rules.get(decision.group) if found is not None else None
    if not rules:
        return decision
    return dataclasses.replace(decision, membership=tuple(sorted(rules.items())))


def _with_own_use(decision: Decision, *, pods: Mapping[str, Mapping[str, list[Pod]]]) -> Decision:
    """The decision with what the group takes now on its cluster (and its move's target)."""
    if not decision.target and not decision.candidates:
        return decision
    own = {}
    for cluster in dict.fromkeys((decision.cluster, decision.target)):
        taken = pods_use(pods.get(cluster, {}).get(decision.group, []))
        if cluster and taken:
            own[cluster] = taken
    return dataclasses.replace(decision, own_use=own) if own else decision


@dataclasses.dataclass(frozen=True)
class _Pass:
    """What every decision of one pass shares."""

    fleet: Fleet
    capacity: _Capacity
    pods: Mapping[str, Mapping[str, list[Pod]]]
    owners: Mapping[str, Owners]
    # Per cluster, its objects by the group the engines' tracking names.
    tracked: Mapping[str, Mapping[str, list[KubeObject]]]
    now: dt.datetime
    proposed: Mapping[str, str]
    vetoes: Mapping[str, Sequence[Veto]]
    home_streaks: Mapping[str, int]
    # Per stuck group, what its candidates all read of its pods (filled as groups are judged).
    asks: dict[str, tuple[Needs, tuple[ShapeKey, ...]]] = dataclasses.field(default_factory=dict)
    # Per cluster, its objects by identity (kind, namespace, name), indexed when first asked.
    identities: dict[str, ObjectIndex] = dataclasses.field(default_factory=dict)

    def objects_of(self, group: Group) -> list[KubeObject]:
        """The live objects on the group's cluster that the group declares or the engine
        tracks as the group's."""
        cluster = group.cluster
        index = self.identities.get(cluster)
        if index is None:
            index = self.identities[cluster] = index_objects(self.capacity.states[cluster].objects)
        return _with_tracked(own_objects(group, index), self.tracked[cluster].get(group.name, ()))


def _decide(
    group: Group,
    health: Health,
    *,
    context: _Pass,
    last_move: dt.datetime | None,
    demand: Demand,
) -> Decision:
    if group.moving_to:
        return _in_progress(group, demand, context=context)
    now, capacity = context.now, context.capacity
    base: dict[str, Any] = {
        "group": group.name,
        "cluster": group.cluster,
        "state": health.state,
        "stuck_pods": health.stuck_pods,
        "ray_service": health.ray_service,
    }
    landing = judge_landing(
        group,
        pods=context.pods[group.cluster].get(group.name, []),
        objects=context.objects_of(group),
        last_move=last_move,
        now=now,
    )
    if landing.state:
        return _landed_or_not(
            group, health, demand, base=base, landing=landing, context=context, last_move=last_move
        )
    if health.state == "running":
        if home_of(group) is not None and not demand.problems:
            return _failback(group, demand, base=base, context=context, last_move=last_move)
        return Decision(**base, action="stay", summary=f"running on {group.cluster}")
    if not health.movable:
        return Decision(
            **base, action="report", summary=_not_movable_summary(health, group, now=now)
        )
    if demand.problems:
        return Decision(
            **{**base, "state": "invalid"},
            action="report",
            demand=demand,
            summary=f"stuck on {group.cluster}, but its manifests have errors: not moved",
            guards=("the demand cannot be computed from invalid manifests",),
        )
    candidates = _candidates(group, demand, context=context)
    guards = _guards(group, demand, now=now, last_move=last_move)
    reason = "upgrade-stalled" if health.state == "upgrade-stalled" else "capacity"
    what = "upgrade stalled" if reason == "upgrade-stalled" else "stuck"
    if guards:
        return Decision(
            **base,
            action="report",
            demand=demand,
            candidates=candidates,
            guards=guards,
            reason=reason,
            summary=f"{what} on {group.cluster}; not moved: {guards[0]}",
        )
    candidates, target = _placed_target(group, demand, candidates, context=context)
    if target is None:
        return Decision(
            **base,
            action="report",
            demand=demand,
            candidates=candidates,
            reason=reason,
            guards=("no other allowed cluster fits one copy",),
            summary=f"{what} on {group.cluster}; no other allowed cluster fits one copy",
        )
    placed = demand_on(demand, capacity.states[target.cluster].nodes)
    capacity.take(target.cluster, placed.shapes, placements=target.placements)
    choice = _strategy(group, context=context)
    return Decision(
        **base,
        action="move",
        phase=_first_phase(choice),
        strategy=choice.why,
        target=target.cluster,
        reason=reason,
        demand=demand,
        candidates=candidates,
        summary=f"{what} on {group.cluster}; move to {target.cluster}, which fits one copy",
    )


def _landed_or_not(
    group: Group,
    health: Health,
    demand: Demand,
    *,
    base: dict[str, Any],
    landing: Landing,
    context: _Pass,
    last_move: dt.datetime | None,
) -> Decision:
    """A group judged by its landing: never moved while arriving, nor counted as running.

    A landed group is treated as a running one (it may fail back); so is an absent one away
    from home, since going home can only help it. An arriving or not-arrived group is not
    judged stuck: its guards and, with capacity-stuck pods, its candidates are shown.
    """
    base = {**base, "state": landing.state, "landing": landing}
    failback = home_of(group) is not None and not demand.problems
    if landing.state in {LANDED, ABSENT} and failback:
        return _failback(group, demand, base=base, context=context, last_move=last_move)
    if landing.state == LANDED:
        return Decision(**base, action="stay", summary=landing.summary)
    if landing.state not in {ARRIVING, NOT_ARRIVED}:  # absent, not-observed
        action = "report" if landing.state == ABSENT else "stay"
        return Decision(**base, action=action, summary=landing.summary)
    if landing.state == ARRIVING:
        until = f"{landing.deadline:%H:%M}Z"
        held = f"it is arriving: not judged stuck on {group.cluster} before {until}"
    else:
        held = (
            f"it has not arrived: not judged stuck on {group.cluster} before "
            f"{landing.window_end:%H:%M}Z (the landing window: the cooldown or the arrival "
            "deadline, the longer)"
        )
    guards: tuple[str, ...] = (held,)
    guards += _guards(group, demand, now=context.now, last_move=last_move)
    candidates: tuple[Candidate, ...] = ()
    if health.movable and not demand.problems:
        candidates = _candidates(group, demand, context=context)
    return Decision(
        **base,
        action="report",
        demand=demand,
        candidates=candidates,
        guards=guards,
        summary=landing.summary,
    )


def _failback(
    group: Group,
    demand: Demand,
    *,
    base: dict[str, Any],
    context: _Pass,
    last_move: dt.datetime | None,
) -> Decision:
    """A running group away from home: move back after two passes that fit with margin."""
    home = home_of(group) or ""
    where = _where(base["state"], cluster=group.cluster)
    stay = f"{where}, away from its home {home}"
    state = context.capacity.states.get(home)
    config = context.fleet.config.cluster(home)
    if state is None or config is None:
        return Decision(**base, action="stay", summary=f"{stay}; {home}'s status is unknown")
    free, _ = _room_for(group, home, context=context)
    margin = group.policy.failback_margin
    there = demand_on(demand, state.nodes)
    fit = fits_home(
        there,
        home=home,
        nodes=state.nodes,
        free=free,
        reserve=config.reserve_milli,
        margin=margin,
        view=context.capacity.view(home, own=context.pods[home].get(group.name, [])),
        runtime_overheads=state.runtime_overheads,
    )
    detail = (
        f"fits with a {margin:.0%} margin ({len(fit.placements)} pods)"
        if fit.fits
        else f"does not fit with a {margin:.0%} margin: {fit.short}"
    )
    candidate = Candidate(
        home,
        fits=fit.fits,
        detail=detail,
        placements=fit.placements,
        headroom=headroom(fit, state.nodes) if fit.fits else 0.0,
    )
    decided = {**base, "candidates": (candidate,), "demand": demand, "home_fits": fit.fits}
    if not fit.fits:
        return Decision(**decided, action="stay", summary=f"{stay}; {home} {detail}")
    passes = context.home_streaks.get(group.name, 0) + 1
    guards = _guards(group, demand, now=context.now, last_move=last_move)
    guards = tuple(g for g in guards if not g.startswith("skipCapacityRelocate"))
    if passes < PASSES_NEEDED:
        guards += (
            f"{home} has fitted on {passes} pass(es) in a row; failback waits for {PASSES_NEEDED}",
        )
    if guards:
        return Decision(
            **decided,
            action="stay",
            guards=guards,
            summary=f"{stay}; {home} fits again, not yet: {guards[0]}",
        )
    context.capacity.take(home, there.shapes, placements=fit.placements)
    choice = _strategy(group, context=context)
    return Decision(
        **decided,
        action="move",
        phase=_first_phase(choice),
        strategy=choice.why,
        target=home,
        reason="failback",
        summary=f"{stay}; {home} {detail} on {passes} passes in a row: move back",
    )


def _where(state: str, *, cluster: str) -> str:
    """Where a group is, in words: "running on cloud", "absent from cloud"."""
    if state == ABSENT:
        return f"absent from {cluster} (nothing of it seen there)"
    return f"{'landed' if state == LANDED else 'running'} on {cluster}"


def _first_phase(choice: StrategyChoice) -> str:
    """A make-before-break move starts with a copy; a recreate moves in one commit."""
    return "copy" if choice.strategy == MAKE_BEFORE_BREAK else ""


def _strategy(group: Group, *, context: _Pass) -> StrategyChoice:
    """The strategy for moving the group off its cluster: its policy's, `auto` resolved."""
    state = context.capacity.states[group.cluster]
    return choose_strategy(
        group.policy.strategy,
        pods=context.pods[group.cluster].get(group.name, []),
        ray_services=_ray_services(group, state, tracked=context.tracked[group.cluster]),
        ray_clusters=_ray_clusters(group, state, tracked=context.tracked[group.cluster]),
        declared_ray_clusters=[m.name for m in group.manifests if m.kind == "RayCluster"],
    )


def _in_progress(group: Group, demand: Demand, *, context: _Pass) -> Decision:
    """A make-before-break move between its phases: finish, wait, or revert the copy."""
    target = group.moving_to
    base: dict[str, Any] = {"group": group.name, "cluster": group.cluster, "state": "moving"}
    state = context.capacity.states.get(target)
    if state is None:
        return Decision(
            **base,
            action="report",
            summary=f"copy on {target} in progress; {target}'s status is unknown",
        )
    health = target_health(
        context.pods[target].get(group.name, []),
        expected=len(demand_on(demand, state.nodes).shapes),
        ray_services=_ray_services(group, state, tracked=context.tracked[target]),
        ray_workers=ray_worker_shapes(demand.shapes),
        ray_clusters=_ray_clusters(group, state, tracked=context.tracked[target]),
    )
    marker = group.policy.move_in_progress
    verdict, words = phase_verdict(
        health,
        started=marker.started if marker is not None else None,
        now=context.now,
        deadline=group.policy.healthy_deadline,
    )
    if verdict == "finish":
        return Decision(
            **base,
            action="move",
            phase="finish",
            target=target,
            reason="make-before-break",
            demand=demand,
            summary=f"{words}: remove the group from {group.cluster}",
        )
    if verdict == "revert":
        return Decision(
            **base,
            action="move",
            phase="revert",
            target=target,
            reason="unhealthy-target",
            demand=demand,
            summary=f"{words}: revert the copy, keep the group on {group.cluster}",
        )
    return Decision(**base, action="stay", demand=demand, summary=f"copy on {target}: {words}")


def ray_kinds_needed(group: Group) -> frozenset[str]:
    """The KubeRay kinds a cluster must serve to run the group: each Ray object's own kind,
    plus RayCluster for a RayService or RayJob (the operator creates RayClusters for them)."""
    kinds = {
        m.kind
        for m in group.manifests
        if m.kind in _RAY_KINDS and str(m.body.get("apiVersion", "")).startswith("ray.io/")
    }
    return frozenset(kinds | {"RayCluster"} if kinds else kinds)


def _unserved(group: Group, state: ClusterState) -> str:
    """The kinds the group needs that the cluster does not serve, as words ('' if none)."""
    return ", ".join(sorted(ray_kinds_needed(group) & state.unserved_kinds))


def _room_for(
    group: Group, cluster: str, *, context: _Pass
) -> tuple[Mapping[str, Mapping[str, int]], bool]:
    """Free room per node of a cluster for a group, and whether its own pods were given
    back: the group's pods already there (leftovers of a move) do not compete with it."""
    free = context.capacity.free[cluster]
    own = context.pods[cluster].get(group.name, [])
    return (with_pods_added_back(free, own), True) if own else (free, False)


def _sticky_target(candidates: Sequence[Candidate], *, proposed: str | None) -> Candidate | None:
    """The target of the group's open proposal, while it still fits: proposals stay stable."""
    return next((c for c in candidates if c.fits and c.cluster == proposed), None)


def _placed_target(
    group: Group, demand: Demand, candidates: tuple[Candidate, ...], *, context: _Pass
) -> tuple[tuple[Candidate, ...], Candidate | None]:
    """The chosen target, its pods placed node by node (a sure verdict placed none).

    The bound behind a sure verdict is proven, so the simulation agrees; were it ever not
    to, its verdict replaces the sure one and the choice is made again.
    """
    while True:
        target = _sticky_target(candidates, proposed=context.proposed.get(group.name))
        target = target or pick_target(candidates, preferred=group.policy.preferred_clusters)
        if target is None or target.placed:
            return candidates, target
        config = context.fleet.config.cluster(target.cluster)
        if config is None:  # candidates come from the fleet's clusters: cannot happen
            raise LookupError(f"no cluster {target.cluster} in the fleet")
        # A proven verdict only needs its placements; a provisional one the full simulation.
        placed = _candidate(
            group, demand, config, context=context, sure=False, exact=target.provisional
        )
        candidates = tuple(placed if c is target else c for c in candidates)


def _candidates(group: Group, demand: Demand, *, context: _Pass) -> tuple[Candidate, ...]:
    capacity = context.capacity
    vetoes = {v.target: v for v in context.vetoes.get(group.name, ()) if v.until > context.now}
    found = []
    for cluster in context.fleet.config.clusters:
        if cluster.name == group.cluster:
            continue
        if not group.policy.allows(cluster):
            found.append(
                Candidate(cluster.name, fits=False, detail="not allowed by the group's policy")
            )
            continue
        veto = vetoes.get(cluster.name)
        if veto is not None:
            number = f" #{veto.pull_request}" if veto.pull_request else ""
            found.append(
                Candidate(
                    cluster.name,
                    fits=False,
                    detail=f"vetoed: the pull request{number} for this move was closed without "
                    f"merging; not proposed again before {veto.until:%Y-%m-%dT%H:%M:%SZ}",
                )
            )
            continue
        state = capacity.states.get(cluster.name)
        if state is None:
            found.append(
                Candidate(cluster.name, fits=False, detail="status unknown: never a target")
            )
            continue
        if unserved := _unserved(group, state):
            detail = (
                f"KubeRay is not installed (ray.io/v1 {unserved} not served): the Ray objects "
                "cannot run"
            )
            found.append(Candidate(cluster.name, fits=False, detail=detail))
            continue
        found.append(_candidate(group, demand, cluster, context=context, sure=True))
    return tuple(found)


def _candidate(
    group: Group,
    demand: Demand,
    config: ClusterConfig,
    *,
    context: _Pass,
    sure: bool,
    exact: bool = False,
) -> Candidate:
    """A known cluster's verdict for the group: a sure one when `sure` and the bound allows.

    Without `exact`, a group whose extra scores (preferences, default spreading) only the
    full simulation reads is ranked by the fast path; its "fits" is provisional unless
    the verdict was already proven (a sure verdict being placed).
    """
    capacity, cluster = context.capacity, config.name
    nodes, reserve = capacity.states[cluster].nodes, capacity.reserve(config)
    # A DaemonSet's pods depend on the cluster's nodes: such a demand is the cluster's own.
    here = demand_on(demand, nodes)
    # The group's own pods on that cluster (leftovers of an earlier move) make room for it.
    free, own = _room_for(group, cluster, context=context)
    rankings = None if own else capacity.rankings_of(cluster)
    asks = context.asks.get(group.name) if here is demand else None
    if asks is None:
        asks = (needs_of(here.shapes, filter_ids=capacity.filter_ids), shape_keys_of(here.shapes))
        if here is demand:
            context.asks[group.name] = asks
    needs, keys = asks
    state = capacity.states[cluster]
    view = capacity.view(cluster, own=context.pods[cluster].get(group.name, []))
    fit = None
    # The bound reads filters node by node: a bound pod's anti-affinity that selects the
    # group's pods is not among them (one that selects none of them changes nothing).
    if sure and rankings is not None and rankings.names_unique(nodes):
        bounds = capacity.bounds_of(cluster)
        if not hazard_matches(here.shapes, view=view):
            fit = surely_fits(needs, cluster=cluster, free=free, reserve=reserve, bounds=bounds)
        # Pod-to-pod rules: the full simulation runs on the clusters the choice reaches.
        if fit is None:
            fit = provisionally_fits(
                needs, cluster=cluster, free=free, reserve=reserve, bounds=bounds
            )
    if fit is None:
        fit = fits_cluster(
            here.shapes,
            cluster=cluster,
            nodes=nodes,
            free=free,
            reserve=reserve,
            view=view,
            runtime_overheads=state.runtime_overheads,
            rankings=rankings,
            keys=keys,
            exact=exact,
            proven=not sure,
        )
    if not fit.fits:
        return Candidate(cluster, fits=False, detail=fit.short)
    pods = len(here.shapes)
    if fit.placed:
        on = ", ".join(sorted({p.node for p in fit.placements})) or "no node"
        detail = f"fits one copy ({pods} pods on {on})"
    elif fit.provisional:
        detail = f"may fit one copy ({pods} pods; not simulated plugin by plugin here: "
        detail += "the full simulation runs on the cluster chosen)"
    else:
        detail = f"fits one copy ({pods} pods; enough nodes have room for every pod, "
        detail += "not placed one by one)"
    return Candidate(
        cluster,
        fits=True,
        detail=detail,
        placements=fit.placements,
        headroom=headroom(fit, nodes),
        placed=fit.placed,
        provisional=fit.provisional,
    )


def _guards(
    group: Group, demand: Demand, *, now: dt.datetime, last_move: dt.datetime | None
) -> tuple[str, ...]:
    guards = []
    policy = group.policy
    if policy.skip_capacity_relocate:
        guards.append("skipCapacityRelocate is set: the group waits for capacity where it is")
    if demand.stateful and not policy.allow_stateful:
        guards.append(
            "the group holds persistent volumes and data does not travel (allowStateful is not set)"
        )
    if last_move is not None and now - last_move < policy.cooldown:
        until = (last_move + policy.cooldown).strftime("%Y-%m-%dT%H:%M:%SZ")
        guards.append(f"moved {format_duration(now - last_move)} ago; cooldown until {until}")
    return tuple(guards)


def _not_movable_summary(health: Health, group: Group, *, now: dt.datetime) -> str:
    count = len(health.stuck_pods)
    if health.state == "waiting":
        return (
            f"{count} pod(s) unschedulable for lack of capacity on {group.cluster}, "
            f"within the {format_duration(group.policy.pending_grace_period)} grace period"
        )
    return (
        f"{count} pod(s) pending on {group.cluster} for reasons a move cannot fix "
        f"({health.stuck_pods[0].message or 'no scheduler message'})"
    )


def _with_tracked(own: list[KubeObject], tracked: Sequence[KubeObject]) -> list[KubeObject]:
    """The objects found by identity, then those only the engines' tracking found."""
    seen = {(o.kind, o.namespace, o.name) for o in own}
    return own + [o for o in tracked if (o.kind, o.namespace, o.name) not in seen]


def _ray_services(
    group: Group, state: ClusterState, *, tracked: Mapping[str, Sequence[KubeObject]]
) -> list[KubeObject]:
    """The group's RayServices on a cluster: declared by identity, or tracked as its."""
    names = {(m.namespace, m.name) for m in group.manifests if m.kind == "RayService"}
    own = [o for o in state.objects if o.kind == "RayService" and (o.namespace, o.name) in names]
    mine = [o for o in tracked.get(group.name, ()) if o.kind == "RayService"]
    return _with_tracked(own, mine)


def _ray_clusters(
    group: Group, state: ClusterState, *, tracked: Mapping[str, Sequence[KubeObject]]
) -> list[RayClusterStatus]:
    """The status of the RayClusters in the group's namespaces (matched to pods by name)."""
    namespaces = {m.namespace for m in group.manifests}
    namespaces |= {o.namespace for o in tracked.get(group.name, ())}
    return [
        ray_cluster_status(o)
        for o in state.objects
        if o.kind == "RayCluster" and o.namespace in namespaces
    ]


def _stuck_since(health: Health) -> dt.datetime:
    times = [s.since for s in health.stuck_pods if s.since is not None]
    return min(times) if times else dt.datetime.max.replace(tzinfo=dt.UTC)


def relocation_of(
    group: Group, *, fleet: Fleet, states: Mapping[str, ClusterState], now: dt.datetime
) -> tuple[tuple[Candidate, ...], Candidate | None, tuple[str, ...]]:
    """Where a pass would move the group were it stuck now: the candidates, the choice (None:
    no other cluster fits one copy) and the guards that would hold the move back."""
    known = {name: s for name, s in states.items() if s.known}
    owners, found, tracked = _memberships(fleet, known)
    context = _Pass(
        fleet=fleet,
        capacity=_Capacity(
            states=known, free={name: free_on_nodes(s) for name, s in known.items()}
        ),
        pods={name: m.pods for name, m in found.items()},
        owners=owners,
        tracked=tracked,
        now=now,
        proposed={},
        vetoes={},
        home_streaks={},
    )
    home = known.get(group.cluster)
    demand = group_demand(group, live=live_scale(home))
    candidates = _candidates(group, demand, context=context)
    candidates, target = _placed_target(group, demand, candidates, context=context)
    return candidates, target, _guards(group, demand, now=now, last_move=None)
