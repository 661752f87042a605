"""Parts mapped in order, on one core or several, with every problem reported together."""

from __future__ import annotations

import os
import warnings

import pytest

from lms_export.errors import ExportWarning, LmsExportError, Problem, warn
from lms_export.parts import map_parts


def square_or_refuse(n: int) -> int:
    """A part's work: refuses multiples of 7, warns about multiples of 5."""
    if n % 7 == 0:
        raise LmsExportError(Problem(f"part {n} is bad", line=n))
    if n % 5 == 0:
        warn(f"part {n} is odd")
    return n * n


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_in_input_order_on_any_number_of_workers(workers):
    assert list(map_parts(abs, range(0, -200, -1), workers=workers)) == list(range(200))


@pytest.mark.parametrize("workers", [1, 2])
def test_every_parts_problems_are_raised_together_after_all_parts(workers):
    with pytest.raises(LmsExportError) as raised, warnings.catch_warnings(record=True):
        list(map_parts(square_or_refuse, range(1, 30), workers=workers))
    assert [p.line for p in raised.value.problems] == [7, 14, 21, 28]


@pytest.mark.parametrize("workers", [1, 2])
def test_warnings_in_a_worker_are_warned_here_in_order(workers):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = list(map_parts(square_or_refuse, [1, 5, 6, 10, 12], workers=workers))
    assert results == [1, 25, 36, 100, 144]
    assert [(w.category, str(w.message)) for w in caught] == [
        (ExportWarning, "part 5 is odd"),
        (ExportWarning, "part 10 is odd"),
    ]


def test_an_error_in_the_input_stops_at_once():
    def parts():
        yield 1
        yield 2
        raise LmsExportError("the file is broken")

    with pytest.raises(LmsExportError, match="the file is broken"):
        list(map_parts(abs, parts(), workers=2))


def die_on_three(n: int) -> int:
    if n == 3:
        os._exit(1)  # as the kernel's out-of-memory killer would end it
    return n


def test_a_worker_that_dies_is_an_error_not_a_hang():
    with pytest.raises(LmsExportError, match="worker process ended abruptly"):
        list(map_parts(die_on_three, range(10), workers=2))
