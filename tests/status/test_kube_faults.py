"""A failed request is described in plain words: never a class name, never the client's text."""

from __future__ import annotations

import errno

import pytest

from reconciler.status.kube_faults import describe_fault


def reason(error: BaseException) -> str:
    return describe_fault(error, what="listing pods", timeout=5, continuing=False).reason


def test_a_system_error_is_told_in_the_systems_words() -> None:
    error = OSError(errno.ENETUNREACH, "Network is unreachable")
    assert reason(error) == "unreachable: network is unreachable"


def test_a_system_error_without_words_still_says_unreachable() -> None:
    assert reason(ConnectionResetError()) == "unreachable: the connection failed"


@pytest.mark.parametrize(
    "error", [KeyError("Authorization: Bearer abc123"), ValueError("token=abc123")]
)
def test_anything_else_is_an_unexpected_error_without_its_class_or_text(
    error: BaseException,
) -> None:
    told = reason(error)
    assert told == "read failed listing pods: an unexpected error (details in the debug log)"
    assert type(error).__name__ not in told and "abc123" not in told
