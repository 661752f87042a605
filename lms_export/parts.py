"""Inputs converted part by part: in constant memory, on every core.

A long quiz is read as a stream of parts (see :func:`lms_export.readers.read_parts`),
each a small deck that is checked and rendered on its own. :func:`map_parts`
sends the parts to worker processes, a few ahead of the one being written,
and hands the results back in input order, so the output is the same bytes
whether it was made on one core or many. Workers are forked: they start with
everything already imported, in a few milliseconds. Where fork is missing, or
there is one core or one part, the parts are done in this process.

Bad input in a part does not stop the others: every part is checked, and
then every problem of every part is raised together, as the whole-file
readers do. Warnings raised in a worker are raised again here, in order.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
import tempfile
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, TypeVar

from lms_export.deckfile import Locations, build_deck
from lms_export.errors import LmsExportError, Problem
from lms_export.model import Deck

if TYPE_CHECKING:
    from lms_export.exporters import Format

Part = TypeVar("Part")
Result = TypeVar("Result")
#: A part as a reader makes it: a raw deck and the line of each of its fields.
RawPart = tuple[dict[str, Any], Locations]


class Outcome(NamedTuple):
    """What one part came to, carried back from a worker."""

    result: Any
    warnings: list[warnings.WarningMessage]
    problems: list[Problem]


def _run(function: Callable[[Part], Result], part: Part) -> Outcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return Outcome(function(part), caught, [])
        except LmsExportError as error:
            return Outcome(None, caught, error.problems)


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def map_parts(
    function: Callable[[Part], Result], parts: Iterable[Part], workers: int | None = None
) -> Iterator[Result]:
    """``function`` of each part, in order; then every problem any part had, as one error.

    ``function`` and its results must pickle when there is more than one
    worker: a module-level function, or a partial of one.
    """
    workers = cores() if workers is None else workers
    parts = iter(parts)
    head = list(islice(parts, 2))
    problems: list[Problem] = []
    if workers < 2 or len(head) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        outcomes: Iterator[Outcome] = (_run(function, part) for part in chain(head, parts))
        yield from _settle(outcomes, problems)
    else:
        gc.freeze()  # what exists now is shared with the workers: no collection need copy or walk it
        # An executor, not a Pool: if a worker dies (out of memory, killed), the
        # conversion fails at once with BrokenProcessPool instead of waiting forever.
        context = multiprocessing.get_context("fork")
        try:
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                yield from _settle(_in_pool(pool, function, chain(head, parts), ahead=2 * workers), problems)
        except BrokenProcessPool:
            raise LmsExportError(
                "a worker process ended abruptly (out of memory, or killed); nothing was written"
            ) from None
        finally:
            gc.unfreeze()
    if problems:
        raise LmsExportError(problems)


def _in_pool(pool: ProcessPoolExecutor, function: Callable, parts: Iterator, ahead: int) -> Iterator[Outcome]:
    """Outcomes in order, with at most ``ahead`` parts in flight, so memory stays flat."""
    pending: deque = deque()
    for part in parts:
        pending.append(pool.submit(_run, function, part))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _settle(outcomes: Iterable[Outcome], problems: list[Problem]) -> Iterator[Any]:
    for outcome in outcomes:
        for caught in outcome.warnings:
            warnings.warn_explicit(caught.message, caught.category, caught.filename, caught.lineno)
        if outcome.problems:
            problems.extend(outcome.problems)
        elif not problems:
            yield outcome.result


# -- a file converted in parts --------------------------------------------------


class ReadParts(NamedTuple):
    """A file's raw parts, read as they are needed."""

    file: str
    base_dir: Path
    raw: Iterator[RawPart]


def _check_and_render(render_part: Callable, file: str, base_dir: Path, options: dict, raw_part: RawPart) -> Any:
    raw, locations = raw_part
    return render_part(build_deck(raw, file=file, locations=locations, base_dir=base_dir), **options)


def convert(parts: ReadParts, fmt: Format, out: BinaryIO, *, progress: Callable[[int], None], **options: Any) -> None:
    """Convert a file read in parts with a format that writes parts: each checked and rendered on a worker.

    ``progress`` is told how many questions each part had as it is read.
    """

    def counted(raw_parts: Iterator[RawPart]) -> Iterator[RawPart]:
        for raw_part in raw_parts:
            progress(sum(len(card.get("questions") or ()) for card in raw_part[0].get("cards") or ()))
            yield raw_part

    with tempfile.TemporaryDirectory(prefix="lms-export-") as scratch:
        render = partial(
            _check_and_render, fmt.render_part, parts.file, parts.base_dir, {**options, "scratch": Path(scratch)}
        )
        fmt.write_parts(map_parts(render, counted(parts.raw)), out, **options)


def write_in_parts(
    deck: Deck,
    out: BinaryIO,
    render_part: Callable[..., Any],
    write_parts: Callable[..., None],
    *,
    progress: Callable[[int], None],
    **options: Any,
) -> None:
    """A deck in memory, written by a format that writes parts: a part per card, rendered in this process."""
    with tempfile.TemporaryDirectory(prefix="lms-export-") as scratch:
        rendered = (
            render_part(dataclasses.replace(deck, cards=(card,)), scratch=Path(scratch), **options)
            for card in deck.cards
        )
        write_parts(rendered, out, progress=progress, **options)
