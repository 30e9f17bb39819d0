"""fleet.yaml and placement.yaml: schemas, defaults, and validation with clear errors."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

import pydantic
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from reconciler.core.problems import Problem, kind_of
from reconciler.core.quantity import QuantityError, to_milli

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DURATION_PATTERN = r"^(\d+(\.\d+)?(ms|s|m|h|d))+$"


def parse_duration(raw: object) -> dt.timedelta:
    """Parse "90s", "5m", "1h30m", "24h", "2d" (or a number of seconds) into a timedelta."""
    if isinstance(raw, dt.timedelta):
        return raw
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a duration")
    if isinstance(raw, int | float):
        if raw < 0:
            raise ValueError(f"{raw!r} is negative")
        return _bounded(float(raw), raw)
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not a duration (examples: 90s, 5m, 1h30m)")
    text = raw.strip()
    parts = _DURATION_PART.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"{raw!r} is not a duration (examples: 90s, 5m, 1h30m)")
    return _bounded(sum(float(number) * _UNITS[unit] for number, unit in parts), raw)


_MAX_DURATION = dt.timedelta(days=3650)  # ten years: anything longer is a typo


def _bounded(seconds: float, raw: object) -> dt.timedelta:
    if not seconds <= _MAX_DURATION.total_seconds():  # also refuses NaN and infinity
        raise ValueError(f"{raw!r} is longer than the 3650d maximum")
    return dt.timedelta(seconds=seconds)


def format_duration(value: dt.timedelta) -> str:
    """Render a timedelta the way users write it: 1h30m, 5m, 45s."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    text += f"{secs}s" if secs or not text else ""
    return text


def _check_name(raw: object) -> str:
    if not isinstance(raw, str) or not _DNS_LABEL.fullmatch(raw):
        raise ValueError(
            f"{raw!r} is not a valid cluster name (lowercase letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit)"
        )
    return raw


Duration = Annotated[
    dt.timedelta,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ],
            "description": "a duration: 90s, 5m, 1h30m, 24h, 2d (or a number of seconds)",
        }
    ),
]
ClusterName = Annotated[
    str,
    BeforeValidator(_check_name),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^" + _DNS_LABEL.pattern + "$",
            "description": "a DNS label, the name of the directory clusters/<name>/",
        }
    ),
]


class _Schema(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


M = TypeVar("M", bound=_Schema)


class ClusterConfig(_Schema):
    """One cluster of the fleet."""

    name: ClusterName
    context: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    reserve: dict[str, str | int | float] = Field(default_factory=dict)
    max_status_age: Duration | None = Field(default=None, alias="maxStatusAge")

    @pydantic.field_validator("reserve")
    @classmethod
    def _reserve_is_quantities(
        cls, value: dict[str, str | int | float]
    ) -> dict[str, str | int | float]:
        for resource, amount in value.items():
            try:
                if to_milli(amount) < 0:
                    raise ValueError(f"{resource}: must not be negative")
            except QuantityError as error:
                raise ValueError(f"{resource}: {error}") from None
        return value

    @property
    def reserve_milli(self) -> dict[str, int]:
        """The reserve as milli-unit amounts (validated at load)."""
        return {resource: to_milli(amount) for resource, amount in self.reserve.items()}


def _in_utc(value: dt.datetime) -> dt.datetime:
    """A time without a zone is UTC, as Kubernetes and the bot write it; never naive."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Every time read from fleet.yaml or placement.yaml: RFC 3339; without an offset, UTC.
Timestamp = Annotated[dt.datetime, AfterValidator(_in_utc)]


class MoveMarker(_Schema):
    """placement.yaml's moveInProgress: a make-before-break move between its two phases."""

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    started: Timestamp


class ClusterSelector(_Schema):
    """Label selector over the clusters' labels (matchLabels only)."""

    match_labels: dict[str, str] = Field(default_factory=dict, alias="matchLabels")


class PolicyFields(_Schema):
    """Fields a placement policy may set: fleet-wide in `defaults`, per group in placement.yaml."""

    skip_capacity_relocate: bool | None = Field(default=None, alias="skipCapacityRelocate")
    allowed_clusters: list[str] | None = Field(default=None, alias="allowedClusters")
    cluster_selector: ClusterSelector | None = Field(default=None, alias="clusterSelector")
    preferred_clusters: list[str] | None = Field(default=None, alias="preferredClusters")
    pending_grace_period: Duration | None = Field(default=None, alias="pendingGracePeriod")
    cooldown: Duration | None = None
    arrival_deadline: Duration | None = Field(default=None, alias="arrivalDeadline")
    veto_window: Duration | None = Field(default=None, alias="vetoWindow")
    failback: bool | None = None
    failback_margin: float | None = Field(default=None, alias="failbackMargin", ge=0, le=10)
    strategy: Literal["auto", "recreate", "make-before-break"] | None = None
    healthy_deadline: Duration | None = Field(default=None, alias="healthyDeadline")
    move_in_progress: MoveMarker | None = Field(default=None, alias="moveInProgress")
    # The issue that asked for it called it allowStatefulRelocation: accepted as an alias.
    allow_stateful: bool | None = Field(
        default=None,
        alias="allowStateful",
        validation_alias=AliasChoices("allowStateful", "allowStatefulRelocation"),
    )


class GitHubConfig(_Schema):
    """Where pull requests are opened, and how long a pass waits for GitHub in all."""

    repo: str
    base_url: str = Field(default="https://api.github.com", alias="baseUrl")
    # One limit for all of a pass's GitHub requests, retries and waits included: past it
    # the pass writes no pull request, and reports its plan all the same.
    deadline: Duration = Field(default=dt.timedelta(seconds=60))

    @pydantic.field_validator("deadline")
    @classmethod
    def _deadline_is_positive(cls, value: dt.timedelta) -> dt.timedelta:
        if value.total_seconds() < 1:
            raise ValueError("must be at least 1s")
        return value


class GitConfig(_Schema):
    """How changes are written."""

    branch: str = "main"
    mode: Literal["pr", "direct", "dry-run"] | None = None
    github: GitHubConfig | None = None


class RenderConfig(_Schema):
    """How each group is rendered: the command (default: kustomize, else kubectl kustomize)."""

    # The command without the directory, e.g. [kustomize, build]; the group's directory is
    # appended. Empty: kustomize on PATH, else kubectl beside the interpreter or on PATH.
    command: list[str] = Field(default_factory=list)
    # helmCharts need `--enable-helm` and helm on PATH; off unless asked for.
    helm: bool = False


class FleetConfig(_Schema):
    """The whole of fleet.yaml."""

    clusters: list[ClusterConfig] = Field(min_length=1)
    defaults: PolicyFields = Field(default_factory=PolicyFields)
    git: GitConfig = Field(default_factory=GitConfig)
    render: RenderConfig = Field(default_factory=RenderConfig)
    max_status_age: Duration = Field(default=dt.timedelta(minutes=10), alias="maxStatusAge")

    @pydantic.model_validator(mode="after")
    def _unique_clusters(self) -> FleetConfig:
        seen: set[str] = set()
        for index, cluster in enumerate(self.clusters):
            if cluster.name in seen:
                raise ValueError(f"clusters[{index}].name: {cluster.name!r} is listed twice")
            seen.add(cluster.name)
        return self

    def cluster(self, name: str) -> ClusterConfig | None:
        """The cluster of that name, if fleet.yaml has it."""
        return next((c for c in self.clusters if c.name == name), None)

    @property
    def mode(self) -> str:
        """The write mode: as set, else `pr` with a GitHub repo and `direct` without."""
        if self.git.mode:
            return self.git.mode
        return "pr" if self.git.github else "direct"


class GroupPolicy(_Schema):
    """The policy that applies to one group: placement.yaml over fleet defaults over built-ins."""

    skip_capacity_relocate: bool = False
    allowed_clusters: tuple[str, ...] | None = None
    cluster_selector: dict[str, str] = Field(default_factory=dict)
    preferred_clusters: tuple[str, ...] = ()
    pending_grace_period: dt.timedelta = dt.timedelta(minutes=5)
    cooldown: dt.timedelta = dt.timedelta(minutes=30)
    # After a move reaches the branch: how long the group may take to land (plan/landing.py)
    arrival_deadline: dt.timedelta = dt.timedelta(minutes=15)
    veto_window: dt.timedelta = dt.timedelta(hours=24)
    failback: bool = False
    failback_margin: float = 0.2  # free room kept on the home cluster, as a share of the demand
    # auto: make-before-break while the current copy serves, recreate otherwise (plan/strategy.py)
    strategy: str = "auto"
    healthy_deadline: dt.timedelta = dt.timedelta(minutes=30)  # make-before-break phase two
    move_in_progress: MoveMarker | None = None
    allow_stateful: bool = False

    def allows(self, cluster: ClusterConfig) -> bool:
        """Whether the policy lets the group run on that cluster."""
        if self.allowed_clusters is not None and cluster.name not in self.allowed_clusters:
            return False
        return all(cluster.labels.get(k) == v for k, v in self.cluster_selector.items())


def resolve_policy(defaults: PolicyFields, group: PolicyFields | None) -> GroupPolicy:
    """Layer a group's placement.yaml over the fleet defaults over the built-in defaults."""
    values: dict[str, Any] = {}
    for layer in (defaults, group):
        if layer is None:
            continue
        for name in PolicyFields.model_fields:
            value = getattr(layer, name)
            if value is None:
                continue
            if name == "cluster_selector":
                value = dict(value.match_labels)
            elif isinstance(value, list):
                value = tuple(value)
            values[name] = value
    return GroupPolicy(**values)


def load_fleet_config(data: object, *, file: str) -> tuple[FleetConfig | None, list[Problem]]:
    """Validate parsed fleet.yaml; return the config (None when unusable) and its problems."""
    return _validate(FleetConfig, data, file=file)


def load_policy(data: object, *, file: str) -> tuple[PolicyFields | None, list[Problem]]:
    """Validate parsed placement.yaml (an empty file is an empty policy)."""
    return _validate(PolicyFields, {} if data is None else data, file=file)


def _validate(model: type[M], data: object, *, file: str) -> tuple[M | None, list[Problem]]:
    if not isinstance(data, Mapping):
        kind = kind_of(data)
        return None, [Problem(file, "", f"expected a mapping at the top level, found {kind}")]
    warnings = [
        Problem(file, field, "unknown key (ignored)", severity="warning")
        for field in _unknown_keys(model, data)
    ]
    try:
        return model.model_validate(data), warnings
    except pydantic.ValidationError as error:
        return None, warnings + [_problem(file, e) for e in error.errors()]


def _problem(file: str, error: Any) -> Problem:
    field = ""
    for part in error["loc"]:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required"
    elif "input" in error and error["type"] != "value_error":
        message = f"{message} (found {error['input']!r})"
    return Problem(file, field, message)


def _unknown_keys(model: type[_Schema], data: Mapping[Any, Any], prefix: str = "") -> list[str]:
    known = {f.alias or name: f for name, f in model.model_fields.items()}
    known.update({name: f for name, f in model.model_fields.items()})
    for info in model.model_fields.values():
        if isinstance(info.validation_alias, AliasChoices):
            known.update({str(a): info for a in info.validation_alias.choices})
    unknown = []
    for key, value in data.items():
        field = known.get(key)
        path = f"{prefix}{key}"
        if field is None:
            unknown.append(path)
            continue
        nested = _nested_model(field.annotation)
        if nested is not None and isinstance(value, Mapping):
            unknown += _unknown_keys(nested, value, prefix=f"{path}.")
        elif nested is not None and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    unknown += _unknown_keys(nested, item, prefix=f"{path}[{index}].")
    return unknown


def _nested_model(annotation: object) -> type[_Schema] | None:
    if isinstance(annotation, type) and issubclass(annotation, _Schema):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None
