"""How lms-export tells a user what is wrong with their input.

Readers and exporters collect :class:`Problem` records rather than stopping at
the first one, so ``lms-export validate`` can report everything at once. Each
record names the file, the line where the format has lines, the card, the
question and the field, because that is what a user needs to find the fault.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    message: str
    file: str | None = None
    line: int | None = None
    card: str | None = None
    question: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.card is not None:
            parts.append(f"card {self.card}")
        if self.question is not None:
            parts.append(f"question {self.question}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        return ": ".join([", ".join(parts), self.message])


class LmsExportError(Exception):
    """Bad input or an impossible request; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = Problem(problems)
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ExportWarning(UserWarning):
    """Something was converted with a loss the user should know about."""


def warn(message: str) -> None:
    warnings.warn(message, ExportWarning, stacklevel=2)
