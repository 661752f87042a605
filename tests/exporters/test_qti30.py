"""QTI 3.0 export: valid against the official schemas, and saying what the deck says.

The scoring checks run each item's response processing through a small
interpreter of the QTI 3 operators the templates use, and compare the points
with :func:`lms_export.scoring.score` for every response a learner could give.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import itertools
import posixpath
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, raw_card, raw_deck, raw_question
from lxml import etree

from lms_export import qti, readers, scoring, templating
from lms_export.cli import main
from lms_export.deckfile import build_deck
from lms_export.errors import ExportWarning, LmsExportError
from lms_export.exporters import formats
from lms_export.model import Deck, Question
from lms_export.validation import Schemas, check_package

NS = {"q": "http://www.imsglobal.org/xsd/imsqtiasi_v3p0", "cp": "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"}
Q = f"{{{NS['q']}}}"
pytestmark = pytest.mark.filterwarnings("ignore::lms_export.errors.ExportWarning")  # the deliberately empty card
IMAGE = EXAMPLES / "media" / "latent-space.png"
NASTY = 'a <script>alert("x")</script> ]]> & "quoted" \'single\' <!-- comment --> ünïcødé ☃ $x^2 < y$'


# -- decks and packages ------------------------------------------------------------------------


@functools.cache
def compiled(folder: Path) -> Schemas:
    """The schemas, compiled once for the module: the QTI 3 XSD takes seconds."""
    return Schemas(folder)


def every_type_deck() -> Deck:
    return readers.read(EXAMPLES / "every-type.yaml")


def builder_deck(folder: Path) -> Deck:
    """Every question type, with an image in a prompt and a choice, and hostile text everywhere."""
    shutil.copy(IMAGE, folder / "pic.png")
    questions = [
        raw_question(
            "single_choice",
            prompt=f"{NASTY}\n\n![a picture](pic.png)",
            hint=f"hint: {NASTY}",
            shuffle=True,
            points=2.5,
            choices=[
                {"id": "a", "text": f"right {NASTY}", "correct": True, "feedback": f"yes {NASTY}"},
                {"id": "b", "text": "wrong ![tiny](pic.png)", "feedback": "no"},
            ],
            feedback={"correct": f"correct {NASTY}", "incorrect": f"incorrect {NASTY}", "general": f"gen {NASTY}"},
        ),
        raw_question("multiple_answers", points=3),
        raw_question("true_false", answer=False, hint="think"),
        raw_question("short_answer", answers=[" Latent space ", "latent SPACE", "Z & <z>"], case_sensitive=True),
        raw_question("short_answer", id="q-short-ci", answers=["latent space", "embedding"]),
        raw_question("numerical", answer=3.14, tolerance=0.01),
        raw_question("numerical", id="q-exact", answer=42, tolerance=0),
        without(raw_question("numerical", id="q-range", range=[-1.5, 2.25]), "answer", "tolerance"),
        raw_question("essay", points=5, feedback={"general": "graded by hand"}),
        raw_question("essay", id="q-bare-essay", hint="no feedback, just a hint"),
        raw_question("true_false", id="q-zero", points=0),
        raw_question(
            "matching",
            points=2,
            pairs=[
                {"left": left, "right": right}
                for left, right in (("VAE", "encoder"), ("GAN", "two nets"), ("AE", "encoder"))
            ],
            distractors=["a lookup table"],
        ),
        raw_question("ordering", items=["zeta", "alpha", "mid"], feedback={"correct": "in order"}),
    ]
    card = raw_card("c1", questions, subtitle=NASTY)
    other = raw_card("c2", [raw_question("true_false", id="q-second")])
    deck = raw_deck(card, raw_card("empty"), other, description=NASTY)
    return build_deck(deck, file=str(folder / "deck.yaml"), base_dir=folder)


def export(deck: Deck, **options) -> bytes:
    out = io.BytesIO()
    formats()["qti30"](deck, out, **options)
    return out.getvalue()


def files(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def without(raw: dict, *keys: str) -> dict:
    return {k: v for k, v in raw.items() if k not in keys}


def resolve(referrer: str, href: str) -> str:
    """A relative reference inside the package, as the file that makes it sees it."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(referrer), href))


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def text(element: etree._Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def plain(markdown: str | None) -> str:
    """What a Markdown text reads as once rendered, as the XML's text content."""
    return text(xml(f"<div>{qti.Text(markdown).xhtml}</div>".encode())) if markdown else ""


def items_by_question(package: dict[str, bytes], deck: Deck) -> dict[str, etree._Element]:
    """Each question's item element, found through the test files as an LMS would."""
    found = {}
    for name, data in package.items():
        if name.startswith("tests/"):
            for ref in xml(data).iter(Q + "qti-assessment-item-ref"):
                found[ref.get("identifier")] = xml(package[resolve(name, ref.get("href"))])
    return {q.id: found[qti.identifier("item", deck.id, c.id, q.id)] for c in deck.cards for q in c.questions}


def questions(deck: Deck) -> list[Question]:
    return [q for card in deck.cards for q in card.questions]


@pytest.fixture
def decks(tmp_path) -> list[Deck]:
    return [every_type_deck(), builder_deck(tmp_path)]


# -- (1) every XML file validates --------------------------------------------------------------


@pytest.mark.parametrize("one_quiz", [False, True])
def test_every_xml_file_validates_against_the_official_schemas(tmp_path, decks, schemas_dir, one_quiz):
    schemas = compiled(schemas_dir)
    for n, deck in enumerate(decks):
        quizzes = 1 if one_quiz else len([c for c in deck.cards if c.questions])
        path = tmp_path / f"out{n}.zip"
        path.write_bytes(export(deck, one_quiz=one_quiz))
        report = check_package(path, schemas)
        assert report.ok, "\n".join(map(str, report.problems))
        xml_files = {name for name in files(path.read_bytes()) if name.endswith(".xml")}
        assert set(report.validated) == xml_files and not report.unschemaed
        assert report.validated.pop("imsmanifest.xml") == "qti30_cp"
        assert set(report.validated.values()) == {"qti30"}
        assert len(xml_files) == 1 + len(questions(deck)) + quizzes


def test_the_schema_check_can_fail(tmp_path, schemas_dir):
    """A broken item (no time-dependent attribute) and an unknown resource type are caught."""
    package = files(export(every_type_deck()))
    name = next(n for n in package if n.startswith("items/"))
    package[name] = package[name].replace(b'time-dependent="false"', b"")
    package["imsmanifest.xml"] = package["imsmanifest.xml"].replace(b'"webcontent"', b'"imsqti_image"', 1)
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for entry, data in package.items():
            archive.writestr(entry, data)
    problems = check_package(path, compiled(schemas_dir)).problems
    assert {p.file.rsplit("!", 1)[1] for p in problems} == {name, "imsmanifest.xml"}


def test_hostile_text_stays_text(tmp_path):
    package = files(export(builder_deck(tmp_path)))
    for name, data in package.items():
        if name.endswith(".xml"):
            root = xml(data)  # well-formed, or this raises
            assert not [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "script"]
            assert not [e for e in root.iter() if isinstance(e, etree._Comment)]
    item = items_by_question(package, builder_deck(tmp_path))["q-single_choice"]
    prompt = text(item.find(".//q:qti-prompt", NS))
    assert "]]> & \"quoted\" 'single'" in prompt and "ünïcødé ☃ \\(x^2 < y\\)" in prompt and "alert" not in prompt


# -- (2) the answer key, points and feedback are the deck's ------------------------------------


def choice_texts(item: etree._Element) -> dict[str, str]:
    choices = item.iter(Q + "qti-simple-choice", Q + "qti-simple-associable-choice")
    return {c.get("identifier"): text(c) for c in choices}


def correct_values(item: etree._Element) -> list[str]:
    return [v.text for v in item.findall("q:qti-response-declaration[@identifier='RESPONSE']//q:qti-value", NS)]


def outcome_default(item: etree._Element, identifier: str) -> float:
    return float(item.find(f"q:qti-outcome-declaration[@identifier='{identifier}']//q:qti-value", NS).text)


def modal_feedback(item: etree._Element) -> dict[str, str]:
    return {f.get("identifier"): text(f) for f in item.iter(Q + "qti-modal-feedback")}


def test_answer_keys_points_and_feedback_are_the_decks(tmp_path, decks):
    for deck in decks:
        items = items_by_question(files(export(deck)), deck)
        for question in questions(deck):
            item = items[question.id]
            choices, correct, feedback = choice_texts(item), correct_values(item), modal_feedback(item)
            assert outcome_default(item, "MAXSCORE") == question.points, question.id
            key = question.type
            if key in ("single_choice", "multiple_answers"):
                expected = [plain(c.text) for c in question.choices if c.correct]
                assert sorted(choices[c] for c in correct) == sorted(expected)
                by_text = {t: i for i, t in choices.items()}
                for choice in question.choices:
                    assert feedback.get(by_text[plain(choice.text)], "") == plain(choice.feedback)
                interaction = item.find(".//q:qti-choice-interaction", NS)
                assert interaction.get("max-choices") == ("1" if key == "single_choice" else "0")
                assert interaction.get("shuffle") == str(question.shuffle).lower()
            elif key == "true_false":
                assert [choices[c] for c in correct] == [str(question.answer)]
            elif key == "short_answer":
                entries = item.findall(".//q:qti-map-entry", NS)
                accepted = {a.strip() if question.case_sensitive else a.strip().lower() for a in question.answers}
                keys = [e.get("map-key") if question.case_sensitive else e.get("map-key").lower() for e in entries]
                assert sorted(keys) == sorted(accepted)
                assert {e.get("case-sensitive") for e in entries} == {str(question.case_sensitive).lower()}
                assert correct[0] in [a.strip() for a in question.answers]
            elif key == "numerical" and question.range is None:
                assert [float(c) for c in correct] == [question.answer]
            elif key == "essay":
                score = item.find("q:qti-outcome-declaration[@identifier='SCORE']", NS)
                assert score.get("external-scored") == "human" and correct == []
            elif key == "matching":
                pairs = sorted(tuple(choices[i] for i in value.split()) for value in correct)
                assert pairs == sorted((plain(p.left), plain(p.right)) for p in question.pairs)
                targets = item.findall(".//q:qti-simple-match-set", NS)[1]
                expected = {plain(p.right) for p in question.pairs} | set(question.distractors)
                assert sorted(map(text, targets)) == sorted(expected)
            elif key == "ordering":
                assert [choices[c] for c in correct] == [plain(i) for i in question.items]
            for verdict, markdown in (
                ("CORRECT", question.feedback.correct if question.auto_scored else None),
                ("INCORRECT", question.feedback.incorrect if question.auto_scored else None),
                ("GENERAL", question.feedback.general),
            ):
                assert feedback.get(verdict, "") == plain(markdown), (question.id, verdict)
            hint = item.find(".//q:qti-feedback-block[@identifier='HINT']", NS)
            assert text(hint) == plain(question.hint)
            assert (item.find(".//q:qti-end-attempt-interaction[@response-identifier='HINTREQUEST']", NS) is None) == (
                not question.hint
            )


def test_the_written_order_never_gives_the_answer_away(tmp_path):
    deck = builder_deck(tmp_path)
    items = items_by_question(files(export(deck)), deck)
    order = items["q-ordering"].find(".//q:qti-order-interaction", NS)
    # the answer is zeta, alpha, mid; what the learner first sees is the shared scramble, never the answer
    shown = [text(c) for c in order.iterfind("q:qti-simple-choice", NS)]
    assert sorted(shown) == ["alpha", "mid", "zeta"] and shown != ["zeta", "alpha", "mid"]
    by_question = {i.question.id: i for a in qti.assessments(deck) for i in a.items}
    assert shown == [o.text.plain for o in by_question["q-ordering"].display_options]
    targets = items["q-matching"].findall(".//q:qti-simple-match-set", NS)[1]
    assert [text(c) for c in targets] == [o.text.plain for o in by_question["q-matching"].display_options]


# -- (3) the response processing scores as lms_export.scoring does ------------------------------


class Processing:
    """Runs an item's qti-response-processing for one response: just the operators our templates write."""

    def __init__(self, item: etree._Element):
        self.item = item
        declaration = item.find("q:qti-response-declaration[@identifier='RESPONSE']", NS)
        self.cardinality, self.base_type = declaration.get("cardinality"), declaration.get("base-type")
        self.correct = self.typed([v.text for v in declaration.findall("q:qti-correct-response/q:qti-value", NS)])
        self.mapping = declaration.find("q:qti-mapping", NS)

    def typed(self, values: list[str]):
        if not values:
            return None
        if self.cardinality == "single":
            return float(values[0]) if self.base_type == "float" else values[0]
        return tuple(values) if self.cardinality == "ordered" else frozenset(values)

    def run(self, response, hint_request: bool = False) -> tuple[float, list[str]]:
        self.variables = {"RESPONSE": response, "HINTREQUEST": hint_request, "SCORE": 0.0, "FEEDBACK": None}
        self.rules(list(self.item.find("q:qti-response-processing", NS)))
        return self.variables["SCORE"], sorted(self.variables["FEEDBACK"] or [])

    def rules(self, rules: list[etree._Element]) -> None:
        for rule in rules:
            name = etree.QName(rule).localname
            if name == "qti-set-outcome-value":
                self.variables[rule.get("identifier")] = self.value(rule[0])
            elif name == "qti-response-condition":
                for branch in rule:
                    if etree.QName(branch).localname == "qti-response-else":
                        self.rules(list(branch))
                        break
                    if self.value(branch[0]) is True:
                        self.rules(branch[1:])
                        break
            else:
                raise AssertionError(f"unexpected rule {name}")

    def value(self, e: etree._Element):
        name, args = etree.QName(e).localname, list(e)
        if name == "qti-variable":
            return self.variables[e.get("identifier")]
        if name == "qti-correct":
            return self.correct
        if name == "qti-base-value":
            return {"float": float, "boolean": lambda t: t == "true"}.get(e.get("base-type"), str)(e.text)
        if name == "qti-multiple":
            values = [self.value(a) for a in args]
            return [x for v in values if v is not None for x in (v if isinstance(v, (set, frozenset)) else [v])]
        if name == "qti-map-response":
            return self.map_response(self.variables[e.get("identifier")])
        values = [self.value(a) for a in args]
        if name in ("qti-or", "qti-and"):
            want = name == "qti-or"
            if want in values:
                return want
            return None if None in values else not want
        if None in values:
            return None
        if name == "qti-match":
            return values[0] == values[1]
        if name == "qti-string-match":
            a, b = values
            return a == b if e.get("case-sensitive") == "true" else a.lower() == b.lower()
        if name == "qti-equal":
            x, y = values
            if e.get("tolerance-mode") == "exact":
                return x == y
            assert e.get("tolerance-mode") == "absolute"
            t0, t1 = (float(t) for t in (e.get("tolerance").split() * 2)[:2])
            return y - t0 <= x <= y + t1
        if name == "qti-gte":
            return values[0] >= values[1]
        if name == "qti-lte":
            return values[0] <= values[1]
        raise AssertionError(f"unexpected operator {name}")

    def map_response(self, response) -> float:
        entries = self.mapping.findall("q:qti-map-entry", NS)
        default = float(self.mapping.get("default-value", "0"))

        def mapped(value: str) -> float:
            for entry in entries:
                key = entry.get("map-key")
                same = key == value if entry.get("case-sensitive") == "true" else key.lower() == value.lower()
                if same:
                    return float(entry.get("mapped-value"))
            return default

        if response is None:
            total = 0.0 if self.cardinality != "single" else default
        elif self.cardinality == "single":
            total = mapped(response)
        else:
            total = sum(mapped(v) for v in set(response))
        low, high = self.mapping.get("lower-bound"), self.mapping.get("upper-bound")
        total = max(total, float(low)) if low is not None else total
        return min(total, float(high)) if high is not None else total


def responses(question: Question, choices: dict[str, str]):
    """(deck response, QTI response) pairs: every answer a learner can give, right and wrong."""
    by_text = {t: i for i, t in choices.items()}
    kind = question.type
    if kind == "single_choice":
        yield None, None
        for c in question.choices:
            yield c.id, by_text[plain(c.text)]
    elif kind == "multiple_answers":
        for n in range(len(question.choices) + 1):
            for chosen in itertools.combinations(question.choices, n):
                yield [c.id for c in chosen], frozenset(by_text[plain(c.text)] for c in chosen) or None
    elif kind == "true_false":
        yield True, by_text["True"]
        yield False, by_text["False"]
    elif kind == "short_answer":
        for answer in (*question.answers, "", "latent", "LATENT SPACE", "Latent Space", "z & <Z>", "EMBEDDING"):
            yield answer, answer.strip()  # surrounding space: see the README (QTI has no trim)
    elif kind == "numerical":
        low, high = question.bounds
        for value in (low, high, (low + high) / 2, low - 1e-3, high + 1e-3, low - 1, high + 1, 0.0, question.answer):
            if value is not None:
                yield value, value
    elif kind == "matching":
        rights = list(dict.fromkeys([p.right for p in question.pairs] + list(question.distractors)))
        lefts = [p.left for p in question.pairs]
        for assignment in itertools.product([None, *rights], repeat=len(lefts)):
            given = {left: right for left, right in zip(lefts, assignment, strict=True) if right is not None}
            pairs = frozenset(f"{by_text[plain(left)]} {by_text[plain(right)]}" for left, right in given.items())
            yield given, pairs or None
    elif kind == "ordering":
        for order in itertools.permutations(question.items):
            yield list(order), tuple(by_text[plain(i)] for i in order)


def test_response_processing_scores_exactly_as_lms_export_scoring(tmp_path, decks):
    for deck in decks:
        items = items_by_question(files(export(deck)), deck)
        for question in questions(deck):
            item = items[question.id]
            processing, choices = Processing(item), choice_texts(item)
            if not question.auto_scored:
                assert scoring.score(question, "anything") is None
                assert processing.run("anything")[0] == 0.0  # SCORE is left to the human grader
                assert not [s for s in item.iter(Q + "qti-set-outcome-value") if s.get("identifier") == "SCORE"]
                continue
            cases = list(responses(question, choices))
            assert cases, question.id
            for given, qti_response in cases:
                expected = scoring.score(question, given)
                score, feedback = processing.run(qti_response)
                assert score == pytest.approx(expected), (question.id, given)
                if question.type != "matching":
                    # all or nothing: the points, or none
                    assert score in (0.0, pytest.approx(question.points))
                right = scoring.score(dataclasses.replace(question, points=1.0), given) == 1.0  # even at 0 points
                assert ("CORRECT" in feedback, "INCORRECT" in feedback) == (right, not right), (question.id, given)
                if processing.mapping is not None and qti_response is not None:
                    # the declared mapping alone gives the same points
                    assert processing.map_response(qti_response) == pytest.approx(expected), (question.id, given)


def test_matching_gives_partial_credit_per_pair(tmp_path):
    deck = builder_deck(tmp_path)
    item = items_by_question(files(export(deck)), deck)["q-matching"]
    mapping = item.find(".//q:qti-mapping", NS)
    assert float(mapping.get("upper-bound")) == 2 and float(mapping.get("lower-bound")) == 0
    assert [float(e.get("mapped-value")) for e in mapping] == pytest.approx([2 / 3] * 3)
    choices = {t: i for i, t in choice_texts(item).items()}
    one_right = frozenset({f"{choices['VAE']} {choices['encoder']}", f"{choices['GAN']} {choices['encoder']}"})
    assert Processing(item).run(one_right)[0] == pytest.approx(2 / 3)


def test_numerical_bounds_follow_tolerance_and_range(tmp_path):
    deck = builder_deck(tmp_path)
    items = items_by_question(files(export(deck)), deck)
    tolerance = items["q-numerical"].find(".//q:qti-equal", NS)
    assert tolerance.get("tolerance-mode") == "absolute" and float(tolerance.get("tolerance")) == 0.01
    assert items["q-exact"].find(".//q:qti-equal", NS).get("tolerance-mode") == "exact"
    gte, lte = (items["q-range"].find(f".//q:{op}/q:qti-base-value", NS) for op in ("qti-gte", "qti-lte"))
    assert (float(gte.text), float(lte.text)) == (-1.5, 2.25)
    run = Processing(items["q-range"]).run
    assert [run(v)[0] for v in (-1.5, 2.25, -1.51, 2.26)] == [1, 1, 0, 0]


def test_the_hint_is_an_end_attempt_that_shows_it_and_scores_nothing(tmp_path):
    deck = builder_deck(tmp_path)
    item = items_by_question(files(export(deck)), deck)["q-single_choice"]
    right = correct_values(item)[0]
    assert Processing(item).run(right, hint_request=True) == (0.0, ["HINT"])
    score, feedback = Processing(item).run(right)
    assert score == 2.5 and feedback == sorted(["CORRECT", "GENERAL", right])
    assert item.find(".//q:qti-end-attempt-interaction", NS).get("count-attempt") == "false"


# -- (4) tests: one per card, or one with a section per card -----------------------------------


def assessment_tests(package: dict[str, bytes]) -> list[etree._Element]:
    return [xml(data) for name, data in sorted(package.items()) if name.startswith("tests/")]


def test_one_test_per_card_or_one_with_a_section_per_card(tmp_path):
    deck = builder_deck(tmp_path)
    quiz_cards = [c for c in deck.cards if c.questions]
    with pytest.warns(ExportWarning, match="card empty has no questions"):
        per_card = assessment_tests(files(export(deck)))
    assert sorted(t.get("title") for t in per_card) == sorted(c.title for c in quiz_cards)
    for test in per_card:
        card = next(c for c in quiz_cards if c.title == test.get("title"))
        assert outcome_default(test, "MAXSCORE") == card.points
        assert len(test.findall(".//q:qti-assessment-item-ref", NS)) == len(card.questions)
    [whole] = assessment_tests(files(export(deck, one_quiz=True)))
    sections = whole.findall("q:qti-test-part/q:qti-assessment-section", NS)
    assert [s.get("title") for s in sections] == [c.title for c in quiz_cards]
    assert [len(s) for s in sections] == [len(c.questions) for c in quiz_cards]
    assert whole.get("title") == deck.title and outcome_default(whole, "MAXSCORE") == sum(c.points for c in deck.cards)
    summed = whole.find("q:qti-outcome-processing/q:qti-set-outcome-value[@identifier='SCORE']/q:qti-sum/*", NS)
    assert summed.tag == Q + "qti-test-variables" and summed.get("variable-identifier") == "SCORE"


def test_progress_counts_every_card_with_questions_once(tmp_path):
    deck = builder_deck(tmp_path)
    for one_quiz in (False, True):
        done: list[int] = []
        formats()["qti30"](deck, io.BytesIO(), progress=done.append, one_quiz=one_quiz)
        assert sum(done) == len([c for c in deck.cards if c.questions])


def test_the_manifest_names_every_file_and_the_dependencies(tmp_path):
    deck = builder_deck(tmp_path)
    package = files(export(deck))
    manifest = xml(package["imsmanifest.xml"])
    resources = {r.get("identifier"): r for r in manifest.iterfind(".//cp:resource", NS)}
    named = [f.get("href") for r in resources.values() for f in r.iterfind("cp:file", NS)]
    assert sorted(named) == sorted(set(package) - {"imsmanifest.xml"})  # every file, once
    for resource in resources.values():
        depends = [resources[d.get("identifierref")] for d in resource.iterfind("cp:dependency", NS)]
        if resource.get("type") == "imsqti_test_xmlv3p0":
            test = xml(package[resource.get("href")])
            refs = [resolve(resource.get("href"), r.get("href")) for r in test.iter(Q + "qti-assessment-item-ref")]
            assert [d.get("href") for d in depends] == refs
            assert {d.get("type") for d in depends} == {"imsqti_item_xmlv3p0"}
        elif resource.get("type") == "imsqti_item_xmlv3p0":
            item = resource.get("href")
            shown = {resolve(item, img.get("src")) for img in xml(package[item]).iter(Q + "img")}
            assert {d.get("href") for d in depends} == shown
            assert {d.get("type") for d in depends} <= {"webcontent"}
    with_image = [r for r in resources.values() if r.get("type") == "imsqti_item_xmlv3p0" and len(r) > 1]
    assert len(with_image) == 1  # the single choice question shows the picture


# -- (5) media ---------------------------------------------------------------------------------


def test_images_are_packed_and_referenced_relative_to_the_item(tmp_path):
    package = files(export(every_type_deck()))
    manifest = xml(package["imsmanifest.xml"])
    [media] = [r for r in manifest.iterfind(".//cp:resource", NS) if r.get("type") == "webcontent"]
    assert package[media.get("href")] == IMAGE.read_bytes()

    deck = builder_deck(tmp_path)
    package = files(export(deck))
    item_name = next(n for n in package if "q-single_choice" in n)
    sources = [img.get("src") for img in xml(package[item_name]).iter(Q + "img")]
    assert sources == ["../media/pic.png", "../media/pic.png"]  # in the prompt and in a choice
    for src in sources:
        assert package[resolve(item_name, src)] == IMAGE.read_bytes()


# -- (6) deterministic -------------------------------------------------------------------------


def test_converting_twice_gives_the_same_bytes(tmp_path):
    assert export(builder_deck(tmp_path)) == export(builder_deck(tmp_path))
    assert export(every_type_deck(), one_quiz=True) == export(every_type_deck(), one_quiz=True)


# -- (7) templates ----------------------------------------------------------------------------


def test_an_override_template_replaces_only_its_file(tmp_path):
    deck = every_type_deck()
    builtin = files(export(deck))
    override = tmp_path / "mine" / "qti" / "qti30"
    override.mkdir(parents=True)
    test_template = (templating.builtin_folder("qti/qti30") / "test.xml.j2").read_text()
    linear = test_template.replace('navigation-mode="nonlinear"', 'navigation-mode="linear"')
    (override / "test.xml.j2").write_text(linear)
    changed = files(export(deck, templates=tmp_path / "mine"))
    assert changed.keys() == builtin.keys()
    for name in builtin:
        assert (changed[name] != builtin[name]) == name.startswith("tests/"), name
    assert all(b'navigation-mode="linear"' in changed[n] for n in changed if n.startswith("tests/"))


def test_a_broken_override_template_is_an_error_naming_it(tmp_path):
    (tmp_path / "qti" / "qti30").mkdir(parents=True)
    (tmp_path / "qti" / "qti30" / "item.xml.j2").write_text("<x>{% if %}</x>")
    with pytest.raises(LmsExportError, match=r"item\.xml\.j2"):
        export(every_type_deck(), templates=tmp_path)


# -- (8) the command line ----------------------------------------------------------------------


def test_the_cli_converts_the_example(tmp_path, schemas_dir):
    out = tmp_path / "x.zip"
    result = CliRunner().invoke(main, ["convert", str(EXAMPLES / "every-type.yaml"), "--to", "qti30", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert check_package(out, compiled(schemas_dir)).ok


def test_an_image_gone_before_export_is_an_error_naming_the_card_and_the_path(tmp_path):
    deck = builder_deck(tmp_path)
    (tmp_path / "pic.png").unlink()
    with pytest.raises(LmsExportError, match=r"card c1: image file not found: pic\.png"):
        export(deck)


def test_a_missing_image_fails_naming_the_card_and_the_path(tmp_path):
    question = raw_question("single_choice", prompt="look: ![gone](pics/gone.png)")
    (tmp_path / "deck.yaml").write_text(yaml.safe_dump(raw_deck(raw_card("lonely-card", [question]))))
    out = tmp_path / "x.zip"
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "deck.yaml"), "--to", "qti30", "-o", str(out)])
    assert result.exit_code == 1
    assert "lonely-card" in result.stderr and "pics/gone.png" in result.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["deck.yaml"]
