"""Problems: bad input reported as values, never as exceptions that stop a pass."""

from __future__ import annotations

import dataclasses

from reconciler.core.errors import FleetRepoError


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough for a human to fix it."""

    file: str
    field: str
    message: str
    group: str | None = None
    severity: str = "error"  # "error" | "warning"
    line: int | None = None  # 1-based line in `file`, when known

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        where = place if not self.field else f"{place}: {self.field}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{where}: {self.message}"

    def at_line(self, line: int | None) -> Problem:
        """The same problem located at a line (unchanged when the line is unknown)."""
        return self if line is None else dataclasses.replace(self, line=line)

    def for_group(self, group: str) -> Problem:
        """The same problem attributed to a group (kept when it already names one)."""
        return self if self.group else dataclasses.replace(self, group=group)


def kind_of(value: object) -> str:
    """How a parsed value is named in a message: "a list", "a mapping", "a str", "empty"."""
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


class InputError(FleetRepoError):
    """Raised by loaders for input that cannot be used at all; carries the Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
