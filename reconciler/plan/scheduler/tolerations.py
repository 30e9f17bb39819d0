"""Whether a pod tolerates a taint: v1helper.TolerationsTolerateTaint
(k8s.io/component-helpers/scheduling/corev1), shared by every filter that reads taints."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.status.model import Taint
from reconciler.workloads.shapes import Toleration


def tolerates(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    """Whether any toleration matches the taint (Kubernetes' ToleratesTaint rule)."""
    for toleration in tolerations:
        if toleration.effect and toleration.effect != taint.effect:
            continue
        if toleration.operator == "Exists":
            if not toleration.key or toleration.key == taint.key:
                return True
        elif toleration.key == taint.key and toleration.value == taint.value:
            return True
    return False
