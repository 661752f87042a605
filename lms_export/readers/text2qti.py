"""text2qti plain-text quizzes: one quiz file becomes a deck of one card.

text2qti (https://github.com/gpoore/text2qti) is the Markdown-based quiz format
many Canvas instructors already write, so a quiz they have need not be typed
again as a deck file. The grammar is read in one pass over the lines, and the
result is the raw deck structure with the line of each part: the shared
:func:`~lms_export.deckfile.build_deck` then checks it exactly as it checks a
deck file, and its errors point into the quiz.

Only what the grammar alone can tell is reported here (a line that is no
text2qti construct, two kinds of answer in one question, a bad ``Points:``);
what a deck file could get wrong as well, such as a single-choice question
with two correct answers, is left to the shared validator.

Executable code blocks are refused: text2qti runs them to generate questions,
and a converter must never run code that arrived in an input file.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from lms_export import render
from lms_export.deckfile import Path_, build_deck, join_parts
from lms_export.errors import LmsExportError, Problem, warn
from lms_export.model import Deck
from lms_export.parts import RawPart, map_parts

NAME = "text2qti"
EXTENSIONS = (".txt", ".md")

#: The line starts that text2qti marks with symbols. One alternation anchored at
#: the line start, with no nested repetition, so matching is linear in the line.
_MARKER = re.compile(
    r"(?P<question>\d+\.)|(?P<choice>\*?[A-Za-z]\))|(?P<answer_choice>\[(?:\*| ?)\])|(?P<feedback>\.\.\.)"
    r"|(?P<essay>___+)|(?P<upload>\^\^\^+)|(?P<short>\*)|(?P<correct>\+)|(?P<incorrect>-)|(?P<solution>!)"
    r"|(?P<numerical>=)"
)
#: The line starts that text2qti spells as words ending in a colon, lower-cased.
_KEYWORDS = {
    "title": "title",
    "points": "points",
    "text title": "text_title",
    "text": "text",
    "quiz title": "quiz_title",
    "quiz description": "quiz_description",
    "pick": "pick",
    "solutions pick": "solutions_pick",
    "points per question": "points_per_question",
    **dict.fromkeys(
        (
            "shuffle answers",
            "show correct answers",
            "one question at a time",
            "can't go back",
            "feedback is solution",
            "solutions sample groups",
            "solutions randomize groups",
        ),
        "option",
    ),
}
#: Kinds whose text may continue on indented lines; the titles only up to a blank line.
_MULTI_LINE = {
    "question", "choice", "answer_choice", "feedback", "correct", "incorrect", "solution",
    "title", "text_title", "quiz_title", "text", "quiz_description",
}  # fmt: skip
_TITLES = {"title", "text_title", "quiz_title"}
#: Kinds whose text is Markdown in which a "[3]" would read as a citation. A quiz has
#: no sources, so there it is the author's text, and is escaped to stay as written.
_CITING = {
    "question",
    "choice",
    "answer_choice",
    "feedback",
    "correct",
    "incorrect",
    "text_title",
    "text",
    "quiz_description",
}
_NO_CONTENT = {"essay", "upload"}
#: Lines allowed between ``Title:``/``Points:`` and the question they belong to.
_QUESTION_PREFIX = {"question", "title", "points"}

#: How messages name each kind of answer line, and the question type it makes.
_ANSWERS = {
    "choice": ("a choice ('a)')", "single_choice"),
    "answer_choice": ("a multiple-answers choice ('[ ]')", "multiple_answers"),
    "short": ("a short answer ('*')", "short_answer"),
    "numerical": ("a numerical answer ('=')", "numerical"),
    "essay": ("an essay answer ('___')", "essay"),
    "upload": ("a file-upload answer ('^^^')", "essay"),
}
#: Answer kinds a question has at most one line of.
_ONCE = {"numerical", "essay", "upload"}

_NUMERICAL_FORMS = "write '= 1.41 +- 0.01', '= 1.41 +- 1%', '= [1.2, 1.3]' or an exact integer such as '= 1_000'"
_UNEXPECTED = (
    "a line must start a question ('1. '), a choice ('a) ', '*a) ', '[ ] ', '[*] '), an answer ('* ', '= ', "
    "'___', '^^^'), feedback ('... ', '+ ', '- ') or a setting such as 'Title: '"
)
#: How many file-upload questions the one warning about them names; the rest are counted.
_LISTED_UPLOADS = 5


#: Questions in a part when a quiz is read in parts: enough that a part's own
#: cost is small, few enough that a part's model and XML are small in memory.
PART_SIZE = 250


def read(text: str, *, file: str, base_dir: Path | None = None) -> Deck:
    """The quiz as one deck: its parts, each checked, joined."""
    build = partial(_build, file, base_dir)
    return join_parts(list(map_parts(build, parts(io.StringIO(text, newline=""), file), workers=1)))


def _build(file: str, base_dir: Path | None, raw_part: RawPart) -> Deck:
    raw, locations = raw_part
    return build_deck(raw, file=file, locations=locations, base_dir=base_dir)


def parts(lines: Iterable[str], file: str, size: int = PART_SIZE) -> Iterator[RawPart]:
    """The quiz as raw decks of one card and about ``size`` questions each, with the line of each of their parts.

    A quiz of any length is read in constant memory: lines are taken one at a
    time and each part is handed on as soon as its questions are complete (a
    GROUP stays in one part). Every part names the same card, whose questions
    are the quiz's in order (ids ``q1``, ``q2``, ...); the text regions between
    them are the card's body, part by part. The losses to warn about are
    warned once the quiz is read; every grammar problem in the file is raised
    then as one :class:`LmsExportError`, so an author fixes them in one round.
    """
    parser = _Parser(file, size)
    yield from parser.run(_Lines(lines))
    if parser.problems:
        parser.problems.sort(key=lambda p: p.line or 0)
        raise LmsExportError(parser.problems)
    for note in parser.notes:
        warn(note)


def identifier(stem: str) -> str:
    """A deck or card id from a file name: accents dropped, other runs of non-id characters made one '-'."""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_stem).strip("-")[:128].strip("-") or "quiz"


@dataclass
class _Group:
    """An open GROUP: where it started and the settings that matter for the warning and the points."""

    line: int
    start: int
    pick: int = 1
    points: float | None = None
    points_line: int | None = None


class _Lines:
    """The quiz's lines one at a time, with a look at the next one; the file is never held whole."""

    __slots__ = ("_lines", "_next", "number")

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self.number = 0  # of the line last taken
        self._next = self._read()

    def _read(self) -> str | None:
        line = next(self._lines, None)
        return None if line is None else line.rstrip("\r\n")

    def peek(self) -> str | None:
        """The next line, not yet taken; None at the end."""
        return self._next

    def take(self) -> str:
        line = self._next
        self._next = self._read()
        self.number += 1
        return line


class _Parser:
    """One pass over the quiz lines, building raw questions part by part and recording problems."""

    def __init__(self, file: str, part_size: int):
        self.file = file
        self.part_size = part_size
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.count = 0  # questions so far, in every part
        self.title: str | None = None
        self.title_line: int | None = None
        self.description: str | None = None
        self.description_line: int | None = None
        self.shuffle = False
        self.group: _Group | None = None
        self.uploads: list[tuple[str, int]] = []
        #: ``Title:`` and ``Points:`` waiting for their question: key -> (value, line).
        self.pending: dict[str, tuple[Any, int]] = {}
        # The part being read: its questions, the line of each of their parts, its text regions.
        self.questions: list[dict[str, Any]] = []
        self.locations: dict[Path_, int] = {}
        self.body: list[str] = []
        self.body_line: int | None = None
        self.finished: list[RawPart] = []
        # The question being read.
        self.q: dict[str, Any] | None = None
        self.q_path: Path_ = ()
        self.q_line = 0
        self.kind: str | None = None
        self.choice: dict[str, Any] | None = None
        self.choice_path: Path_ = ()
        self.choice_ids: set[str] = set()
        self.handlers = {
            "question": self.question,
            "choice": self.mc_choice,
            "answer_choice": self.answer_choice,
            "short": self.short,
            "numerical": self.numerical,
            "essay": self.essay,
            "upload": self.upload,
            "feedback": self.feedback,
            "correct": self.right_or_wrong,
            "incorrect": self.right_or_wrong,
            "solution": self.solution,
            "title": self.question_title,
            "points": self.points,
            "quiz_title": self.quiz_title,
            "quiz_description": self.quiz_description,
            "text_title": self.text_title,
            "text": self.text_region,
            "pick": self.pick,
            "solutions_pick": self.pick,
            "points_per_question": self.points_per_question,
            "option": self.option,
        }

    def error(self, line: int | None, message: str, question: str | None = None) -> None:
        self.problems.append(Problem(message, file=self.file, line=line, question=question))

    # -- the pass over the lines -----------------------------------------

    def run(self, lines: _Lines) -> Iterator[RawPart]:
        """The raw parts, each as soon as it is complete."""
        while lines.peek() is not None:
            line = lines.take()
            lineno = lines.number
            if self.finished:
                yield from self.finished
                self.finished.clear()
            if not line or line.isspace() or line[0] == "%":
                continue
            if line[0] in " \t":
                self.error(
                    lineno,
                    f"unexpected indented text {_snippet(line)}: a wrapped line must be indented as "
                    "far as the text on the first line of its question, choice or feedback",
                )
                while (
                    (following := lines.peek()) is not None and following[:1] in (" ", "\t") and not following.isspace()
                ):
                    lines.take()
                continue
            if line.startswith("```"):
                self.fence(lines, line, lineno)
                continue
            word = line.rstrip() if line[0] in "CEG" else ""
            if word in ("GROUP", "END_GROUP", "COMMENT", "END_COMMENT"):
                self.settle_pending()
                if word == "COMMENT":
                    self.comment(lines, lineno)
                elif word == "END_COMMENT":
                    self.error(lineno, "END_COMMENT without a COMMENT line before it")
                elif word == "GROUP":
                    self.start_group(lineno)
                else:
                    self.end_group(lineno)
                continue
            match = _MARKER.match(line)
            if match:
                kind, end = match.lastgroup, match.end()
            else:
                colon = line.find(":", 0, 32)
                kind, end = _KEYWORDS.get(line[:colon].lower()) if colon > 0 else None, colon + 1
                if kind is None:
                    self.error(lineno, f"unexpected text {_snippet(line)}: {_UNEXPECTED}")
                    continue
            marker = line[:end]
            content = line[end:].lstrip(" \t")
            start = len(line) - len(content)
            content = content.rstrip()
            # A malformed line is still read where that spares a second error
            # about the same mistake, as answers read as lying outside any question.
            if kind in _NO_CONTENT:
                if content:
                    self.error(lineno, f"nothing may follow {marker!r} on its line")
            elif not content:
                self.error(lineno, f"nothing after {marker!r}")
                if kind != "question":
                    continue
            elif start == end:
                self.error(lineno, f"a space must follow {marker!r}")
            if kind in _MULTI_LINE:
                # Marked text continues at the column its first line's text starts at;
                # after a keyword, the first continuation line sets the indentation.
                indent = len(line[:start].expandtabs(4)) if match else None
                content = _continuation(lines, content, indent, kind not in _TITLES)
            if self.pending and kind not in _QUESTION_PREFIX:
                self.settle_pending()
            if "[" in content and kind in _CITING:
                content = render.escape_citations(content)[0]
            self.handlers[kind](content, lineno, marker)
        self.end_question()
        self.settle_pending()
        if self.group is not None:
            self.error(self.group.line, "GROUP is never closed by an END_GROUP line")
            self.group = None
        if not self.count and not self.problems:
            self.error(None, "no questions found: a question starts with a number and a period, as in '1.  What is...'")
        yield from self.finished
        if self.questions or self.body or not self.count:
            yield self.part()
        if self.uploads:
            listed = ", ".join(f"{qid} (line {line})" for qid, line in self.uploads[:_LISTED_UPLOADS])
            more = len(self.uploads) - _LISTED_UPLOADS
            self.notes.append(
                f"{self.file}: file upload is not a supported question type; these questions become essays: "
                f"{listed}{f' and {more} more' if more > 0 else ''}"
            )

    def fence(self, lines: _Lines, line: str, lineno: int) -> None:
        """Report a top-level code fence and skip its block, whose lines are no quiz lines."""
        fence = "`" * (len(line) - len(line.lstrip("`")))
        info = line[len(fence) :].strip()
        if ".run" in info.strip("{}").split():
            self.error(
                lineno,
                "executable code blocks are not supported: lms-export never runs code from its "
                "input; run the code yourself and paste the questions it prints",
            )
        else:
            self.error(lineno, "a code block must be indented under the question, choice or feedback it belongs to")
        while lines.peek() is not None:
            if lines.take().rstrip() == fence:
                break

    def comment(self, lines: _Lines, lineno: int) -> None:
        """Skip a COMMENT block, up to and with its END_COMMENT line."""
        while lines.peek() is not None:
            line = lines.take()
            if line.startswith("END_COMMENT"):
                if line.rstrip() != "END_COMMENT":
                    self.error(lines.number, "nothing may follow END_COMMENT on its line")
                return
        self.error(lineno, "COMMENT is never closed by an END_COMMENT line")

    def settle_pending(self) -> None:
        """``Title:`` and ``Points:`` not followed by their question are reported where they stand."""
        for key, (_, line) in self.pending.items():
            self.error(line, f"'{key.title()}:' must be followed by the question it belongs to")
        self.pending.clear()

    # -- questions ---------------------------------------------------------

    def question(self, text: str, line: int, marker: str) -> None:
        self.end_question()
        if len(self.questions) >= self.part_size and self.group is None:
            self.finished.append(self.part())
        k = len(self.questions)
        self.count += 1
        path = ("cards", 0, "questions", k)
        q: dict[str, Any] = {"id": f"q{self.count}", "prompt": text}
        self.locations[path] = line
        for key, (value, where) in self.pending.items():
            q[key] = value
            self.locations[(*path, key)] = where
        self.pending.clear()
        self.questions.append(q)
        self.q, self.q_path, self.q_line = q, path, line
        self.kind, self.choice = None, None
        self.choice_ids.clear()

    def end_question(self) -> None:
        """Settle the question's type now that all its answers are known."""
        q = self.q
        if q is None:
            return
        self.q = None
        if self.kind is None:
            self.error(
                self.q_line,
                "the question has no answers: give choices ('a) ', '[ ] '), short answers "
                "('* '), a numerical answer ('= '), or '___' for an essay",
                q["id"],
            )
        elif self.kind == "choice":
            _true_false(q, self.q_path, self.locations)
        if self.shuffle and "choices" in q:
            q["shuffle"] = True

    def current(self, what: str, line: int) -> dict[str, Any] | None:
        """The question a line belongs to, or None (and a problem) before any question."""
        if self.q is None:
            self.error(line, f"{what} before any question")
        return self.q

    def answer(self, kind: str, line: int) -> dict[str, Any] | None:
        """The question, ready for an answer of this kind; None (and a problem) if it takes none."""
        what, question_type = _ANSWERS[kind]
        q = self.current(what, line)
        if q is None:
            return None
        if self.kind is None:
            self.kind = kind
            q["type"] = question_type
            if kind in ("choice", "answer_choice"):
                q["choices"] = []
            elif kind == "short":
                q["answers"], q["case_sensitive"] = [], False
        elif self.kind != kind:
            self.error(
                line,
                f"{what} in a question that has {_ANSWERS[self.kind][0]}: a question takes one kind of answer",
                q["id"],
            )
            return None
        elif kind in _ONCE:
            self.error(line, f"{what} given twice", q["id"])
            return None
        return q

    def mc_choice(self, text: str, line: int, marker: str) -> None:
        q = self.answer("choice", line)
        if q is None:
            return
        # text2qti lets letters repeat; ids must not, so a repeated letter gets its position.
        letter = marker[-2]
        choice_id = letter if letter not in self.choice_ids else f"{letter}{len(q['choices']) + 1}"
        self.choice_ids.add(choice_id)
        self.add_choice(q, {"id": choice_id, "text": text, "correct": marker[0] == "*"}, line)

    def answer_choice(self, text: str, line: int, marker: str) -> None:
        q = self.answer("answer_choice", line)
        if q is not None:
            self.add_choice(q, {"text": text, "correct": marker[1] == "*"}, line)

    def add_choice(self, q: dict[str, Any], choice: dict[str, Any], line: int) -> None:
        self.choice_path = (*self.q_path, "choices", len(q["choices"]))
        self.locations[self.choice_path] = line
        q["choices"].append(choice)
        self.choice = choice

    def short(self, text: str, line: int, marker: str) -> None:
        q = self.answer("short", line)
        if q is not None:
            self.locations[(*self.q_path, "answers", len(q["answers"]))] = line
            q["answers"].append(text)

    def numerical(self, text: str, line: int, marker: str) -> None:
        q = self.answer("numerical", line)
        if q is None:
            return
        values = _numerical(text)
        if values is None:
            self.error(
                line, f"numerical answer {text!r} is not a number form text2qti knows: {_NUMERICAL_FORMS}", q["id"]
            )
            return
        q.update(values)
        for key in values:
            self.locations[(*self.q_path, key)] = line

    def essay(self, text: str, line: int, marker: str) -> None:
        self.answer("essay", line)

    def upload(self, text: str, line: int, marker: str) -> None:
        q = self.answer("upload", line)
        if q is not None:
            self.uploads.append((q["id"], line))

    def feedback(self, text: str, line: int, marker: str) -> None:
        """``...`` after a choice is that choice's feedback; right after the question, the general one."""
        q = self.current("feedback ('...')", line)
        if q is None:
            return
        if self.choice is not None:
            if "feedback" in self.choice:
                self.error(line, "the choice already has feedback ('...')", q["id"])
            else:
                self.choice["feedback"] = text
                self.locations[(*self.choice_path, "feedback")] = line
        elif self.kind is not None:
            self.error(line, "feedback ('...') must come right after the question or right after a choice", q["id"])
        else:
            self.question_feedback(q, "general", text, line)

    def right_or_wrong(self, text: str, line: int, marker: str) -> None:
        what = f"feedback ('{marker}')"
        q = self.current(what, line)
        if q is None:
            return
        if self.kind is not None:
            self.error(line, f"{what} must come right after the question, before its answers", q["id"])
        else:
            self.question_feedback(q, "correct" if marker == "+" else "incorrect", text, line)

    def question_feedback(self, q: dict[str, Any], key: str, text: str, line: int) -> None:
        feedback = q.setdefault("feedback", {})
        if key in feedback:
            self.error(line, f"the question already has {key} feedback", q["id"])
        else:
            feedback[key] = text
            self.locations[(*self.q_path, "feedback", key)] = line

    def solution(self, text: str, line: int, marker: str) -> None:
        # Solutions only go into text2qti's printed answer key, which has no place in a deck.
        self.current("a solution ('!')", line)

    def question_title(self, text: str, line: int, marker: str) -> None:
        self.pend("title", text.replace("\n", " "), line)

    def points(self, text: str, line: int, marker: str) -> None:
        value = _points(text)
        if value is None:
            self.error(line, f"'Points: {text}' needs a positive whole or half number, such as 2 or 1.5")
        else:
            self.pend("points", value, line)

    def pend(self, key: str, value: Any, line: int) -> None:
        if key in self.pending:
            self.error(line, f"a second '{key.title()}:' for the same question")
        else:
            self.pending[key] = (value, line)

    # -- the quiz, text regions and groups ---------------------------------

    def quiz_title(self, text: str, line: int, marker: str) -> None:
        if self.title is not None:
            self.error(line, "a second 'Quiz title:'")
        elif self.count:
            self.error(line, "'Quiz title:' must come before the first question")
        else:
            self.title, self.title_line = text.replace("\n", " "), line

    def quiz_description(self, text: str, line: int, marker: str) -> None:
        if self.description is not None:
            self.error(line, "a second 'Quiz description:'")
        elif self.count:
            self.error(line, "'Quiz description:' must come before the first question")
        else:
            self.description, self.description_line = text, line
            self.add_body(text, line)

    def text_title(self, text: str, line: int, marker: str) -> None:
        self.end_question()
        self.add_body("### " + text.replace("\n", " "), line)

    def text_region(self, text: str, line: int, marker: str) -> None:
        self.end_question()
        self.add_body(text, line)

    def add_body(self, text: str, line: int) -> None:
        if self.body_line is None:
            self.body_line = line
        self.body.append(text)

    def option(self, text: str, line: int, marker: str) -> None:
        value = text.lower()
        if value not in ("true", "false"):
            self.error(line, f"{marker[:-1]!r} takes true or false, not {text!r}")
        elif marker.lower() == "shuffle answers:":
            if self.count:
                self.error(line, "'Shuffle answers:' must come before the first question")
            else:
                self.shuffle = value == "true"

    def start_group(self, line: int) -> None:
        self.end_question()
        if self.group is not None:
            self.error(line, "GROUP inside a GROUP: groups cannot be nested")
        else:
            self.group = _Group(line, len(self.questions))

    def end_group(self, line: int) -> None:
        self.end_question()
        group = self.group
        if group is None:
            self.error(line, "END_GROUP without a GROUP line before it")
            return
        self.group = None
        questions = self.questions[group.start :]
        if group.points is not None:
            # Canvas scores a group's questions by its points per question, whatever each says.
            for k, q in enumerate(questions, group.start):
                q["points"] = group.points
                self.locations[("cards", 0, "questions", k, "points")] = group.points_line
        self.notes.append(
            f"{self.file}:{group.line}: GROUP keeps all {len(questions)} of its questions; random selection "
            f"(pick {group.pick}) is not carried over, so every student gets every question"
        )

    def pick(self, text: str, line: int, marker: str) -> None:
        if self.group is None:
            self.error(line, f"{marker!r} outside a GROUP")
            return
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value <= 0:
            self.error(line, f"{marker!r} needs a positive whole number, not {text!r}")
        elif marker.lower() == "pick:":
            self.group.pick = value

    def points_per_question(self, text: str, line: int, marker: str) -> None:
        value = _points(text)
        if self.group is None:
            self.error(line, f"{marker!r} outside a GROUP")
        elif value is None:
            self.error(line, f"{marker!r} needs a positive whole or half number, not {text!r}")
        else:
            self.group.points, self.group.points_line = value, line

    # -- the result --------------------------------------------------------

    def part(self) -> RawPart:
        """The part read so far as a raw deck of one card, with its lines; the next part starts empty."""
        stem = Path(self.file).stem
        ident = identifier(stem)
        title = self.title or stem or ident
        card: dict[str, Any] = {"id": ident, "title": title, "questions": self.questions}
        deck: dict[str, Any] = {"id": ident, "title": title, "cards": [card]}
        locations = self.locations
        if self.body:
            card["body"] = "\n\n".join(self.body)
            locations[("cards", 0, "body")] = self.body_line
        if self.description is not None:
            deck["description"] = self.description
            locations[("description",)] = self.description_line
        if self.title_line is not None:
            locations[("title",)] = locations[("cards", 0, "title")] = self.title_line
        self.questions, self.locations, self.body, self.body_line = [], {}, [], None
        return deck, locations


def _continuation(lines: _Lines, first: str, indent: int | None, paragraphs: bool) -> str:
    """The text of a chunk that starts with ``first``, taking its following lines.

    Following lines belong to it while indented by ``indent`` columns (tabs
    count to the next multiple of 4), or, with no ``indent``, by at least two
    and as far as the first of them; that indentation is removed. Blank lines
    end a title but not other text, whose trailing blank lines are dropped.
    """
    following = lines.peek()
    if following and following[0] not in " \t":
        return first  # the usual case: the next line starts something else
    parts = [first]
    pad = None if indent is None else " " * indent
    while (line := lines.peek()) is not None:
        if not line or line.isspace():
            if not paragraphs:
                break
            parts.append("")
            lines.take()
            continue
        if "\t" in line:
            line = line.expandtabs(4)
        if pad is None:
            width = len(line) - len(line.lstrip(" "))
            if width < 2:
                break
            pad = " " * width
        elif not line.startswith(pad):
            break
        # Trailing spaces go, as in text2qti, so that none becomes a hard line break.
        parts.append(line[len(pad) :].rstrip())
        lines.take()
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return "\n".join(parts)


def _true_false(q: dict[str, Any], path: Path_, locations: dict[Path_, int]) -> None:
    """Make two choices True and False, one correct, a true_false question.

    A choice's feedback becomes the correct or incorrect feedback, which is
    what it means when there are only the two. Anything else stays a
    single-choice question for the validator to judge.
    """
    choices = q["choices"]
    if len(choices) != 2 or any(len(c["text"]) > 5 for c in choices):
        return
    if {c["text"].lower() for c in choices} != {"true", "false"} or choices[0]["correct"] == choices[1]["correct"]:
        return
    del q["choices"]
    q["type"] = "true_false"
    for j, choice in enumerate(choices):
        if choice["correct"]:
            q["answer"] = choice["text"].lower() == "true"
        if "feedback" in choice:
            key = "correct" if choice["correct"] else "incorrect"
            feedback = q.setdefault("feedback", {})
            feedback[key] = f"{feedback[key]}\n\n{choice['feedback']}" if key in feedback else choice["feedback"]
            locations.setdefault((*path, "feedback", key), locations[(*path, "choices", j, "feedback")])


def _numerical(text: str) -> dict[str, Any] | None:
    """The answer key of ``= ...``: a range, an answer with tolerance, or an exact integer; None if none of these."""
    try:
        if text.startswith("["):
            if not text.endswith("]") or "," not in text:
                return None
            low, high = text[1:-1].split(",", 1)
            return {"range": [float(low), float(high)]}
        if "+-" in text:
            value, margin = text.split("+-", 1)
            answer = float(value)
            margin = margin.strip()
            if margin.endswith("%"):
                return {"answer": answer, "tolerance": abs(answer) * float(margin[:-1]) / 100}
            return {"answer": answer, "tolerance": float(margin)}
        # Without a margin text2qti takes integers only: 1e3 and 1.5 are refused.
        return {"answer": float(int(text)), "tolerance": 0.0}
    except (ValueError, OverflowError):
        return None


def _points(text: str) -> float | None:
    """A positive whole or half number, as text2qti allows for points; None otherwise."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 and (value * 2).is_integer() else None


def _snippet(line: str) -> str:
    line = line.strip()
    return repr(line if len(line) <= 60 else line[:57] + "...")
