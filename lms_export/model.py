"""Cards, decks and questions, as plain immutable values.

The model is what every reader produces and every exporter consumes. It knows
nothing of files or output formats: text fields hold Markdown exactly as the
author wrote it, and rendering happens in :mod:`lms_export.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

DIFFICULTIES = ("beginner", "intermediate", "advanced")
#: When the LTI tool shows a learner each question's verdict after a submission.
SHOW_RESULTS = ("always", "after_due", "never")


@dataclass(frozen=True, slots=True)
class Creator:
    name: str
    handle: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """A numbered reference; the body cites it as ``[id]``."""

    id: int
    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Video:
    url: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A local file (an image) that Markdown in the card refers to.

    ``path`` is exactly as written in the Markdown, relative to the deck
    file; exporters resolve it against :attr:`Deck.base_dir`.
    """

    path: str


@dataclass(frozen=True, slots=True)
class Feedback:
    """Markdown shown after an answer: on a right one, a wrong one, or always."""

    correct: str | None = None
    incorrect: str | None = None
    general: str | None = None

    def __bool__(self) -> bool:
        return any((self.correct, self.incorrect, self.general))


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    text: str
    correct: bool = False
    feedback: str | None = None


@dataclass(frozen=True, slots=True)
class Pair:
    left: str
    right: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Question:
    """What every question type has; subclasses add their answer key.

    ``type`` is the name used in deck files and is fixed per subclass.
    """

    type: ClassVar[str]
    #: True where a machine can score the answer (all but essays).
    auto_scored: ClassVar[bool] = True

    id: str
    prompt: str
    #: A short name for instructors (Canvas shows it in its quiz editor).
    title: str | None = None
    points: float = 1.0
    hint: str | None = None
    feedback: Feedback = field(default_factory=Feedback)
    shuffle: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class SingleChoice(Question):
    type: ClassVar[str] = "single_choice"
    choices: tuple[Choice, ...]

    @property
    def correct_choice(self) -> Choice:
        return next(c for c in self.choices if c.correct)


@dataclass(frozen=True, kw_only=True, slots=True)
class MultipleAnswers(Question):
    type: ClassVar[str] = "multiple_answers"
    choices: tuple[Choice, ...]

    @property
    def correct_choices(self) -> tuple[Choice, ...]:
        return tuple(c for c in self.choices if c.correct)


@dataclass(frozen=True, kw_only=True, slots=True)
class TrueFalse(Question):
    type: ClassVar[str] = "true_false"
    answer: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class ShortAnswer(Question):
    type: ClassVar[str] = "short_answer"
    answers: tuple[str, ...]
    case_sensitive: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Numerical(Question):
    """Either ``answer`` with ``tolerance`` (exact when 0) or a closed ``range``."""

    type: ClassVar[str] = "numerical"
    answer: float | None = None
    tolerance: float = 0.0
    range: tuple[float, float] | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """The accepted interval, whichever way the author wrote it."""
        if self.range is not None:
            return self.range
        assert self.answer is not None
        return (self.answer - self.tolerance, self.answer + self.tolerance)


@dataclass(frozen=True, kw_only=True, slots=True)
class Essay(Question):
    type: ClassVar[str] = "essay"
    auto_scored: ClassVar[bool] = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Matching(Question):
    type: ClassVar[str] = "matching"
    pairs: tuple[Pair, ...]
    distractors: tuple[str, ...] = ()

    @property
    def targets(self) -> tuple[str, ...]:
        """Everything a left side can be matched to: the right sides, then the distractors, each once."""
        return tuple(dict.fromkeys([p.right for p in self.pairs] + list(self.distractors)))


@dataclass(frozen=True, kw_only=True, slots=True)
class Ordering(Question):
    """``items`` are listed in the correct order."""

    type: ClassVar[str] = "ordering"
    items: tuple[str, ...]


QUESTION_TYPES: dict[str, type[Question]] = {
    cls.type: cls
    for cls in (
        SingleChoice,
        MultipleAnswers,
        TrueFalse,
        ShortAnswer,
        Numerical,
        Essay,
        Matching,
        Ordering,
    )
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Card:
    id: str
    title: str
    subtitle: str | None = None
    topic: str | None = None
    difficulty: str | None = None
    creator: Creator | None = None
    created: datetime | None = None
    body: str = ""
    sources: tuple[Source, ...] = ()
    video: Video | None = None
    related: tuple[str, ...] = ()
    # The card's own quiz rules (see QuizRules): each None where the deck's apply.
    max_attempts: int | None = None
    show_results: str | None = None
    due: datetime | None = None
    questions: tuple[Question, ...] = ()
    media: tuple[MediaRef, ...] = ()

    @property
    def points(self) -> float:
        """What the card's quiz is worth: the sum of its questions' points."""
        return sum(q.points for q in self.questions)

    def source(self, source_id: int) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)


@dataclass(frozen=True, slots=True)
class QuizRules:
    """How often a learner may take a card's quiz, and when they see how each question went.

    Only the LTI tool applies them: it scores on its server, so it can refuse
    an attempt and keep the answer key to itself. A package (QTI, SCORM, a
    cartridge) leaves attempts and feedback to the LMS that imports it.
    """

    #: Attempts per launch; None: unlimited.
    max_attempts: int | None = None
    #: Whether each question's verdict, earned points and feedback follow a submission:
    #: ``always``, ``after_due`` (once ``due`` has passed) or ``never``.
    show_results: str = "always"
    #: When ``after_due`` starts showing results.
    due: datetime | None = None

    def results_shown(self, now: datetime) -> bool:
        """Whether a submission made at ``now`` shows each question's verdict, points and feedback.

        The total score is always shown: the gradebook gets it anyway.
        """
        if self.show_results == "after_due":
            return self.due is not None and now >= self.due
        return self.show_results == "always"


@dataclass(frozen=True, kw_only=True, slots=True)
class Deck:
    id: str
    title: str
    language: str = "en"
    description: str | None = None
    # The quiz rules (see QuizRules) of every card that does not set its own.
    max_attempts: int | None = None
    show_results: str = "always"
    due: datetime | None = None
    cards: tuple[Card, ...]
    #: The folder relative media paths are resolved against (the deck file's).
    base_dir: Path | None = None

    def card(self, card_id: str) -> Card | None:
        return next((c for c in self.cards if c.id == card_id), None)

    def quiz_rules(self, card: Card) -> QuizRules:
        """The rules ``card``'s quiz is taken by: the card's own where it sets them, else the deck's."""
        return QuizRules(
            max_attempts=self.max_attempts if card.max_attempts is None else card.max_attempts,
            show_results=card.show_results or self.show_results,
            due=card.due or self.due,
        )

    def media_path(self, ref: MediaRef) -> Path:
        return (self.base_dir or Path.cwd()) / ref.path
