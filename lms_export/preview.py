"""``lms-export preview``: the card pages as a static site, to look at before importing.

The same pages a SCORM package carries, with no LMS: each card's quiz runs
and scores in the browser, and nothing is reported anywhere. The site opens
from the folder (``index.html``) with no web server::

    index.html              the deck, a link per card
    cards/<card id>.html
    assets/...
    media/...

The site is built in a temporary folder beside the target and moved into
place file by file only when every page was written, so a failed run leaves
the target as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from lms_export import page, qti
from lms_export.errors import LmsExportError, Problem
from lms_export.model import Card, Deck


def card_path(card: Card) -> str:
    return f"cards/{card.id}.html"


def _write(path: Path, chunks: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(chunks)


def write_site(deck: Deck, target: Path, progress: Callable[[int], None] = lambda n: None) -> list[str]:
    """Write the site into the folder ``target``; returns the files written, relative to it."""
    if target.exists() and not target.is_dir():
        raise LmsExportError(Problem("is a file; name a folder for the site", file=str(target)))
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {**qti.media_files(deck), **page.asset_files()}
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as work:
        staging = Path(work)
        for name, source in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staging / name)
        _write(staging / "index.html", page.render_index(deck, card_path)())
        for card in deck.cards:
            produce = page.render_page(
                deck,
                (card,),
                root="../",
                related_href=lambda card_id: f"{card_id}.html",
            )
            _write(staging / card_path(card), produce())
            progress(1)
        written = sorted(str(p.relative_to(staging).as_posix()) for p in staging.rglob("*") if p.is_file())
        for name in written:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, target / name)
    return written
