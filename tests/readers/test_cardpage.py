"""The card page reader: the seed card end to end, page variants, and the example deck that mirrors it."""

from __future__ import annotations

import os
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lms_export import readers, render
from lms_export.errors import ExportWarning, LmsExportError
from lms_export.model import Essay
from lms_export.readers import cardpage

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "cardpage"
SHARED_CARDS = Path(os.environ.get("LMS_EXPORT_SHARED") or Path(__file__).parents[3] / "shared") / "cards"

SEED_PROMPTS = [
    "Generative models learn:",
    "Latent variables in a generative model:",
    "This guest episode complements the feedforward MNIST chapters mainly by:",
    "What do generative models learn that a digit classifier does not?",
]
SEED_HINTS = [
    f"Skim the paragraphs on {topic} in Guest bridge before choosing. "
    "Eliminate options that contradict a definition stated in the card."
    for topic in (
        "Generative models learn",
        "Latent variables generative model",
        "This guest episode complements feedforward",
        "generative models learn that a digit classifier does not",
    )
]

QUIZ = """Quiz title: Neural networks
Quiz description: A short check.

1.  What does backpropagation compute?
*a)  Gradients
b)  Labels
"""


def read_page(path: Path):
    """The page read through the registry, as the CLI reads it, with the one warning it gives."""
    with pytest.warns(ExportWarning) as record:
        deck = readers.read(path)
    assert len(record) == 1
    return deck, str(record[0].message)


def errors_of(text: str) -> list:
    with pytest.raises(LmsExportError) as failure:
        cardpage.read(text, file="page.txt")
    return failure.value.problems


def check_seed(path: Path) -> None:
    deck, message = read_page(path)
    assert (deck.id, deck.title) == ("guest-bridge", "Guest bridge")
    (card,) = deck.cards
    assert card.id == "guest-bridge"
    assert card.title == "Guest bridge"
    assert card.subtitle == "from classical optimization to generative stacks"
    assert card.topic == "Machine learning"
    assert card.difficulty == "intermediate"
    assert (card.creator.name, card.creator.handle) == ("Best", "BestBuddy")
    assert card.created == datetime(2026, 6, 1, 6, 20, tzinfo=timezone.utc)

    paragraphs = card.body.split("\n\n")
    assert len(paragraphs) == 7
    assert paragraphs[0].startswith("Welch Labs extends the playlist's visual vocabulary")
    assert paragraphs[3].endswith("beyond classification accuracy.")
    assert paragraphs[6].endswith("rather than raw RGB grids.")
    assert " ." not in card.body
    # The page lists no source 2: its citations stay visible, as text.
    assert card.body.count(r"\[2\]") == 5
    assert render.references(card.body) == ([], [])
    assert "[2]" in render.plain_text(paragraphs[0])
    assert card.sources == () and card.video is None and card.related == ()

    assert [q.id for q in card.questions] == ["q1", "q2", "q3", "q4"]
    assert all(isinstance(q, Essay) for q in card.questions)
    assert [q.prompt for q in card.questions] == SEED_PROMPTS
    assert [q.hint for q in card.questions] == SEED_HINTS

    assert str(path) in message
    assert "q1, q2, q3, q4" in message and "essay" in message and "no answer choices" in message
    assert "[2]" in message and "no such source" in message


def test_seed_card_fixture():
    check_seed(FIXTURES / "guest-bridge.txt")


def test_seed_card_in_shared():
    path = SHARED_CARDS / "guest-bridge.txt"
    if not path.is_file():
        pytest.skip(f"shared seed card not found at {path} (set LMS_EXPORT_SHARED to the folder holding cards/)")
    assert path.read_bytes() == (FIXTURES / "guest-bridge.txt").read_bytes(), "the fixture copy is out of date"
    check_seed(path)


def test_page_with_sources_video_and_related_cards():
    deck, message = read_page(FIXTURES / "full-page.txt")
    (card,) = deck.cards
    assert (card.id, card.title, card.subtitle) == ("backprop-basics", "Backprop basics", "the chain rule at scale")
    # Card Info corrects the line below the title.
    assert (card.topic, card.difficulty) == ("Neural networks", "intermediate")
    assert (card.creator.name, card.creator.handle) == ("Ada Lovelace", "ada")
    assert card.created == datetime(2025, 3, 15, 18, 5, tzinfo=timezone.utc)
    assert card.body == (
        "Backpropagation applies the chain rule layer by layer [1].\n\n"
        "Each weight's gradient reuses the gradients computed above it [2].\n"
        "Modern frameworks do this automatically."
    )
    assert [(s.id, s.title, s.url) for s in card.sources] == [
        (
            1,
            "Rumelhart, Hinton, Williams: Learning representations by back-propagating errors",
            "https://www.nature.com/articles/323533a0",
        ),
        (2, "3Blue1Brown: Backpropagation calculus", "https://www.3blue1brown.com/lessons/backpropagation-calculus"),
    ]
    assert (card.video.url, card.video.title) == (
        "https://www.youtube.com/watch?v=tIeHLnjs5U8",
        "Backpropagation calculus",
    )
    assert card.related == ("gradient-descent", "guest-bridge")
    q1, q2 = card.questions
    assert (q1.prompt, q1.hint) == (
        "Backpropagation computes:",
        "Think of the chain rule [1].\n\nWork from the output layer back.",
    )
    assert (q2.prompt, q2.hint) == ("Which gradients does a layer reuse?", None)
    # Every citation has its source, so only the missing choices are reported.
    assert "q1, q2" in message and "no such source" not in message


@pytest.mark.parametrize(
    ("line", "url", "title"),
    [
        ("[3] Some paper https://example.org/p", "https://example.org/p", "Some paper"),
        ("3. Some paper — https://example.org/p", "https://example.org/p", "Some paper"),
        ("3) Some paper (https://example.org/p)", "https://example.org/p", "Some paper"),
        ("• [3] Some paper: https://example.org/p.", "https://example.org/p", "Some paper"),
        ("[3] Some paper", None, "Some paper"),
        ("[3] https://example.org/p", "https://example.org/p", "https://example.org/p"),
    ],
)
def test_source_lines_are_read_leniently(line, url, title):
    page = (FIXTURES / "full-page.txt").read_text("utf-8")
    page = page.replace("Sources\n", f"Sources\n{line}\n", 1)
    with pytest.warns(ExportWarning):
        (card,) = cardpage.read(page, file="page.txt").cards
    assert (card.source(3).title, card.source(3).url) == (title, url)


def test_url_on_its_own_line_belongs_to_the_source_above():
    page = (FIXTURES / "full-page.txt").read_text("utf-8")
    page = page.replace("Sources\n", "Sources\n[3] Some paper\nhttps://example.org/p\n", 1)
    with pytest.warns(ExportWarning):
        (card,) = cardpage.read(page, file="page.txt").cards
    assert [s.id for s in card.sources] == [3, 1, 2]
    assert card.source(3).url == "https://example.org/p"


def test_page_without_tasks_gives_no_warning():
    page = (FIXTURES / "full-page.txt").read_text("utf-8")
    tasks, info = page.index("Question 1"), page.index("Card Info")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (card,) = cardpage.read(page[:tasks] + page[info:], file="page.txt").cards
    assert card.questions == ()


def test_missing_title_is_located():
    with pytest.raises(LmsExportError) as failure:
        readers.read(FIXTURES / "missing-title.txt")
    (problem,) = failure.value.problems
    assert problem.line == 1 and problem.file.endswith("missing-title.txt")
    assert "no title" in problem.message and "difficulty and topic line" in problem.message


def test_task_without_prompt_is_located():
    with pytest.raises(LmsExportError) as failure:
        readers.read(FIXTURES / "garbled-tasks.txt")
    (problem,) = failure.value.problems
    assert (problem.line, problem.question) == (14, "q2")
    assert "'Question 2' has no prompt" in problem.message
    assert "garbled-tasks.txt:14, card garbled, question q2: 'Question 2' has no prompt" in str(failure.value)


def test_text_before_the_first_question_is_located():
    page = (FIXTURES / "full-page.txt").read_text("utf-8").replace("Tasks\n", "Tasks\nTask one: explain\n", 1)
    (problem,) = errors_of(page)
    assert problem.line == 24 and "expected 'Question 1'" in problem.message


def test_missing_tasks_section_is_located():
    page = (FIXTURES / "full-page.txt").read_text("utf-8")
    lines = page.splitlines()
    page = "\n".join(line for line in lines if line != "Tasks")
    problems = errors_of(page)
    assert any(p.line == 37 and "no 'Tasks' section" in p.message for p in problems)


@pytest.mark.parametrize(
    ("replace", "by", "line", "words"),
    [
        ("Created by Ada Lovelace · 15.03.2025 at 18:05 UTC", "Made by Ada", 1, "no 'Created by"),
        ("15.03.2025", "31.02.2025", 4, "not a real date"),
        ("Beginner Deep learning\n", "Beginner Deep learning\nAn extra line\n", 4, "unexpected line"),
    ],
)
def test_broken_header_is_located(replace, by, line, words):
    page = (FIXTURES / "full-page.txt").read_text("utf-8").replace(replace, by, 1)
    problems = errors_of(page)
    assert any(p.line == line and words in p.message for p in problems), problems


def test_deck_errors_carry_the_page_line():
    """Values are checked by build_deck; the reader's locations put its errors on the right line."""
    page = (FIXTURES / "full-page.txt").read_text("utf-8")
    problems = errors_of(page.replace("Difficulty: Intermediate", "Difficulty: Expert"))
    assert [(p.line, p.field) for p in problems] == [(40, "difficulty")]
    problems = errors_of(page.replace("Question 2\n", "Question 1\n"))
    assert [(p.line, p.field) for p in problems] == [(34, "questions[1].id")]


def test_crlf_and_byte_order_mark():
    page = "\ufeff" + (FIXTURES / "guest-bridge.txt").read_text("utf-8").replace("\n", "\r\n")
    assert cardpage.looks_like(page)
    with pytest.warns(ExportWarning):
        (card,) = cardpage.read(page, file="page.txt").cards
    assert card.title == "Guest bridge" and len(card.body.split("\n\n")) == 7


@pytest.mark.parametrize("name", ["guest-bridge.txt", "full-page.txt", "missing-title.txt", "garbled-tasks.txt"])
def test_looks_like_card_pages(name):
    text = (FIXTURES / name).read_text("utf-8")
    assert cardpage.looks_like(text)
    assert readers.reader_for(Path(name), text) is cardpage


@pytest.mark.parametrize(
    "text",
    [
        QUIZ,
        QUIZ.split("\n", 3)[3],  # numbered questions, no title
        QUIZ + "\nCreated by Best · 01.06.2026 at 06:20 UTC\nTasks\n",
        "Guest bridge: a note\nCreated by Best · 01.06.2026 at 06:20 UTC\nNo tasks heading here.\n",
        "Guest bridge: a note\n\nTasks\nQuestion 1\n",
        "",
    ],
)
def test_looks_like_other_text(text):
    assert not cardpage.looks_like(text)


def test_example_deck_agrees_with_the_page():
    example = readers.read(ROOT / "examples" / "guest-bridge.yaml")
    page, _ = read_page(FIXTURES / "guest-bridge.txt")
    (written,), (imported,) = example.cards, page.cards
    assert (example.id, example.title) == (page.id, page.title)
    for field in ("id", "title", "subtitle", "topic", "difficulty", "creator", "created"):
        assert getattr(written, field) == getattr(imported, field), field
    assert len(written.body.split("\n\n")) == len(imported.body.split("\n\n")) == 7
    assert written.body == imported.body.replace(r"\[2\]", "[2]")
    assert [q.prompt for q in written.questions] == [q.prompt for q in imported.questions]
    assert [q.hint for q in written.questions] == [q.hint for q in imported.questions]
    assert [q.id for q in written.questions] == [q.id for q in imported.questions]
    # The example supplies what the page lost: the source and the choices.
    assert written.source(2) is not None
    for question in written.questions:
        assert question.type == "single_choice" and question.shuffle and len(question.choices) == 4
        assert all(choice.feedback for choice in question.choices)
        assert question.feedback.correct and question.feedback.incorrect and question.feedback.general
