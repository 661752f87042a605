"""Card pages as the learning platform prints them: copied text, not a file format.

A user who cannot export a card can still copy its page. The copy has a fixed
layout: a ``Title: subtitle`` line, a ``<Difficulty> <Topic>`` line, a
``Created by NAME · DD.MM.YYYY at HH:MM UTC`` line, the body paragraphs, then
the headed sections ``Sources``, ``Related cards``, ``Video Content``,
``Tasks``, ``Card Info`` and ``Creator``. This reader turns that layout into
the raw deck structure, notes the line of every part, and leaves all checking
of values to :func:`~lms_export.deckfile.build_deck`, as every reader does.

The page loses two things, and the reader says so in one warning rather than
guessing: a task's answer choices (the page shows only the prompt and the
hint, so tasks become essay questions), and sources the body cites but the
page no longer lists (such a ``[n]`` is kept as visible text, ``\\[n\\]``,
since a citation of a missing source is an error in a deck).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lms_export import render
from lms_export.deckfile import Path_, build_deck, markdown_fields
from lms_export.errors import LmsExportError, Problem, warn
from lms_export.model import DIFFICULTIES, Deck

NAME = "cardpage"
#: A ``.txt`` page is told from a text2qti quiz by :func:`looks_like`, not by name.
EXTENSIONS = ()

#: Section headings, as printed, to the section each starts.
_HEADINGS = {
    "sources": "sources",
    "related cards": "related",
    "video content": "video",
    "tasks": "tasks",
    "card info": "info",
    "creator": "creator",
}
_CREATED = re.compile(
    r"^Created\s+by\s+(?P<name>.+?)\s*(?:[·•|,]\s*)?"
    r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"
    r"(?:\s*,?\s*(?:at\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2}))?\s*(?:UTC|GMT|Z)?$",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"^Question\s+(\d+)$", re.IGNORECASE)
#: A page counter, not card content.
_APPROVALS = re.compile(r"^University\s+approvals\b", re.IGNORECASE)
_BULLET = re.compile(r"^[•·*–-]+\s*")
_URL = re.compile(r"https?://[^\s<>\"]+")
_NUMBERED_SOURCE = re.compile(r"^(?:\[(\d+)\]|(\d+)[.)])\s*(.*)$")
#: What separates a title from its URL on one line: ``Title — url``, ``Title: url``, ``Title (url)``.
_SEPARATORS = " \t—–-:|,·"
#: ``accuracy .``: a space before a period, left where the page dropped a citation.
_STRAY_PERIOD = re.compile(r"(?<=\S)[ \t]+\.(?=\s|$)")
_TEXT2QTI_START = re.compile(r"^(?:Quiz\s+title:|\d+[.)]\s)", re.IGNORECASE)

Line = tuple[int, str]


def looks_like(text: str) -> bool:
    """True for a copied card page: a ``Created by`` line near the top, a ``Tasks`` heading after it.

    Deliberately independent of the title and body, so a page with a missing
    title still reaches this reader, whose errors say what is missing; text2qti
    quizzes (``Quiz title:`` or a numbered question first) never match.
    """
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines or _TEXT2QTI_START.match(lines[0]):
        return False
    created = next((i for i, line in enumerate(lines[:6]) if _CREATED.match(line)), None)
    return created is not None and any(line.lower() == "tasks" for line in lines[created + 1 :])


def read(text: str, *, file: str, base_dir: Path | None = None) -> Deck:
    """The page as a one-card deck, warning once about what the page could not carry."""
    page = _Page(file)
    raw = page.parse(text)
    deck = build_deck(raw, file=file, locations=page.locations, base_dir=base_dir)
    page.warn_losses()
    return deck


def slug(text: str) -> str:
    """An identifier from a title: ASCII letters and digits joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:128].rstrip("-")


class _Page:
    """One page being read: the raw card, the line of each part and the problems found."""

    def __init__(self, file: str):
        self.file = file
        self.locations: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self.card_id: str | None = None
        self.essays: list[str] = []
        self.uncited: set[int] = set()

    def problem(self, line: int | None, message: str, question: str | None = None) -> None:
        self.problems.append(Problem(message, file=self.file, line=line, card=self.card_id, question=question))

    def at(self, path: Path_, line: int) -> None:
        self.locations[("cards", 0, *path)] = line

    # -- the page --------------------------------------------------------

    def parse(self, text: str) -> dict[str, Any]:
        lines = [(n, line.strip()) for n, line in enumerate(text.lstrip("\ufeff").splitlines(), 1)]
        header, sections = self.split(lines)
        card: dict[str, Any] = {}
        self.header(header, card)
        info = self.card_info(sections.get("info", (0, []))[1])
        for key in ("topic", "difficulty"):
            if key in info:
                card[key] = info[key][1]
                self.at((key,), info[key][0])
        self.creator(sections.get("creator", (0, []))[1], card)
        card["sources"] = self.sources(sections.get("sources", (0, []))[1])
        self.video(sections.get("video", (0, []))[1], card)
        card["related"] = self.related(sections.get("related", (0, []))[1])
        if "tasks" in sections:
            card["questions"] = self.tasks(sections["tasks"][1])
        else:
            following = [sections[s][0] for s in ("info", "creator") if s in sections]
            where = min(following) if following else (lines[-1][0] if lines else 1)
            self.problem(where, "no 'Tasks' section: a card page lists its tasks under a 'Tasks' heading")
        if self.problems:
            raise LmsExportError(self.problems)
        self.escape_uncited(card)
        card = {key: value for key, value in card.items() if value not in (None, [], "")}
        self.locations[("id",)] = self.locations[("title",)] = self.locations[("cards", 0)]
        return {"id": card["id"], "title": card["title"], "cards": [card]}

    def split(self, lines: list[Line]) -> tuple[list[Line], dict[str, tuple[int, list[Line]]]]:
        """The lines before the first heading, and each section's heading line and content."""
        header: list[Line] = []
        sections: dict[str, tuple[int, list[Line]]] = {}
        current = header
        for n, line in lines:
            name = _HEADINGS.get(line.lower())
            if name is None:
                if current is header or not _APPROVALS.match(line):
                    current.append((n, line))
            elif name in sections:
                self.problem(n, f"a second '{line}' section (the first is at line {sections[name][0]})")
                current = []
            else:
                current = []
                sections[name] = (n, current)
        return header, sections

    def header(self, lines: list[Line], card: dict[str, Any]) -> None:
        """Title, difficulty and topic, creator and date, then the body paragraphs."""
        filled = [(n, line) for n, line in lines if line]
        created = next((i for i, (_, line) in enumerate(filled) if _CREATED.match(line)), None)
        if not filled:
            self.problem(lines[0][0] if lines else 1, "no title: the page should start with its 'Title: subtitle' line")
            return
        if created is None:
            self.problem(filled[0][0], "no 'Created by NAME · DD.MM.YYYY at HH:MM UTC' line below the title")
            return
        first = filled[0][1]
        if created == 0 or (created == 1 and ": " not in first and _difficulty_line(first)):
            what = "the 'Created by' line" if created == 0 else f"{first!r} is the difficulty and topic line"
            self.problem(filled[0][0], f"no title: the page should start with its 'Title: subtitle' line, but {what}")
            return
        if created > 2:
            self.problem(filled[2][0], f"unexpected line {filled[2][1]!r} between the title and the 'Created by' line")
            return
        self.title(*filled[0], card)
        if created == 2:
            n, line = filled[1]
            difficulty = _difficulty_line(line)
            card["topic"] = line if difficulty is None else line.split(None, 1)[1]
            card["difficulty"] = difficulty
            self.at(("topic",), n)
            self.at(("difficulty",), n)
        self.created(*filled[created], card)
        start = lines.index(filled[created]) + 1
        self.at(("body",), next((n for n, line in lines[start:] if line), filled[created][0]))
        card["body"] = "\n\n".join(_paragraphs(lines[start:]))

    def title(self, n: int, line: str, card: dict[str, Any]) -> None:
        title, _, subtitle = line.partition(": ")
        title, subtitle = title.strip(), subtitle.strip()
        self.card_id = slug(title)
        if not title or not self.card_id:
            self.problem(n, f"cannot make a card id from the title {title!r}: it needs some letters or digits")
        card.update(id=self.card_id, title=title, subtitle=subtitle)
        for key in ("id", "title", "subtitle"):
            self.at((key,), n)
        self.locations[("cards", 0)] = n

    def created(self, n: int, line: str, card: dict[str, Any]) -> None:
        m = _CREATED.match(line)
        assert m is not None
        try:
            card["created"] = datetime(
                int(m["year"]),
                int(m["month"]),
                int(m["day"]),
                int(m["hour"] or 0),
                int(m["minute"] or 0),
                tzinfo=timezone.utc,
            )
        except ValueError as error:
            self.problem(n, f"the creation date is not a real date and time ({error})")
        card["creator"] = {"name": m["name"]}
        self.at(("created",), n)
        self.at(("creator",), n)

    # -- sections --------------------------------------------------------

    def card_info(self, lines: list[Line]) -> dict[str, tuple[int, str]]:
        """``Topic:`` and ``Difficulty:`` bullets; they confirm or correct the line below the title."""
        info: dict[str, tuple[int, str]] = {}
        for n, line in lines:
            key, sep, value = _BULLET.sub("", line).partition(":")
            if sep and key.strip().lower() in ("topic", "difficulty") and value.strip():
                info[key.strip().lower()] = (n, value.strip())
        return info

    def creator(self, lines: list[Line], card: dict[str, Any]) -> None:
        """Name lines then the handle: the last line, when it differs from the name."""
        names = [(n, line) for n, line in lines if line]
        if not names:
            return
        creator = card.setdefault("creator", {"name": names[0][1]})
        if ("cards", 0, "creator") not in self.locations:
            self.at(("creator",), names[0][0])
        n, last = names[-1]
        if len(names) > 1 and last != creator["name"]:
            creator["handle"] = last
            self.at(("creator", "handle"), n)

    def sources(self, lines: list[Line]) -> list[dict[str, Any]]:
        """``[2] Title https://url``, ``2. Title — url``, a bare URL line for the source above, or a plain title."""
        sources: list[dict[str, Any]] = []
        for n, line in lines:
            if not line:
                continue
            line = _BULLET.sub("", line)
            numbered = _NUMBERED_SOURCE.match(line)
            if numbered is None and _URL.fullmatch(line) and sources and "url" not in sources[-1]:
                sources[-1]["url"] = _title_and_url(line)[1]
                self.at(("sources", len(sources) - 1, "url"), n)
                continue
            if numbered is not None:
                source_id, rest = int(numbered[1] or numbered[2]), numbered[3]
            else:
                source_id, rest = (sources[-1]["id"] + 1 if sources else 1), line
            title, url = _title_and_url(rest)
            source = {"id": source_id, "title": title or url}
            if url:
                source["url"] = url
            self.at(("sources", len(sources)), n)
            sources.append(source)
        return sources

    def video(self, lines: list[Line], card: dict[str, Any]) -> None:
        """The first URL is the video; text beside it, or on another line, its title."""
        titles = []
        for n, line in lines:
            title, url = _title_and_url(line)
            if url and "video" not in card:
                card["video"] = {"url": url}
                self.at(("video",), n)
            if title:
                titles.append(title)
        if "video" in card and titles:
            card["video"]["title"] = titles[0]

    def related(self, lines: list[Line]) -> list[str]:
        """Related card titles as ids, made the way this reader makes a card's id from its title."""
        related: list[str] = []
        for n, line in lines:
            title = _BULLET.sub("", line).partition(": ")[0].strip()
            if not title:
                continue
            card_id = slug(title)
            if not card_id:
                self.problem(n, f"cannot make a card id from the related card {title!r}")
            elif card_id not in related:
                self.at(("related", len(related)), n)
                related.append(card_id)
        return related

    def tasks(self, lines: list[Line]) -> list[dict[str, Any]]:
        """``Question N``, its prompt, ``Hint``, the hint: each becomes an essay question."""
        blocks: list[tuple[int, str, list[Line]]] = []
        for n, line in lines:
            number = _QUESTION.match(line)
            if number is not None:
                blocks.append((n, f"q{int(number[1])}", []))
            elif blocks:
                blocks[-1][2].append((n, line))
            elif line:
                self.problem(n, f"expected 'Question 1' at the start of the tasks, found {line!r}")
                return []
        questions = []
        for n, question_id, block in blocks:
            hints = [i for i, (_, line) in enumerate(block) if line.lower() == "hint"]
            cut = hints[0] if hints else len(block)
            prompt, hint = block[:cut], block[cut + 1 :]
            if len(hints) > 1:
                self.problem(block[hints[1]][0], "a second 'Hint' in one task", question_id)
            if not any(line for _, line in prompt):
                self.problem(n, f"'Question {question_id[1:]}' has no prompt before its hint", question_id)
                continue
            index = len(questions)
            question = {"id": question_id, "type": "essay", "prompt": "\n\n".join(_paragraphs(prompt))}
            self.at(("questions", index), n)
            self.at(("questions", index, "prompt"), next(m for m, line in prompt if line))
            if any(line for _, line in hint):
                question["hint"] = "\n\n".join(_paragraphs(hint))
                self.at(("questions", index, "hint"), next(m for m, line in hint if line))
            questions.append(question)
            self.essays.append(question_id)
        return questions

    # -- what the page lost ------------------------------------------------

    def escape_uncited(self, card: dict[str, Any]) -> None:
        """Turn citations of sources the page does not list into visible text, noting which."""
        known = {s["id"] for s in card["sources"]}
        for _, container, key in markdown_fields(card):
            container[key], escaped = render.escape_citations(container[key], keep=known)
            self.uncited |= escaped

    def warn_losses(self) -> None:
        losses = []
        if self.essays:
            losses.append(
                f"the page shows no answer choices, so tasks {', '.join(self.essays)} were imported as essay"
                " questions (write the choices in a deck file to score them automatically)"
            )
        if self.uncited:
            cited = ", ".join(f"[{i}]" for i in sorted(self.uncited))
            losses.append(f"the text cites {cited} but the page lists no such source, so it was kept as plain text")
        if losses:
            warn(f"{self.file}: " + "; ".join(losses))


def _difficulty_line(line: str) -> str | None:
    """The difficulty when the line reads ``<Difficulty> <Topic>``."""
    words = line.split(None, 1)
    return words[0].lower() if len(words) == 2 and words[0].lower() in DIFFICULTIES else None


def _paragraphs(lines: list[Line]) -> list[str]:
    """Blank-line separated paragraphs, each tidied of stray ``word .`` periods."""
    paragraphs: list[list[str]] = [[]]
    for _, line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [_STRAY_PERIOD.sub(".", "\n".join(p)) for p in paragraphs if p]


def _title_and_url(text: str) -> tuple[str, str | None]:
    """Split ``Title — https://url`` (either order) into its title and URL."""
    m = _URL.search(text)
    if m is None:
        return text.strip(), None
    url = m.group().rstrip(".,;")
    if url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    before = text[: m.start()].strip().rstrip(_SEPARATORS + "(<")
    after = text[m.start() + len(url) :].strip().lstrip(_SEPARATORS + ")>.,;").strip()
    return " ".join(part for part in (before, after) if part), url
