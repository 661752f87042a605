"""The text2qti reader: every construct of the format, its errors with their lines, and text2qti itself as an oracle."""

from __future__ import annotations

import io
import time
import warnings
from pathlib import Path

import pytest

from lms_export import readers, render
from lms_export.errors import ExportWarning, LmsExportError
from lms_export.model import Deck, Essay, MultipleAnswers, Numerical, ShortAnswer, SingleChoice, TrueFalse
from lms_export.readers import text2qti

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "text2qti"
EXAMPLE = ROOT / "examples" / "text2qti-quiz.txt"


def read(name: str) -> Deck:
    """A fixture read with no warning allowed: tests that expect one catch it themselves."""
    path = FIXTURES / name
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportWarning)
        return text2qti.read(path.read_text("utf-8"), file=str(path), base_dir=path.parent)


def problems(name: str) -> list[str]:
    """The problems a fixture raises, each as the user sees it, with the fixture folder left out."""
    path = FIXTURES / name
    with pytest.raises(LmsExportError) as raised:
        text2qti.read(path.read_text("utf-8"), file=name, base_dir=path.parent)
    return [str(p) for p in raised.value.problems]


def problems_in(text: str) -> list[str]:
    with pytest.raises(LmsExportError) as raised:
        text2qti.read(text, file="quiz.txt")
    return [str(p) for p in raised.value.problems]


# -- question types ------------------------------------------------------------


def test_single_choice_with_title_points_and_every_feedback():
    deck = read("single-choice.txt")
    assert (deck.id, deck.title) == ("single-choice", "Single choice")
    [card] = deck.cards
    assert (card.id, card.title) == ("single-choice", "Single choice")
    q = card.questions[0]
    assert isinstance(q, SingleChoice)
    assert (q.id, q.title, q.points) == ("q1", "Step size", 2.5)
    assert q.prompt == "Which learning rate makes gradient descent on $f(x) = x^2$ diverge?"
    assert q.feedback.general == r"The update is $x \leftarrow (1 - 2\eta) x$."
    assert q.feedback.correct == r"Right: $|1 - 2\eta| > 1$."
    assert q.feedback.incorrect == r"Compute $1 - 2\eta$ for each rate."
    assert [(c.id, c.text, c.correct) for c in q.choices] == [
        ("a", "0.1", False),
        ("b", "0.5", False),
        ("c", "1.5", True),
        ("d", "0.9", False),
    ]
    assert [c.feedback for c in q.choices] == [
        "Converges smoothly.",
        "Jumps straight to the minimum.",
        "$|1 - 3| = 2 > 1$, so every step doubles the distance.",
        None,
    ]
    assert q.correct_choice.id == "c"


def test_choice_ids_keep_the_letters_and_a_repeated_letter_gets_its_position():
    q = read("single-choice.txt").cards[0].questions[1]
    assert (q.id, q.points, q.title) == ("q2", 1.0, None)
    assert [(c.id, c.text) for c in q.choices] == [("A", "One"), ("B", "Two"), ("A3", "Three")]
    assert q.correct_choice.text == "Two"


def test_wrapped_text_loses_its_indentation_with_tabs_as_four_spaces():
    q1, q2 = read("multi-line.txt").cards[0].questions
    assert q1.prompt == (
        "A prompt indented with a tab,\ncontinued with a tab and\nfour spaces.\n\nA second paragraph.\n\n"
        "    indented code\n\n```python\nx = 1\n\ny = 2\n```"
    )
    assert [c.text for c in q1.choices] == ["A choice that\nwraps onto two lines.\n\nAnd has a paragraph.", "Short."]
    assert q1.choices[1].feedback == "Feedback on\ntwo lines."
    assert q2.prompt == "Next." and q2.id == "q2"


def test_wrapped_titles_join_into_one_line_and_windows_line_ends_are_read():
    text = "Quiz title: A quiz title\r\n  on two lines\r\nTitle: A question\r\n\ttitle\r\n1.  Q\r\n    more\r\n*a) x\r\nb)  y\r\n"
    deck = text2qti.read(text, file="quiz.txt")
    q = deck.cards[0].questions[0]
    assert (deck.title, q.title, q.prompt) == ("A quiz title on two lines", "A question title", "Q\nmore")


def test_a_blank_line_ends_a_title_but_not_a_description():
    found = problems_in("Title: A title\n\n  not part of it\n1.  Q\n*a) x\nb)  y\n")
    assert found == [
        "quiz.txt:3: unexpected indented text 'not part of it': a wrapped line must be indented as far as the "
        "text on the first line of its question, choice or feedback"
    ]
    deck = text2qti.read("Quiz description: One.\n\n  Two.\n1.  Q\n*a) x\nb)  y\n", file="quiz.txt")
    assert deck.description == "One.\n\nTwo."


def test_true_and_false_choices_make_a_true_false_question():
    q1, q2, q3, q4, q5 = read("true-false.txt").cards[0].questions
    assert [type(q) for q in (q1, q2, q3, q4)] == [TrueFalse] * 4
    assert [q.answer for q in (q1, q2, q3, q4)] == [False, True, False, True]
    # The correct choice's feedback joins the correct feedback, the other's is the incorrect one.
    assert q4.feedback.correct == "Well done.\n\nBoth are kept."
    assert q4.feedback.incorrect == "Only on a wrong answer."
    assert isinstance(q5, SingleChoice) and [c.text for c in q5.choices] == ["Yes", "No"]


def test_true_and_false_with_two_correct_stays_single_choice_for_the_validator():
    found = problems_in("1.  Both?\n*a) True\n*b) False\n")
    assert found == [
        "quiz.txt:1, card quiz, question q1, field choices: "
        "a single_choice question needs exactly one correct choice, found 2"
    ]


def test_multiple_answers():
    q = read("multiple-answers.txt").cards[0].questions[0]
    assert isinstance(q, MultipleAnswers)
    assert (q.title, q.points) == ("Generative models", 3.0)
    assert [(c.id, c.text, c.correct) for c in q.choices] == [
        ("a", "Variational autoencoder", True),
        ("b", "Logistic regression", False),
        ("c", "Diffusion model", True),
        ("d", "Support vector machine", False),
        ("e", "Generative adversarial network", True),
    ]
    assert [c.feedback for c in q.choices] == ["It decodes samples of its prior.", "Discriminative.", None, None, None]
    assert (q.feedback.general, q.feedback.correct, q.feedback.incorrect) == (
        "Generative models can sample new data.",
        "All three.",
        "Not quite.",
    )


@pytest.mark.parametrize(
    "index, answer, tolerance, bounds",
    [
        (0, 1.4142, 0.0001, None),
        (1, 200.0, 10.0, None),
        (2, -40.0, 4.0, None),
        (3, None, 0.0, (1.2598, 1.26)),
        (4, 1_000_000.0, 0.0, None),
        (5, 2.5, 0.0, None),
    ],
    ids=["tolerance", "percentage", "percentage-of-negative", "range", "exact-integer", "explicit-zero"],
)
def test_numerical_forms(index, answer, tolerance, bounds):
    q = read("numerical.txt").cards[0].questions[index]
    assert isinstance(q, Numerical)
    assert q.answer == pytest.approx(answer) if answer is not None else q.answer is None
    assert q.tolerance == pytest.approx(tolerance)
    assert q.range == bounds


def test_short_answer_matches_case_insensitively():
    q = read("short-answer.txt").cards[0].questions[0]
    assert isinstance(q, ShortAnswer)
    assert q.answers == ("Variational", "variational inference")
    assert q.case_sensitive is False
    assert (q.title, q.feedback.general, q.feedback.correct, q.feedback.incorrect) == (
        "Name it",
        "A VAE is a variational autoencoder.",
        "Right.",
        "It is about variational inference.",
    )


def test_essay_and_file_upload_which_becomes_an_essay_with_one_warning():
    path = FIXTURES / "essay-upload.txt"
    with pytest.warns(ExportWarning) as caught:
        deck = text2qti.read(path.read_text("utf-8"), file="essay-upload.txt")
    assert [str(w.message) for w in caught] == [
        "essay-upload.txt: file upload is not a supported question type; these questions become essays: "
        "q2 (line 12), q3 (line 15)"
    ]
    essay, upload, bare = deck.cards[0].questions
    assert [type(q) for q in (essay, upload, bare)] == [Essay, Essay, Essay]
    assert (essay.title, essay.points, essay.feedback.general) == (
        "Mode collapse",
        5.0,
        "Mention the generator and the modes of the data.",
    )
    assert (upload.points, upload.prompt, upload.feedback.general) == (
        3.0,
        "Upload a plot of your training loss.",
        "Label the axes.",
    )


def test_the_upload_warning_names_five_questions_and_counts_the_rest():
    text = "".join(f"{n}.  Upload {n}.\n^^^\n" for n in range(1, 8))
    with pytest.warns(ExportWarning) as caught:
        text2qti.read(text, file="uploads.txt")
    assert [str(w.message) for w in caught] == [
        "uploads.txt: file upload is not a supported question type; these questions become essays: "
        "q1 (line 2), q2 (line 4), q3 (line 6), q4 (line 8), q5 (line 10) and 2 more"
    ]


def test_solutions_leave_no_trace():
    with pytest.warns(ExportWarning):
        deck = text2qti.read((FIXTURES / "essay-upload.txt").read_text("utf-8"), file="essay-upload.txt")
    essay = deck.cards[0].questions[0]
    assert essay.prompt == "Explain mode collapse."
    assert "Solution" not in repr(deck) and "Wasserstein" not in repr(deck)


# -- comments, text regions, options, groups ------------------------------------


def test_comments_are_removed():
    deck = read("comments.txt")
    [q] = deck.cards[0].questions
    assert q.prompt == "The only question."
    assert [c.text for c in q.choices] == ["Kept", "Also kept"]
    assert deck.cards[0].body == ""
    assert "comment" not in repr(deck).lower().replace("comments", "")


def test_description_text_regions_and_options():
    deck = read("text-regions.txt")
    card = deck.cards[0]
    assert deck.title == card.title == "Text regions"
    assert deck.description == "What the quiz is about.\n\nA second paragraph of the description."
    assert card.body == (
        "What the quiz is about.\n\nA second paragraph of the description.\n\n"
        "### Part one\n\nRead this before question one.\n\nA text region without a title."
    )
    # shuffle answers reaches every question with choices, and only those.
    assert [(q.type, q.shuffle) for q in card.questions] == [
        ("single_choice", True),
        ("multiple_answers", True),
        ("true_false", False),
        ("numerical", False),
    ]


def test_groups_keep_every_question_and_warn_once_each():
    path = FIXTURES / "groups.txt"
    with pytest.warns(ExportWarning) as caught:
        deck = text2qti.read(path.read_text("utf-8"), file="groups.txt")
    assert [str(w.message) for w in caught] == [
        "groups.txt:5: GROUP keeps all 2 of its questions; random selection (pick 1) is not carried over, "
        "so every student gets every question",
        "groups.txt:20: GROUP keeps all 1 of its questions; random selection (pick 1) is not carried over, "
        "so every student gets every question",
    ]
    questions = deck.cards[0].questions
    assert [q.id for q in questions] == ["q1", "q2", "q3", "q4"]
    # points per question is what Canvas scores a group's questions by, over their own Points:.
    assert [q.points for q in questions] == [1.0, 2.0, 2.0, 1.0]


def test_ids_and_title_come_from_the_file_name_without_a_quiz_title():
    deck = read("My Quiz (v2).txt")
    assert (deck.id, deck.title, deck.cards[0].id, deck.cards[0].title) == (
        "My-Quiz-v2",
        "My Quiz (v2)",
        "My-Quiz-v2",
        "My Quiz (v2)",
    )


@pytest.mark.parametrize(
    "stem, expected",
    [("My Quiz (v2)", "My-Quiz-v2"), ("Übung_1.a", "Ubung_1.a"), ("测验", "quiz"), ("x" * 200, "x" * 128)],
)
def test_identifier(stem, expected):
    assert text2qti.identifier(stem) == expected


def test_registered_for_txt_and_md_and_read_by_name():
    assert readers.READERS["text2qti"] is text2qti
    assert text2qti.EXTENSIONS == (".txt", ".md")
    deck = readers.read(FIXTURES / "short-answer.txt", format="text2qti")
    assert deck.base_dir == FIXTURES.resolve()
    assert deck.cards[0].questions[0].answers[0] == "Variational"


# -- errors --------------------------------------------------------------------


def test_a_choice_before_any_question_names_file_and_line():
    assert problems("choice-before-question.txt") == [
        "choice-before-question.txt:3: a choice ('a)') before any question",
        "choice-before-question.txt:4: a choice ('a)') before any question",
    ]


def test_validation_by_build_deck_reports_the_line_of_the_question():
    assert problems("two-correct.txt") == [
        "two-correct.txt:5, card two-correct, question q2, field choices: "
        "a single_choice question needs exactly one correct choice, found 2"
    ]


def test_validation_locates_answers():
    text = "1.  Range.\n=   [5, 1]\n"
    assert problems_in(text) == ["quiz.txt:2, card quiz, question q1, field range: low end 5 is above high end 1"]


def test_bracketed_numbers_stay_text_since_a_quiz_has_no_sources():
    deck = text2qti.read(
        "1.  Which index is out of range, x[3] or [4]?\n*a) [3]\nb)  `[4]`\n... See [3].\n", file="quiz.txt"
    )
    question = deck.cards[0].questions[0]
    assert question.prompt == r"Which index is out of range, x\[3\] or \[4\]?"
    assert (question.choices[0].text, question.choices[1].text) == (r"\[3\]", "`[4]`")
    assert render.to_html(question.prompt) == "<p>Which index is out of range, x[3] or [4]?</p>"


def test_every_syntax_error_is_reported_at_once_in_line_order():
    found = problems("syntax-errors.txt")
    assert [p.split(": ", 1)[0] for p in found] == [
        "syntax-errors.txt:5",
        "syntax-errors.txt:7",
        "syntax-errors.txt:9, question q2",
        "syntax-errors.txt:10",
        "syntax-errors.txt:13",
        "syntax-errors.txt:15",
    ]
    assert "unexpected text 'This line is no text2qti construct.'" in found[0]
    assert "'Points: many' needs a positive whole or half number" in found[1]
    assert "numerical answer 'about ten' is not a number form text2qti knows" in found[2]
    assert "unexpected indented text 'misindented continuation'" in found[3]
    assert found[4].endswith("a space must follow '*a)'")
    assert found[5].endswith("COMMENT is never closed by an END_COMMENT line")


def test_executable_code_is_refused_and_never_read():
    assert problems("executable-code.txt") == [
        "executable-code.txt:2: executable code blocks are not supported: lms-export never runs code from its "
        "input; run the code yourself and paste the questions it prints"
    ]


def test_an_unterminated_group_is_an_error():
    assert problems("unterminated-group.txt") == [
        "unterminated-group.txt:1: GROUP is never closed by an END_GROUP line"
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.  Q\n*a) x\nb)  y\n=   3\n", "quiz.txt:4, question q1: a numerical answer ('=') in a question that has"),
        ("1.  Q\n=   3\n=   4\n", "quiz.txt:3, question q1: a numerical answer ('=') given twice"),
        ("1.  Q\n*a) x\nb)  y\n+   Late.\n", "quiz.txt:4, question q1: feedback ('+') must come right after"),
        ("1.  Q\n*   x\n... Late.\n", "quiz.txt:3, question q1: feedback ('...') must come right after the question"),
        ("1.  Q\n*a) x\n... One.\n... Two.\nb)  y\n", "quiz.txt:4, question q1: the choice already has feedback"),
        ("1.  Q\n*a) x\nb)  y\nTitle: T\n", "quiz.txt:4: 'Title:' must be followed by the question it belongs to"),
        ("Points: 0\n1.  Q\n*a) x\nb)  y\n", "quiz.txt:1: 'Points: 0' needs a positive whole or half number"),
        ("Points: 1.25\n1.  Q\n*a) x\nb)  y\n", "quiz.txt:1: 'Points: 1.25' needs a positive whole or half number"),
        ("1.  Q\n*a) x\nb)  y\n2.  No answers.\n", "quiz.txt:4, question q2: the question has no answers"),
        ("1.  Q\n____ words\n", "quiz.txt:2: nothing may follow '____' on its line"),
        ("1.\n*a) x\n", "quiz.txt:1: nothing after '1.'"),
        ("1.  Q\n=   1e3\n", "quiz.txt:2, question q1: numerical answer '1e3' is not a number form"),
        ("1.  Q\n=   [1, 2\n", "quiz.txt:2, question q1: numerical answer '[1, 2' is not a number form"),
        ("END_GROUP\n1.  Q\n*   x\n", "quiz.txt:1: END_GROUP without a GROUP line before it"),
        ("GROUP\nGROUP\n1.  Q\n*   x\nEND_GROUP\n", "quiz.txt:2: GROUP inside a GROUP"),
        ("pick: 2\n1.  Q\n*   x\n", "quiz.txt:1: 'pick:' outside a GROUP"),
        ("GROUP\npick: none\n1.  Q\n*   x\nEND_GROUP\n", "quiz.txt:2: 'pick:' needs a positive whole number"),
        ("END_COMMENT\n1.  Q\n*   x\n", "quiz.txt:1: END_COMMENT without a COMMENT line before it"),
        ("COMMENT\nEND_COMMENT now\n1.  Q\n*   x\n", "quiz.txt:2: nothing may follow END_COMMENT on its line"),
        ("shuffle answers: maybe\n1.  Q\n*   x\n", "quiz.txt:1: 'shuffle answers' takes true or false, not 'maybe'"),
        ("1.  Q\n*   x\nQuiz title: Late\n", "quiz.txt:3: 'Quiz title:' must come before the first question"),
        ("```python\nprint(1)\n```\n1.  Q\n*   x\n", "quiz.txt:1: a code block must be indented under the question"),
        ("Quiz title: Nothing else\n", "quiz.txt: no questions found"),
    ],
)
def test_grammar_errors(text, expected):
    found = problems_in(text)
    assert len(found) == 1 and found[0].startswith(expected), found


# -- text2qti as an oracle -----------------------------------------------------

#: text2qti's question types and ours.
ORACLE_TYPES = {
    "multiple_choice_question": "single_choice",
    "true_false_question": "true_false",
    "multiple_answers_question": "multiple_answers",
    "numerical_question": "numerical",
    "short_answer_question": "short_answer",
    "essay_question": "essay",
    "file_upload_question": "essay",
}


def test_the_example_reads_as_text2qti_reads_it():
    quiz_module = pytest.importorskip("text2qti.quiz", reason="text2qti is not installed: no oracle to compare with")
    config_module = pytest.importorskip("text2qti.config", reason="text2qti is not installed")
    text = EXAMPLE.read_text("utf-8")
    quiz = quiz_module.Quiz(text, config=config_module.Config(), source_name=str(EXAMPLE))
    theirs = [x for x in quiz.questions_and_delims if isinstance(x, quiz_module.Question)]
    with pytest.warns(ExportWarning, match="file upload"):
        deck = text2qti.read(text, file=str(EXAMPLE), base_dir=EXAMPLE.parent)
    ours = deck.cards[0].questions

    # The example uses every question type text2qti has.
    assert {t.type for t in theirs} == set(ORACLE_TYPES)
    assert len(ours) == len(theirs)
    assert deck.title == quiz.title_raw and deck.description == quiz.description_raw
    for mine, their in zip(ours, theirs, strict=True):
        assert mine.type == ORACLE_TYPES[their.type], mine.id
        assert (mine.prompt, mine.title, mine.points) == (their.question_raw, their.title_raw, their.points_possible)
        assert (mine.feedback.general, mine.feedback.correct, mine.feedback.incorrect) == (
            their.feedback_raw,
            their.correct_feedback_raw,
            their.incorrect_feedback_raw,
        )
        if isinstance(mine, (SingleChoice, MultipleAnswers)):
            assert [(c.text, c.correct, c.feedback) for c in mine.choices] == [
                (c.choice_raw, c.correct, c.feedback_raw) for c in their.choices
            ]
        elif isinstance(mine, TrueFalse):
            [correct] = [c for c in their.choices if c.correct]
            assert mine.answer == (correct.choice_raw.lower() == "true")
        elif isinstance(mine, ShortAnswer):
            assert list(mine.answers) == [c.choice_raw for c in their.choices]
        elif isinstance(mine, Numerical):
            low, high = mine.bounds
            assert (low, high) == (pytest.approx(their.numerical_min), pytest.approx(their.numerical_max))
            if their.numerical_exact is not None:
                assert mine.answer == pytest.approx(their.numerical_exact)


# -- speed ---------------------------------------------------------------------


def test_large_quizzes_and_long_lines_read_in_linear_time():
    questions = 20_000
    text = "".join(
        f"{n}.  Question {n}?\n... Feedback {n}.\n*a) Right {n}\n... Yes.\nb)  Wrong\nc)  Also wrong\n\n"
        for n in range(1, questions + 1)
    )
    started = time.perf_counter()
    parts = list(text2qti.parts(io.StringIO(text), "big.txt"))
    elapsed = time.perf_counter() - started
    assert sum(len(raw["cards"][0]["questions"]) for raw, _ in parts) == questions
    raw, locations = parts[-1]
    last = len(raw["cards"][0]["questions"]) - 1
    assert raw["cards"][0]["questions"][last]["id"] == f"q{questions}"
    assert locations[("cards", 0, "questions", last, "choices", 2)] == 7 * questions - 1
    assert elapsed < 5, f"{questions} questions took {elapsed:.1f}s"
    # Lines that almost match a marker must not make the line patterns backtrack.
    started = time.perf_counter()
    found = problems_in("1" * 200_000 + "\n" + "*" * 200_000 + "\n" + "=" * 200_000 + "\n")
    assert time.perf_counter() - started < 2
    assert {p.split(":")[1] for p in found} == {"1", "2", "3"}


# -- parts -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["essay-upload.txt", "text-regions.txt", "multi-line.txt", "numerical.txt"])
def test_a_quiz_read_in_small_parts_is_the_quiz_read_whole(name, recwarn):
    from lms_export.deckfile import build_deck, deck_to_dict, join_parts

    path = FIXTURES / name
    whole = readers.read(path)
    with path.open(encoding="utf-8", newline="") as lines:
        parts = list(text2qti.parts(lines, str(path), size=1))
    assert len(parts) > 1
    built = [build_deck(raw, file=str(path), locations=where, base_dir=path.parent) for raw, where in parts]
    assert deck_to_dict(join_parts(built)) == deck_to_dict(whole)


def test_a_group_is_never_split_between_parts(recwarn):
    text = (
        "1.  Before\n*a) x\nb) y\n\nGROUP\npoints per question: 2\n"
        + "".join(f"{n}.  In the group {n}\n*a) x\nb) y\n\n" for n in range(2, 7))
        + "END_GROUP\n\n7.  After\n*a) x\nb) y\n"
    )
    parts = list(text2qti.parts(io.StringIO(text), "quiz.txt", size=2))
    ids = [[q["id"] for q in raw["cards"][0]["questions"]] for raw, _ in parts]
    # A part ends when the next question starts with the part full, but not inside the group.
    assert ids == [["q1", "q2", "q3", "q4", "q5", "q6"], ["q7"]]
    grouped = parts[0][0]["cards"][0]["questions"][1:]
    assert [q["points"] for q in grouped] == [2] * 5


def test_shuffle_answers_after_the_first_question_is_an_error():
    found = problems_in("1.  A question\n*a) x\nb) y\n\nShuffle answers: true\n")
    assert any(":5" in p and "'Shuffle answers:' must come before the first question" in p for p in found)


def test_problems_in_every_part_are_reported_with_their_lines():
    text = "".join(f"{n}.  Question {n}\n*a) x\n*b) y\n\n" for n in range(1, 601))
    with pytest.raises(LmsExportError) as raised:
        text2qti.read(text, file="quiz.txt")
    lines = [p.line for p in raised.value.problems]
    assert len(lines) == 600 and lines[0] == 1 and lines[-1] == 4 * 599 + 1
