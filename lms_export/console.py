"""How the commands talk to a person at a terminal: warnings, errors, progress.

Shared by every command (``lms-export`` and ``lms-export lti``) so that bad
input always reads the same: ``error:`` lines on stderr and exit 1, never a
traceback; lossy conversions as ``warning:`` lines.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from lms_export.errors import ExportWarning, LmsExportError


@contextmanager
def reporting(quiet: bool = False) -> Iterator[None]:
    """Warnings as ``warning: ...`` lines on stderr; bad input as exit 1, never a traceback."""

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, ExportWarning) and not quiet:
            click.echo(f"warning: {message}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", ExportWarning)
        warnings.showwarning = show
        try:
            yield
        except LmsExportError as error:
            for problem in error.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(1)


@contextmanager
def progress_bar(total: int, label: str, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A bar on stderr when it is a terminal; silent otherwise."""
    if quiet or total < 2 or not sys.stderr.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


@contextmanager
def progress_count(label: str, unit: str, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A running count on stderr when it is a terminal, for work whose total is not known until the end."""
    if quiet or not sys.stderr.isatty():
        yield lambda n: None
        return
    done = 0
    shown = 0.0

    def update(n: int) -> None:
        nonlocal done, shown
        done += n
        if time.monotonic() - shown > 0.1:
            shown = time.monotonic()
            click.echo(f"\r{label}: {done:,} {unit}", nl=False, err=True)

    yield update
    click.echo(f"\r{label}: {done:,} {unit}", err=True)
