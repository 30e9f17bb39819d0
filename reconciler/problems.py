"""Problems: bad input reported as values, never as exceptions that stop a pass."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough for a human to fix it."""

    file: str
    field: str
    message: str
    group: str | None = None
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = self.file if not self.field else f"{self.file}: {self.field}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{where}: {self.message}"


class InputError(ValueError):
    """Raised by loaders for input that cannot be used at all; carries the Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
