"""Fuzzing the quantity parser: only QuantityError for garbage, exact values for real ones."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.quantity import QuantityError, parse_quantity, to_milli

EXAMPLES = settings(max_examples=300, deadline=None)
BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
anything = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789.eE+-KMGTPEimnuk \t\n_x", max_size=30),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


@EXAMPLES
@given(anything)
def test_garbage_raises_only_quantity_error(raw: object) -> None:
    try:
        value = parse_quantity(raw)
    except QuantityError:
        return
    assert isinstance(value, Fraction)
    assert isinstance(to_milli(raw), int)


@st.composite
def quantities(draw: st.DrawFn) -> tuple[str, Fraction]:
    """A valid quantity as text, and its exact value computed independently."""
    sign = draw(st.sampled_from(["", "+", "-"]))
    whole = draw(st.integers(min_value=0, max_value=10**12))
    digits = draw(st.text(alphabet="0123456789", max_size=6))
    number = f"{whole}.{digits}" if digits or draw(st.booleans()) else str(whole)
    value = Fraction(whole) + (Fraction(int(digits), 10 ** len(digits)) if digits else 0)
    form = draw(st.sampled_from(["binary", "decimal", "exponent"]))
    if form == "binary":
        suffix = draw(st.sampled_from(sorted(BINARY)))
        text, value = number + suffix, value * BINARY[suffix]
    elif form == "decimal":
        suffix = draw(st.sampled_from(sorted(DECIMAL)))
        text, value = number + suffix, value * DECIMAL[suffix]
    else:
        exponent = draw(st.integers(min_value=-30, max_value=30))
        letter = draw(st.sampled_from("eE"))
        text, value = f"{number}{letter}{exponent}", value * Fraction(10) ** exponent
    return sign + text, -value if sign == "-" else value


@EXAMPLES
@given(quantities())
def test_valid_quantities_parse_exactly(case: tuple[str, Fraction]) -> None:
    text, value = case
    assert parse_quantity(text) == value
    assert parse_quantity(f"  {text} ") == value
    assert to_milli(text) == -((-value * 1000).__floor__())  # rounded up, like Kubernetes


@EXAMPLES
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_integers_and_their_text_agree(number: int) -> None:
    assert parse_quantity(number) == parse_quantity(str(number)) == number
    assert to_milli(f"{number}m") == number


# Found by fuzzing: Python's int() digit limit raised a plain ValueError, and \d accepted
# digits of other scripts, which Kubernetes rejects.
def test_a_quantity_with_thousands_of_digits_is_a_quantity_error() -> None:
    with pytest.raises(QuantityError):
        parse_quantity("9" * 5000)


@pytest.mark.parametrize("text", ["\u0663", "\uff11Gi"])
def test_non_ascii_digits_are_not_a_quantity(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)
