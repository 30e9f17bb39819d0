"""Kubernetes resource quantities ("500m", "2Gi", "1e3") parsed into exact numbers.

The model keeps every amount as an integer count of milli-units, as kube-scheduler does
for CPU: exact, hashable and cheap to add. A value finer than one milli-unit is rounded
up, as Kubernetes itself does when it canonicalises a quantity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
# ASCII digits only (Kubernetes rejects other scripts' digits), and a bounded length: no
# real quantity is longer, and Python refuses to convert over 4,300 digits to an int.
_PATTERN = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:(?P<exp>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?"
)
_MAX_LENGTH = 64
_MAX_EXPONENT = 30  # larger exponents are garbage for any real resource and would cost memory


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(raw: object) -> Fraction:
    """Parse a quantity exactly; raise QuantityError naming the bad text."""
    if isinstance(raw, bool):
        raise QuantityError(f"{raw!r} is not a quantity")
    if isinstance(raw, int):
        return Fraction(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise QuantityError(f"{raw!r} is not a quantity")
        # YAML turns `1.5` or `1e3` into a float; its shortest repr is what the user typed.
        raw = repr(raw)
    if not isinstance(raw, str):
        raise QuantityError(f"{raw!r} is not a quantity (expected a string or a number)")
    text = raw.strip()
    if len(text) > _MAX_LENGTH:
        raise QuantityError(f"{raw[:20]!r}... is too long to be a quantity")
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise QuantityError(f"{raw!r} is not a quantity (examples: 500m, 2, 1.5, 2Gi, 1e3)")
    value = Fraction(match["number"])
    if match["sign"] == "-":
        value = -value
    if match["exp"]:
        exponent = int(match["exp"][1:])
        if abs(exponent) > _MAX_EXPONENT:
            raise QuantityError(f"{raw!r} has an exponent out of range")
        value *= Fraction(10) ** exponent
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    return value * _DECIMAL[suffix]


def to_milli(raw: object) -> int:
    """Parse a quantity into integer milli-units, rounding up as Kubernetes does."""
    if type(raw) is not str:
        return math.ceil(parse_quantity(raw) * 1000)
    # A fleet writes the same few quantities ("500m", "2Gi") hundreds of thousands of times.
    milli = _MILLI_OF_TEXT.get(raw)
    if milli is None:
        milli = math.ceil(parse_quantity(raw) * 1000)
        if len(_MILLI_OF_TEXT) >= _MILLI_OF_TEXT_LIMIT:
            _MILLI_OF_TEXT.clear()
        _MILLI_OF_TEXT[raw] = milli
    return milli


_MILLI_OF_TEXT: dict[str, int] = {}  # only valid quantities: an error is raised every time
_MILLI_OF_TEXT_LIMIT = 4096


def resources_to_milli(raw: Mapping[str, object]) -> dict[str, int]:
    """Parse a `{resource: quantity}` mapping; raise QuantityError naming the resource."""
    parsed: dict[str, int] = {}
    for name, value in raw.items():
        try:
            parsed[str(name)] = to_milli(value)
        except QuantityError as error:
            raise QuantityError(f"{name}: {error}") from None
    return parsed


def format_amount(resource: str, milli: int) -> str:
    """Render an amount for people: CPU in cores, bytes in Gi/Mi, counts as numbers."""
    value = Fraction(milli, 1000)
    if resource in {"memory", "ephemeral-storage"} or resource.startswith("hugepages-"):
        for suffix, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if abs(value) >= factor:
                return f"{_short(value / factor)}{suffix}"
        return f"{_short(value)}"
    return _short(value)


def _short(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text


def add_resources(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """Sum two milli-unit resource mappings."""
    total = dict(a)
    for name, amount in b.items():
        total[name] = total.get(name, 0) + amount
    return total
