"""Pre-merge check: for each group a change touches, will its rollout fit where it runs?

Pure: the fleet at base and at head, the clusters' status and the time in; a verdict per
group out. The demand, the fit and the choice of another cluster are the planner's own
(group_demand, fits_group, relocation_of): no second model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping

from reconciler.core.problems import Problem
from reconciler.core.quantity import format_amount
from reconciler.fleet.model import Fleet, Group
from reconciler.plan.choice import Candidate
from reconciler.plan.demand import group_demand, requests_summed
from reconciler.plan.fit import fits_group, free_on_nodes, total_free, with_pods_added_back
from reconciler.plan.membership import declared_objects, pods_by_group
from reconciler.plan.planner import relocation_of
from reconciler.plan.surge import Rollout, rollout_of
from reconciler.status.model import ClusterState, Pod
from reconciler.workloads.demand import WorkloadError

FITS = "fits"
WILL_STALL = "will stall"
FITS_NOWHERE = "fits nowhere"
UNKNOWN = "unknown"
VERDICTS = (FITS, WILL_STALL, FITS_NOWHERE, UNKNOWN)


@dataclasses.dataclass(frozen=True)
class GroupCheck:
    """One changed group's verdict, with the numbers behind it."""

    group: str
    change: str  # changed | added | removed | moved by hand from <cluster>
    cluster: str  # where the group is at head (at base when removed)
    verdict: str
    summary: str  # one plain sentence with the numbers
    demand: Mapping[str, int] = dataclasses.field(default_factory=dict)  # one copy, milli
    surge: Mapping[str, int] = dataclasses.field(default_factory=dict)  # new pods at once
    free: Mapping[str, int] = dataclasses.field(default_factory=dict)  # the cluster's, now
    short: str = ""  # the fit's words for what is short
    rollouts: tuple[Rollout, ...] = ()
    after_merge: str = ""  # what the reconciler would do once the change is merged
    target: str = ""
    candidates: tuple[Candidate, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """Every changed group's verdict; `fleet_problems` are what was wrong with the head."""

    groups: tuple[GroupCheck, ...]
    fleet_problems: tuple[Problem, ...] = ()

    def failing(self, fail_on: Collection[str]) -> tuple[GroupCheck, ...]:
        """The groups whose verdict is one of `fail_on`."""
        return tuple(g for g in self.groups if g.verdict in fail_on)


def changed_groups(base: Fleet, head: Fleet) -> list[tuple[str, Group | None, Group | None]]:
    """Groups whose placement or rendered manifests differ, by name: (name, base, head)."""
    before = {g.name: g for g in base.groups}
    after = {g.name: g for g in head.groups}
    changed = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old is None or new is None or _identity(old) != _identity(new):
            changed.append((name, old, new))
    return changed


def _identity(group: Group) -> tuple[object, ...]:
    return (group.cluster, tuple((m.namespace, m.body) for m in group.manifests))


def check_change(
    base: Fleet,
    head: Fleet,
    states: Mapping[str, ClusterState],
    *,
    now: dt.datetime,
    zero_downtime_off: Collection[str] = (),
) -> CheckReport:
    """The verdict for every group the change touches, judged at head on its cluster."""
    live = {
        n: pods_by_group(s, declared_objects(base.groups)) for n, s in states.items() if s.known
    }
    checks = []
    for name, old, new in changed_groups(base, head):
        if new is None:
            assert old is not None
            checks.append(
                GroupCheck(
                    name,
                    "removed",
                    old.cluster,
                    FITS,
                    f"removed from {old.cluster}: nothing new to place",
                )
            )
            continue
        if old is None:
            change = "added"
        elif old.cluster != new.cluster:
            change = f"moved by hand from {old.cluster}"
        else:
            change = "changed"
        same_place = old if old is not None and old.cluster == new.cluster else None
        own = live.get(new.cluster, {}).get(name, []) if same_place is not None else []
        checks.append(
            _judge(
                new,
                same_place,
                change=change,
                head=head,
                states=states,
                own=own,
                now=now,
                zero_downtime=new.cluster not in zero_downtime_off,
            )
        )
    return CheckReport(groups=tuple(checks), fleet_problems=head.problems)


def _judge(
    group: Group,
    old: Group | None,
    *,
    change: str,
    head: Fleet,
    states: Mapping[str, ClusterState],
    own: list[Pod],
    now: dt.datetime,
    zero_downtime: bool,
) -> GroupCheck:
    """One group at head on its cluster: the rollout's fit, then where one copy would go."""
    base = GroupCheck(group.name, change, group.cluster, UNKNOWN, "")
    state = states.get(group.cluster)
    if state is None or not state.known:
        why = state.reason if state is not None else "no status read"
        return dataclasses.replace(
            base, summary=f"not judged: the status of {group.cluster} is unknown ({why})"
        )
    demand = group_demand(group)
    rollouts, problems = _rollouts(group, old, zero_downtime=zero_downtime)
    problems += demand.problems
    if problems:
        return dataclasses.replace(
            base, problems=tuple(problems), summary="not judged: its manifests have errors"
        )
    new = [shape for rollout in rollouts for shape in rollout.new]
    released = _released(rollouts, state) if old is not None else []
    free = free_on_nodes(state)
    # The scheduler knows no reserve: a rollout stalls only when a pod finds no node.
    fit = fits_group(
        new,
        cluster=group.cluster,
        nodes=state.nodes,
        free=with_pods_added_back(free, released),
        reserve={},
    )
    base = dataclasses.replace(
        base,
        demand=demand.total,
        surge=requests_summed(new),
        free=total_free(state.nodes, free),
        rollouts=rollouts,
    )
    shown = sorted(base.surge.keys() - {"pods"})
    bound = [p.shape for p in own if p.node and p.phase not in ("Succeeded", "Failed")]
    held = _amounts(requests_summed(bound), shown) if bound else ""
    beside = f"beside the {held} its current pods hold" if bound else "on it"
    needs = f"the {len(new)} new pod(s) need {_amounts(base.surge, shown)} at once {beside}"
    has = f"{group.cluster} has {_amounts(base.free, shown)} free"
    if fit.fits:
        what = f"{needs}; {has}" if new else "no new pods at once"
        return dataclasses.replace(base, verdict=FITS, summary=f"fits on {group.cluster}: {what}")
    config = head.config.cluster(group.cluster)
    reserve = config.reserve_milli if config is not None else {}
    alone = fits_group(
        demand.shapes,
        cluster=group.cluster,
        nodes=state.nodes,
        free=with_pods_added_back(free, own),
        reserve=reserve,
    )
    candidates, target, guards = relocation_of(group, fleet=head, states=states, now=now)
    base = dataclasses.replace(base, short=fit.short, candidates=candidates)
    if target is None and not alone.fits:
        nowhere = "; ".join(
            [f"{group.cluster}: {alone.short}"] + [f"{c.cluster}: {c.detail}" for c in candidates]
        )
        return dataclasses.replace(
            base,
            verdict=FITS_NOWHERE,
            short=alone.short,
            summary=f"fits nowhere: one copy needs {_amounts(base.demand, sorted(base.demand))} "
            f"({nowhere})",
        )
    if guards:
        after = f"the reconciler would not move it ({guards[0]})"
    elif target is not None:
        after = (
            f"after the merge the reconciler would move {group.name} to {target.cluster} "
            f"({target.detail}); or set skipCapacityRelocate to wait"
        )
    else:
        after = f"no other cluster fits one copy: it waits on {group.cluster} for capacity"
    return dataclasses.replace(
        base,
        verdict=WILL_STALL,
        after_merge=after,
        target=target.cluster if target else "",
        summary=f"will stall on {group.cluster}: {needs} and {has} ({fit.short})",
    )


def _rollouts(
    group: Group, old: Group | None, *, zero_downtime: bool
) -> tuple[tuple[Rollout, ...], list[Problem]]:
    """Each workload's rollout, in manifest order; a manifest the demand refuses is a Problem."""
    before = {(m.kind, m.namespace, m.name): m.body for m in old.manifests} if old else {}
    rollouts, problems = [], []
    for manifest in group.manifests:
        key = (manifest.kind, manifest.namespace, manifest.name)
        try:
            rollout = rollout_of(
                manifest.body,
                base=before.get(key),
                namespace=manifest.namespace,
                zero_downtime=zero_downtime,
            )
        except WorkloadError as error:
            problems.append(Problem(manifest.file, error.field, error.message, group=group.name))
            continue
        if rollout is not None:
            rollouts.append(rollout)
    return tuple(rollouts), problems


def _released(rollouts: tuple[Rollout, ...], state: ClusterState) -> list[Pod]:
    """The old pods a rollout lets go first: the workload's own, by name, as many as it says."""
    gone: list[Pod] = []
    for rollout in rollouts:
        if rollout.released:
            mine = pods_by_group(state, {rollout.key: "it"}).get("it", [])
            gone += sorted(mine, key=lambda p: p.name)[: rollout.released]
    return gone


def _amounts(amounts: Mapping[str, int], resources: Collection[str]) -> str:
    """Amounts of CPU, memory and any other resource named, for people: "4.2 CPU / 53.17Gi"."""
    shown = [f"{format_amount('cpu', amounts.get('cpu', 0))} CPU"]
    shown.append(format_amount("memory", amounts.get("memory", 0)))
    shown += [
        f"{format_amount(r, amounts.get(r, 0))} {r}"
        for r in resources
        if r not in ("cpu", "memory", "pods")
    ]
    return " / ".join(shown)
