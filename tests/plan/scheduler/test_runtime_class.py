"""NodeResourcesFit counts the pod overhead the RuntimeClass admission plugin sets."""

from __future__ import annotations

from tests.plan.builders import resources
from tests.plan.scheduler.kit import fit, hosts, incoming, spec


def test_the_runtime_class_overhead_is_added_to_the_requests() -> None:
    # plugin/pkg/admission/runtimeclass: overhead.podFixed becomes the pod's spec.overhead.
    kata = {"kata": resources("1", "1Gi")}
    pod = incoming("p", spec(cpu="7500m", runtimeClassName="kata"))
    assert fit([pod], hosts("n1"), runtime_overheads={"kata": {}}).fits
    result = fit([pod], hosts("n1"), runtime_overheads=kata)
    assert not result.fits
    assert "1 Insufficient cpu" in result.short


def test_a_runtime_class_the_cluster_lacks_refuses_the_pod() -> None:
    pod = incoming("p", spec(runtimeClassName="gvisor"))
    result = fit([pod], hosts("n1"), runtime_overheads={"kata": resources("1", "1Gi")})
    assert not result.fits
    assert 'RuntimeClass "gvisor" not found' in result.short


def test_a_spec_with_its_own_overhead_is_not_looked_up_again() -> None:
    pod = incoming("p", spec(runtimeClassName="kata", overhead={"cpu": "250m"}))
    assert pod.runtime_class == ""
    assert pod.requests["cpu"] == 1250
