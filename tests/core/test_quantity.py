"""Kubernetes quantities: exact parsing into milli-units, and refusal of anything else."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core import quantity
from reconciler.core.quantity import QuantityError, format_amount, parse_quantity, to_milli

KI, MI, GI = 2**10, 2**20, 2**30


@pytest.mark.parametrize(
    ("raw", "milli"),
    [
        ("100m", 100),
        ("1.5", 1500),
        ("2Gi", 2 * GI * 1000),
        ("500Mi", 500 * MI * 1000),
        ("0.5Gi", GI // 2 * 1000),
        ("1Ki", KI * 1000),
        ("1k", 10**6),
        ("1e3", 10**6),
        ("1E3", 10**6),
        ("1.5e2", 150_000),
        ("129e6", 129 * 10**9),
        ("129M", 129 * 10**9),
        ("0", 0),
        ("+2", 2000),
        (".5", 500),
        ("250u", 1),  # finer than a milli-unit rounds up, as Kubernetes does
        ("1n", 1),
        (2, 2000),
        (0, 0),
        (0.5, 500),  # YAML `cpu: 0.5`
        (1e3, 10**6),  # YAML `memory: 1e3`
        (1.5, 1500),
    ],
)
def test_quantities_parse_to_milli_units(raw: object, milli: int) -> None:
    assert to_milli(raw) == milli


def test_parsing_is_exact() -> None:
    assert parse_quantity("0.1") == Fraction(1, 10)
    assert parse_quantity("1.5Gi") == Fraction(3 * GI, 2)


def test_negative_quantities_parse_and_are_left_to_callers() -> None:
    # Whether a negative amount is allowed is the caller's rule (a request may not be).
    assert to_milli("-1") == -1000


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "1.2.3",
        "5 Gi",
        "",
        "1e999",
        "--1",
        "Gi",
        "1Gb",
        "1.5.Gi",
        "0x10",
        "1e",
        None,
        True,
        False,
        [1],
        float("nan"),
        float("inf"),
    ],
)
def test_garbage_is_not_a_quantity(raw: object) -> None:
    with pytest.raises(QuantityError) as caught:
        to_milli(raw)
    assert repr(raw) in str(caught.value)


def test_quantity_error_is_a_value_error() -> None:
    assert issubclass(QuantityError, ValueError)


@given(st.integers(min_value=0, max_value=10**15))
def test_milli_suffix_round_trips(n: int) -> None:
    assert to_milli(f"{n}m") == n


@given(st.integers(min_value=0, max_value=10**9))
def test_plain_integers_are_whole_units(n: int) -> None:
    assert to_milli(str(n)) == to_milli(n) == n * 1000


@pytest.mark.parametrize(
    ("resource", "a", "b"),
    [("cpu", "1e3", "1k"), ("memory", "1024Mi", "1Gi"), ("cpu", "1500m", "1.5")],
)
def test_equal_quantities_format_the_same(resource: str, a: str, b: str) -> None:
    assert format_amount(resource, to_milli(a)) == format_amount(resource, to_milli(b))


@pytest.mark.parametrize(
    ("resource", "raw", "text"),
    [
        ("cpu", "1e3", "1000"),
        ("cpu", "500m", "0.5"),
        ("memory", "2Gi", "2Gi"),
        ("memory", "512Mi", "512Mi"),
        ("nvidia.com/gpu", "2", "2"),
    ],
)
def test_amounts_are_formatted_for_people(resource: str, raw: str, text: str) -> None:
    assert format_amount(resource, to_milli(raw)) == text


def test_remembered_quantities_stay_exact_and_errors_are_raised_every_time() -> None:
    # to_milli remembers the text of valid quantities (a fleet repeats a few of them).
    for _ in range(3):
        assert to_milli("500m") == 500
        assert to_milli("1.5Gi") == 3 * 2**29 * 1000
        with pytest.raises(QuantityError, match="'5 cores' is not a quantity"):
            to_milli("5 cores")


def test_the_memory_of_quantities_is_bounded() -> None:
    for amount in range(10_000):  # more distinct texts than it keeps
        assert to_milli(f"{amount}m") == amount
    assert to_milli("2") == 2000
    assert len(quantity._MILLI_OF_TEXT) <= quantity._MILLI_OF_TEXT_LIMIT
