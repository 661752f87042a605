"""QTI 2.1 packages: schema-valid, and meaning what the deck says.

The items are read back with lxml and their response processing is run by a
small interpreter of the QTI expressions the templates use, so the tests
check what a QTI player would score and show, not the shape of the XML.
"""

from __future__ import annotations

import io
import posixpath
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, make_deck, raw_card, raw_question
from lxml import etree

from lms_export import qti, readers, render, scoring, templating
from lms_export.cli import main
from lms_export.errors import LmsExportError
from lms_export.exporters import formats
from lms_export.model import QUESTION_TYPES, Deck
from lms_export.validation import Schemas, check_package

NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
Q = f"{{{NS}}}"
EVERY_TYPE = EXAMPLES / "every-type.yaml"
FEEDBACK_KINDS = ("correct", "incorrect", "general")
#: Text no input may use to break the XML or smuggle in markup.
NASTY = "Is <script>alert('x')</script> & \"quoted\" ]]> <!-- not a comment --> ünïcødé 🙂 $x^2 < y$"


def convert(deck: Deck, **options) -> bytes:
    out = io.BytesIO()
    formats()["qti21"](deck, out, **options)
    return out.getvalue()


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def item_files(data: bytes) -> dict[str, etree._Element]:
    """Every item file of a package, parsed, by its name."""
    return {name: xml(content) for name, content in entries(data).items() if name.startswith("items/")}


def text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()


def without_answer(question: dict) -> dict:
    """A numerical question given by its range only."""
    return {key: value for key, value in question.items() if key not in ("answer", "tolerance")}


def every_type_deck() -> Deck:
    """Every question type with every kind of feedback and a hint, built with the shared builders."""
    feedback = {"correct": "Well done & right.", "incorrect": "Not quite <yet>.", "general": "In general: $x^2$."}
    questions = [
        raw_question(
            "single_choice",
            points=2,
            hint="Think *twice*.",
            feedback=feedback,
            choices=[
                {"id": "a", "text": "Right", "correct": True, "feedback": "Yes, a."},
                {"id": "b", "text": "Wrong", "feedback": "No, not b."},
            ],
        ),
        raw_question("multiple_answers", points=3, feedback=feedback),
        raw_question("true_false", answer=False, feedback=feedback),
        raw_question("short_answer", answers=["Latent space", " latent SPACE ", "embedding"], feedback=feedback),
        raw_question("short_answer", id="q-case", answers=["DNA"], case_sensitive=True),
        raw_question("numerical", answer=0.8, tolerance=0.001, feedback=feedback, hint="Subtract."),
        raw_question("numerical", id="q-exact", answer=42),
        without_answer(raw_question("numerical", id="q-range", range=[0.0001, 0.5], points=4)),
        raw_question("essay", points=5, feedback={"general": "A good answer names the dimension."}, hint="Be brief."),
        raw_question(
            "matching",
            points=3,
            pairs=[
                {"left": "VAE", "right": "encoder"},
                {"left": "GAN", "right": "generator"},
                {"left": "AE", "right": "encoder"},
            ],
            distractors=["a linear layer"],
            feedback=feedback,
        ),
        raw_question("ordering", points=2, feedback=feedback),
    ]
    return make_deck(raw_card("all", questions, subtitle="every type"), raw_card("more", [raw_question("essay")]))


def question_items(deck: Deck, data: bytes) -> list[tuple[qti.Item, etree._Element]]:
    """The core's view of every question beside the item file the package has for it."""
    files = entries(data)
    return [
        (item, xml(files[f"items/{item.ident}.xml"]))
        for assessment in qti.assessments(deck)
        for item in assessment.items
    ]


# -- a QTI 2.1 response processing interpreter, for the expressions the templates use --------------------


class Player:
    """Runs one item's response processing on a response, as a QTI player would."""

    def __init__(self, root: etree._Element):
        self.root = root
        self.declarations = {
            d.get("identifier"): d for d in root.iter(f"{Q}responseDeclaration", f"{Q}outcomeDeclaration")
        }

    def value(self, declaration: etree._Element, raw: str):
        base = declaration.get("baseType")
        if base == "float":
            return float(raw)
        if base == "boolean":
            return raw == "true"
        if base == "directedPair":
            return tuple(raw.split())
        return raw

    def container(self, declaration: etree._Element, values: list):
        cardinality = declaration.get("cardinality")
        if cardinality == "single":
            return values[0] if values else None
        return tuple(values) if cardinality == "ordered" else frozenset(values)

    def default(self, declaration: etree._Element):
        values = declaration.findall(f"{Q}defaultValue/{Q}value")
        return self.container(declaration, [self.value(declaration, v.text) for v in values])

    def run(self, response=None, hint_request: bool = False) -> dict:
        self.variables = {name: self.default(d) for name, d in self.declarations.items()}
        self.variables["RESPONSE"] = response
        if "HINTREQUEST" in self.declarations:
            self.variables["HINTREQUEST"] = hint_request
        processing = self.root.find(f"{Q}responseProcessing")
        if processing is not None:
            assert processing.get("template") is None, "response processing is written out, not a template"
            self.rules(processing)
        return self.variables

    def rules(self, parent: etree._Element) -> None:
        for rule in parent:
            tag = etree.QName(rule).localname
            if tag == "setOutcomeValue":
                self.variables[rule.get("identifier")] = self.evaluate(rule[0])
            elif tag == "responseCondition":
                for branch in rule:
                    if etree.QName(branch).localname == "responseElse":
                        self.rules(branch)
                        break
                    if self.evaluate(branch[0]):
                        self.rules(branch[1:])
                        break
            else:
                raise AssertionError(f"unexpected response rule {tag}")

    def mapping(self, identifier: str) -> float:
        declaration = self.declarations[identifier]
        mapping = declaration.find(f"{Q}mapping")
        default = float(mapping.get("defaultValue", "0"))
        response = self.variables[identifier]
        if response is None:
            return default
        values = [response] if declaration.get("cardinality") == "single" else set(response)
        total = 0.0
        for value in values:
            mapped = default
            for entry in mapping.iter(f"{Q}mapEntry"):
                key = self.value(declaration, entry.get("mapKey"))
                if key == value or (entry.get("caseSensitive") == "false" and key.casefold() == value.casefold()):
                    mapped = float(entry.get("mappedValue"))
                    break
            total += mapped
        if mapping.get("lowerBound") is not None:
            total = max(total, float(mapping.get("lowerBound")))
        if mapping.get("upperBound") is not None:
            total = min(total, float(mapping.get("upperBound")))
        return total

    def evaluate(self, expression: etree._Element):
        tag = etree.QName(expression).localname
        operands = [self.evaluate(child) for child in expression] if tag != "mapResponse" else []
        if tag == "variable":
            return self.variables[expression.get("identifier")]
        if tag == "correct":
            declaration = self.declarations[expression.get("identifier")]
            values = declaration.findall(f"{Q}correctResponse/{Q}value")
            return self.container(declaration, [self.value(declaration, v.text) for v in values])
        if tag == "baseValue":
            base = expression.get("baseType")
            return float(expression.text) if base == "float" else expression.text
        if tag == "mapResponse":
            return self.mapping(expression.get("identifier"))
        if tag == "multiple":
            flat = []
            for operand in operands:
                if isinstance(operand, (frozenset, tuple)):
                    flat.extend(operand)
                elif operand is not None:
                    flat.append(operand)
            return tuple(flat) or None
        if tag == "isNull":
            return operands[0] is None or operands[0] in ((), frozenset())
        if tag == "not":
            return not operands[0]
        if tag == "and":
            return all(operands)
        if None in operands:
            return None
        if tag == "match":
            return operands[0] == operands[1]
        if tag == "gt":
            return operands[0] > operands[1]
        if tag == "gte":
            return operands[0] >= operands[1]
        if tag == "lte":
            return operands[0] <= operands[1]
        if tag == "equal":
            given, expected = operands
            if expression.get("toleranceMode", "exact") == "exact":
                return given == expected
            assert expression.get("toleranceMode") == "absolute"
            low, high = (float(t) for t in (expression.get("tolerance").split() * 2)[:2])
            return expected - low <= given <= expected + high
        raise AssertionError(f"unexpected expression {tag}")

    def shown(self, variables: dict) -> list[str]:
        """The text of every modalFeedback the outcomes show, in document order."""
        texts = []
        for feedback in self.root.iter(f"{Q}modalFeedback"):
            value = variables[feedback.get("outcomeIdentifier")]
            members = value if isinstance(value, (tuple, frozenset)) else (value,)
            if (feedback.get("identifier") in members) == (feedback.get("showHide") == "show"):
                texts.append(text(feedback))
        return texts


def qti_response(item: qti.Item, response):
    """A response in lms_export.scoring's terms as the item's RESPONSE variable."""
    question = item.question
    if question.type == "single_choice":
        return dict(zip((c.id for c in question.choices), (o.ident for o in item.options), strict=True))[response]
    if question.type == "multiple_answers":
        ident = dict(zip((c.id for c in question.choices), (o.ident for o in item.options), strict=True))
        return frozenset(ident[r] for r in response) or None
    if question.type == "true_false":
        return item.options[0 if response else 1].ident
    if question.type == "matching":
        source = {o.text.markdown: o.ident for o in item.sources}
        target = {o.text.markdown: o.ident for o in item.options}
        return frozenset((source[left], target[right]) for left, right in response.items()) or None
    if question.type == "ordering":
        ident = {o.text.markdown: o.ident for o in item.options}
        return tuple(ident[r] for r in response)
    if question.type == "short_answer":
        # QTI compares the string as the player submits it; the exported keys are trimmed, and so is this
        return response.strip() or None
    return response


def responses(question) -> list:
    """Right, wrong and partly right answers to a question, in lms_export.scoring's terms."""
    if question.type == "single_choice":
        return [c.id for c in question.choices]
    if question.type == "multiple_answers":
        ids = [c.id for c in question.choices]
        return [ids[:1], ids[:2], ids, ids[1:], []]
    if question.type == "true_false":
        return [True, False]
    if question.type == "short_answer":
        first = question.answers[0]
        return [*question.answers, first.upper(), first.lower(), first.strip()[:-1], ""]
    if question.type == "numerical":
        low, high = question.bounds
        middle = (low + high) / 2
        return [middle, low, high, low - 0.01, high + 0.01, middle + 1, -middle]
    if question.type == "matching":
        rights = [p.right for p in question.pairs]
        everything = {p.left: p.right for p in question.pairs}
        first_only = {question.pairs[0].left: question.pairs[0].right}
        swapped = {p.left: rights[(i + 1) % len(rights)] for i, p in enumerate(question.pairs)}
        wrong = [{**everything, question.pairs[-1].left: d} for d in question.distractors[:1]]
        return [everything, first_only, swapped, *wrong, {}]
    if question.type == "ordering":
        return [list(question.items), list(reversed(question.items)), [*question.items[1:], question.items[0]]]
    return []


# -- validation ----------------------------------------------------------------


def assert_valid(data: bytes, tmp_path: Path, schemas_dir: Path) -> None:
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    report = check_package(path, Schemas(schemas_dir))
    assert report.ok, "\n".join(map(str, report.problems))
    xml_files = {name for name in entries(data) if name.endswith(".xml")}
    assert set(report.validated) == xml_files and not report.unschemaed
    assert report.validated.pop("imsmanifest.xml") == "imscp11"
    assert set(report.validated.values()) == {"qti21"}


@pytest.mark.parametrize("one_quiz", [False, True])
def test_the_example_validates_against_the_official_schemas(tmp_path, schemas_dir, one_quiz):
    assert_valid(convert(readers.read(EVERY_TYPE), one_quiz=one_quiz), tmp_path, schemas_dir)


@pytest.mark.parametrize("one_quiz", [False, True])
def test_every_question_type_with_hostile_text_validates(tmp_path, schemas_dir, one_quiz):
    everywhere = {"prompt": NASTY, "title": NASTY, "hint": NASTY, "feedback": dict.fromkeys(FEEDBACK_KINDS, NASTY)}
    hostile = {kind: raw_question(kind, **everywhere) for kind in QUESTION_TYPES}
    hostile["single_choice"]["choices"][0].update(text=NASTY, feedback=NASTY)
    hostile["short_answer"]["answers"] = [NASTY, "a & b"]
    hostile["matching"]["pairs"][0] = {"left": NASTY, "right": NASTY}
    hostile["ordering"]["items"][0] = NASTY
    card = raw_card("c", list(hostile.values()), title=NASTY, subtitle=NASTY)
    deck = make_deck(card, title=NASTY, description=NASTY)
    data = convert(deck, one_quiz=one_quiz)
    assert_valid(data, tmp_path, schemas_dir)
    for name, root in item_files(data).items():
        assert root.find(f".//{Q}script") is None and b"<script" not in entries(data)[name]
        prompt = text(root.find(f"{Q}itemBody/{Q}div"))
        assert '& "quoted" ]]> ' in prompt and "ünïcødé 🙂 \\(x^2 < y\\)" in prompt
    assert_valid(convert(every_type_deck(), one_quiz=one_quiz), tmp_path, schemas_dir)


# -- meaning -------------------------------------------------------------------


def test_answer_keys_points_and_texts_are_the_decks():
    deck = every_type_deck()
    for item, root in question_items(deck, convert(deck)):
        question = item.question
        assert root.get("title") == item.title and root.get("adaptive") == "false"
        player = Player(root)
        assert player.default(player.declarations["MAXSCORE"]) == question.points
        assert text(root.find(f"{Q}itemBody/{Q}div")) == render.plain_text(question.prompt)
        declaration = player.declarations["RESPONSE"]
        correct = [v.text for v in declaration.findall(f"{Q}correctResponse/{Q}value")]
        choices = {c.get("identifier"): text(c) for c in root.iter(f"{Q}simpleChoice", f"{Q}simpleAssociableChoice")}
        if question.type in ("single_choice", "multiple_answers"):
            assert [choices[v] for v in correct] == [c.text for c in question.choices if c.correct]
            assert list(choices.values()) == [c.text for c in question.choices]
            interaction = root.find(f".//{Q}choiceInteraction")
            assert interaction.get("maxChoices") == ("1" if question.type == "single_choice" else "0")
            assert interaction.get("shuffle") == str(question.shuffle).lower()
        elif question.type == "true_false":
            assert [choices[v] for v in correct] == [str(question.answer)]
        elif question.type == "short_answer":
            keys = {e.get("mapKey"): e.get("caseSensitive") for e in declaration.iter(f"{Q}mapEntry")}
            fold = (lambda a: a.strip()) if question.case_sensitive else (lambda a: a.strip().casefold())
            assert sorted(map(fold, keys)) == sorted({fold(a) for a in question.answers})  # one entry per answer
            assert set(keys.values()) == {str(question.case_sensitive).lower()}
            assert root.find(f"{Q}itemBody/{Q}p/{Q}textEntryInteraction") is not None
        elif question.type == "numerical":
            assert declaration.get("baseType") == "float"
            assert correct == ([] if question.range else [templating.number(question.answer)])
            equal = root.find(f".//{Q}equal")
            if question.range:
                bounds = [float(root.find(f".//{Q}{op}/{Q}baseValue").text) for op in ("gte", "lte")]
                assert bounds == list(question.range)
            elif question.tolerance:
                assert equal.get("toleranceMode") == "absolute" and float(equal.get("tolerance")) == question.tolerance
            else:
                assert equal.get("toleranceMode") == "exact"
        elif question.type == "essay":
            assert root.find(f".//{Q}extendedTextInteraction") is not None
        elif question.type == "matching":
            pairs = {(choices[v.split()[0]], choices[v.split()[1]]) for v in correct}
            assert pairs == {(p.left, p.right) for p in question.pairs}
            sets = root.findall(f".//{Q}simpleMatchSet")
            item = next(i for a in qti.assessments(every_type_deck()) for i in a.items if i.question == question)
            assert [c.get("identifier") for c in sets[1]] == [o.ident for o in item.display_options]
            assert {text(c) for c in sets[1]} == {"encoder", "generator", "a linear layer"}
            mapping = declaration.find(f"{Q}mapping")
            assert float(mapping.get("upperBound")) == question.points
            assert {float(e.get("mappedValue")) for e in mapping} == {scoring.pair_credit(question)}
        elif question.type == "ordering":
            assert declaration.get("cardinality") == "ordered"
            assert [choices[v] for v in correct] == list(question.items)
            assert root.find(f".//{Q}orderInteraction").get("shuffle") == "true"


def test_the_example_reads_back_as_written():
    deck = readers.read(EVERY_TYPE)
    items = question_items(deck, convert(deck))
    by_id = {item.question.id: (item, root) for item, root in items}
    assert len(by_id) == sum(len(c.questions) for c in deck.cards)
    item, root = by_id["direction"]
    player = Player(root)
    right = player.run(qti_response(item, "a"))
    assert right["SCORE"] == 2
    assert player.shown(right) == [
        "Yes: the gradient points uphill.",
        "Right, downhill on the loss.",
        "The update is \\(\\theta - \\eta \\nabla L\\).",
    ]
    assert player.shown(player.run(hint_request=True)) == ["Think about what the gradient points towards."]


@pytest.mark.parametrize("deck_source", ["builders", "example"])
def test_scoring_and_feedback_are_lms_export_scoring(deck_source):
    """Every question, answered right, wrong and partly right: the item scores as scoring.score does."""
    deck = every_type_deck() if deck_source == "builders" else readers.read(EVERY_TYPE)
    for item, root in question_items(deck, convert(deck)):
        question, player = item.question, Player(root)
        scores = set()
        for response in responses(question):
            outcome = player.run(qti_response(item, response))
            expected = scoring.score(question, response)
            scores.add(expected)
            assert outcome["SCORE"] == pytest.approx(expected), (question.id, response)
            shown = player.shown(outcome)
            full = expected == pytest.approx(question.points)
            for feedback, wanted in ((item.correct_feedback, full), (item.incorrect_feedback, not full)):
                if feedback:
                    assert (feedback.plain in shown) is wanted, (question.id, response, shown)
            if item.general_feedback:
                assert item.general_feedback.plain in shown
            if question.type in ("single_choice", "multiple_answers"):
                chosen = {response} if isinstance(response, str) else set(response)
                for choice in question.choices:
                    if choice.feedback:
                        assert (render.plain_text(choice.feedback) in shown) is (choice.id in chosen)
        if question.auto_scored:  # every question was answered right and wrong, matching partly right too
            assert {0, question.points} <= scores and (question.type != "matching" or len(scores) > 2)
        if question.type == "essay":
            outcome = player.run("anything at all")
            assert outcome["SCORE"] == 0 and scoring.score(question, "anything") is None
            assert player.shown(outcome) == ([item.general_feedback.plain] if item.general_feedback else [])


def test_a_hint_is_shown_on_request_the_way_the_standard_shows_it():
    """QTI 2.1's hint example: an endAttemptInteraction sets HINTREQUEST, response processing shows the hint."""
    deck = every_type_deck()
    hinted = 0
    for item, root in question_items(deck, convert(deck)):
        button = root.find(f"{Q}itemBody/{Q}p/{Q}endAttemptInteraction")
        if not item.hint:
            assert button is None and "HINTREQUEST" not in Player(root).declarations
            continue
        hinted += 1
        assert button.get("responseIdentifier") == "HINTREQUEST" and button.get("title") == "Show hint"
        assert button.get("countAttempt") == "false"
        player = Player(root)
        assert player.declarations["HINTREQUEST"].get("baseType") == "boolean"
        asked = player.run(hint_request=True)
        assert player.shown(asked) == [item.hint.plain] and asked["SCORE"] == 0
        answered = player.run(qti_response(item, responses(item.question)[0]) if item.question.auto_scored else "x")
        assert item.hint.plain not in player.shown(answered)
    assert hinted == 3


def test_feedback_that_does_not_exist_is_not_written():
    deck = make_deck(
        raw_card("c", [raw_question("single_choice"), raw_question("essay", feedback={"correct": "ignored"})])
    )
    for item, root in question_items(deck, convert(deck)):
        assert root.find(f"{Q}modalFeedback") is None
        if item.type == "essay":
            assert root.find(f"{Q}responseProcessing") is None


# -- tests and the package -----------------------------------------------------


def test_a_test_per_card_scoring_the_sum_of_its_items():
    deck = every_type_deck()
    data = convert(deck)
    files = entries(data)
    tests = {xml(content).get("identifier"): name for name, content in files.items() if name.startswith("tests/")}
    assessments = qti.assessments(deck)
    assert len(tests) == len(assessments) == len(deck.cards)
    for assessment, card in zip(assessments, deck.cards, strict=True):
        name = tests[assessment.ident]
        root = xml(files[name])
        assert root.get("title") == card.title
        part = root.find(f"{Q}testPart")
        assert (part.get("navigationMode"), part.get("submissionMode")) == ("nonlinear", "simultaneous")
        [section] = part.findall(f"{Q}assessmentSection")
        refs = section.findall(f"{Q}assessmentItemRef")
        assert len(refs) == len(card.questions)
        for ref in refs:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), ref.get("href")))
            assert xml(files[target]).get("identifier") == ref.get("identifier")
        total = root.find(f"{Q}outcomeProcessing/{Q}setOutcomeValue")
        assert total.get("identifier") == "SCORE"
        assert total.find(f"{Q}sum/{Q}testVariables").get("variableIdentifier") == "SCORE"
        assert float(root.find(f"{Q}outcomeDeclaration[@identifier='MAXSCORE']//{Q}value").text) == card.points


def test_one_quiz_is_one_test_with_a_section_per_card():
    deck = readers.read(EVERY_TYPE)
    files = entries(convert(deck, one_quiz=True))
    [name] = [n for n in files if n.startswith("tests/")]
    root = xml(files[name])
    assert root.get("title") == deck.title
    sections = root.findall(f"{Q}testPart/{Q}assessmentSection")
    assert [s.get("title") for s in sections] == [c.title for c in deck.cards]
    assert [len(s.findall(f"{Q}assessmentItemRef")) for s in sections] == [len(c.questions) for c in deck.cards]
    assert text(sections[0].find(f"{Q}rubricBlock")) == deck.description


def test_the_manifest_names_every_file_with_its_dependencies():
    data = convert(readers.read(EVERY_TYPE))
    files = entries(data)
    manifest = xml(files["imsmanifest.xml"])
    resources = {r.get("identifier"): r for r in manifest.iter(f"{{{CP}}}resource")}
    named = {f.get("href") for f in manifest.iter(f"{{{CP}}}file")}
    assert named == set(files) - {"imsmanifest.xml"}
    types = {}
    for resource in resources.values():
        types.setdefault(resource.get("type"), []).append(resource)
        assert resource.find(f"{{{CP}}}file").get("href") == resource.get("href")
        for dependency in resource.iter(f"{{{CP}}}dependency"):
            assert dependency.get("identifierref") in resources
    assert sorted(types) == ["imsqti_item_xmlv2p1", "imsqti_test_xmlv2p1", "webcontent"]
    for test in types["imsqti_test_xmlv2p1"]:
        refs = xml(files[test.get("href")]).iter(f"{Q}assessmentItemRef")
        assert [d.get("identifierref") for d in test.iter(f"{{{CP}}}dependency")] == [r.get("identifier") for r in refs]
    [image] = types["webcontent"]
    assert image.get("href") == "media/media/latent-space.png"
    # an item depends on the images it shows; here only a card body shows one
    assert all(r.find(f"{{{CP}}}dependency") is None for r in types["imsqti_item_xmlv2p1"])


def test_images_are_packaged_and_referenced_relative_to_the_item(tmp_path):
    shutil.copytree(EXAMPLES / "media", tmp_path / "pics")
    source = tmp_path / "deck.yaml"
    question = raw_question("single_choice", prompt="Look: ![a loss surface](pics/latent-space.png)")
    source.write_text(yaml.safe_dump({"id": "d", "title": "D", "cards": [raw_card("c", [question])]}))
    data = convert(readers.read(source))
    files = entries(data)
    assert files["media/pics/latent-space.png"] == (EXAMPLES / "media" / "latent-space.png").read_bytes()
    [(name, root)] = item_files(data).items()
    [img] = root.iter(f"{Q}img")
    assert img.get("alt") == "a loss surface"
    assert posixpath.normpath(posixpath.join(posixpath.dirname(name), img.get("src"))) == "media/pics/latent-space.png"
    manifest = xml(files["imsmanifest.xml"])
    [item] = [r for r in manifest.iter(f"{{{CP}}}resource") if r.get("type") == "imsqti_item_xmlv2p1"]
    [image] = [r for r in manifest.iter(f"{{{CP}}}resource") if r.get("type") == "webcontent"]
    assert [d.get("identifierref") for d in item.iter(f"{{{CP}}}dependency")] == [image.get("identifier")]
    assert "media/media/latent-space.png" in entries(convert(readers.read(EVERY_TYPE)))


def test_a_missing_image_is_an_error_naming_the_card_and_the_path():
    deck = make_deck(raw_card("lonely", [raw_question("essay", prompt="![x](nowhere/gone.png)")]))
    with pytest.raises(LmsExportError) as raised:
        convert(deck)
    [problem] = raised.value.problems
    assert problem.card == "lonely" and "nowhere/gone.png" in problem.message


def test_converting_twice_gives_the_same_bytes():
    assert convert(readers.read(EVERY_TYPE)) == convert(readers.read(EVERY_TYPE))
    assert convert(every_type_deck(), one_quiz=True) == convert(every_type_deck(), one_quiz=True)


def test_progress_counts_every_card():
    done = []
    formats()["qti21"](every_type_deck(), io.BytesIO(), progress=done.append)
    assert sum(done) == 2
    done.clear()
    formats()["qti21"](every_type_deck(), io.BytesIO(), progress=done.append, one_quiz=True)
    assert sum(done) == 2


# -- templates -----------------------------------------------------------------


def test_a_template_override_replaces_one_file_and_keeps_the_rest(tmp_path):
    builtin = templating.builtin_folder("qti/qti21") / "test.xml.j2"
    (tmp_path / "qti" / "qti21").mkdir(parents=True)
    changed = builtin.read_text().replace('navigationMode="nonlinear"', 'navigationMode="linear"')
    (tmp_path / "qti" / "qti21" / "test.xml.j2").write_text(changed)
    deck = readers.read(EVERY_TYPE)
    plain, custom = entries(convert(deck)), entries(convert(deck, templates=tmp_path))
    assert plain.keys() == custom.keys()
    for name in plain:
        if name.startswith("tests/"):
            assert xml(custom[name]).find(f"{Q}testPart").get("navigationMode") == "linear"
        else:
            assert custom[name] == plain[name]


def test_a_broken_override_template_is_an_error_naming_it(tmp_path):
    (tmp_path / "qti" / "qti21").mkdir(parents=True)
    (tmp_path / "qti" / "qti21" / "item.xml.j2").write_text("<assessmentItem>{% if %}</assessmentItem>\n")
    with pytest.raises(LmsExportError) as raised:
        convert(readers.read(EVERY_TYPE), templates=tmp_path)
    assert "item.xml.j2" in str(raised.value) and "template error" in str(raised.value)


# -- the command ---------------------------------------------------------------


def test_the_command_converts_the_example(tmp_path, schemas_dir):
    out = tmp_path / "x.zip"
    result = CliRunner().invoke(main, ["convert", str(EVERY_TYPE), "--to", "qti21", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == convert(readers.read(EVERY_TYPE))
    checked = CliRunner().invoke(main, ["check", str(out), "--schemas", str(schemas_dir)])
    assert checked.exit_code == 0, checked.output


def test_the_command_names_a_missing_image_and_writes_nothing(tmp_path):
    source = tmp_path / "deck.yaml"
    question = raw_question("single_choice", prompt="![gone](media/missing.png)")
    source.write_text(yaml.safe_dump({"id": "d", "title": "D", "cards": [raw_card("lost-image", [question])]}))
    out = tmp_path / "x.zip"
    result = CliRunner().invoke(main, ["convert", str(source), "--to", "qti21", "-o", str(out)])
    assert result.exit_code == 1
    assert "lost-image" in result.stderr and "media/missing.png" in result.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["deck.yaml"]
