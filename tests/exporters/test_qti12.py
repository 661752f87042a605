"""QTI 1.2 for Canvas Classic Quizzes: valid against the official schemas, and saying what the deck says.

The package is read back with lxml and its response processing run by a small
QTI 1.2 evaluator (below), so the tests check the answer key, the points and
the feedback a learner gets, not just the shape of the XML.
"""

from __future__ import annotations

import io
import itertools
import shutil
import warnings
import zipfile

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, FIXTURES, ROOT, make_deck, raw_card, raw_deck, raw_question, write_long_quiz
from lxml import etree

from lms_export import qti, readers, render, scoring, templating
from lms_export.cli import main
from lms_export.deckfile import build_deck
from lms_export.errors import ExportWarning, LmsExportError
from lms_export.exporters import qti12
from lms_export.model import Deck, Question
from lms_export.validation import KNOWN_UNSCHEMAED, Schemas, check_package

NS = {
    "q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2",
    "cp": "http://www.imsglobal.org/xsd/imscp_v1p1",
    "c": "http://canvas.instructure.com/xsd/cccv1p0",
}
CANVAS_TYPES = {
    "single_choice": "multiple_choice_question",
    "multiple_answers": "multiple_answers_question",
    "true_false": "true_false_question",
    "short_answer": "short_answer_question",
    "numerical": "numerical_question",
    "essay": "essay_question",
    "matching": "matching_question",
    "ordering": "matching_question",
}
HOSTILE = "<script>alert('x')</script> Tom & Jerry's \"quote\" ]]> <!-- c --> ünïcødé ✓ $x^2$"


# -- decks ---------------------------------------------------------------------


def question(kind: str, **fields) -> dict:
    """A question of the kind with a hint and every feedback, each naming the kind."""
    feedback = {"correct": f"Correct: {kind}.", "incorrect": f"Incorrect: {kind}.", "general": f"General: {kind}."}
    return raw_question(kind, id=f"q-{kind}", hint=f"Think about {kind}.", feedback=feedback, **fields)


def every_type_deck() -> Deck:
    """Every question type, in two cards; choices with feedback, and every kind of numerical answer."""
    single = question("single_choice", points=2, shuffle=True)
    for choice in single["choices"]:
        choice["feedback"] = f"Because {choice['text']}."
    tolerance = question("numerical")
    value_range = {**question("numerical", range=[1.5, 2.5]), "id": "q-range"}
    del value_range["answer"], value_range["tolerance"]
    exact = {**question("numerical", tolerance=0, answer=7), "id": "q-exact"}
    return make_deck(
        raw_card(
            "c1",
            [
                single,
                question("multiple_answers", points=3),
                question("true_false", answer=False),
                question("short_answer", answers=["latent space", "embedding space"]),
                tolerance,
                value_range,
                exact,
            ],
        ),
        raw_card(
            "c2",
            [
                question("essay", points=5),
                question("matching", points=3, distractors=["a single layer"]),
                question("ordering"),
            ],
            subtitle="Second card",
        ),
    )


def hostile_deck() -> Deck:
    """Text that would break XML or HTML if it reached either unescaped."""
    choices = [
        {"id": "a", "text": HOSTILE, "correct": True, "feedback": HOSTILE},
        {"id": "b", "text": "Plain"},
    ]
    feedback = {"correct": HOSTILE, "incorrect": HOSTILE, "general": HOSTILE}
    questions = [
        raw_question("single_choice", title=HOSTILE, prompt=HOSTILE, hint=HOSTILE, feedback=feedback, choices=choices),
        raw_question("short_answer", prompt=HOSTILE, answers=["Tom & Jerry <3", "]]>"]),
        raw_question("matching", pairs=[{"left": HOSTILE, "right": "R & Co <3"}, {"left": "L", "right": HOSTILE}]),
    ]
    return make_deck(raw_card("c1", questions, title=HOSTILE), title=HOSTILE, description=HOSTILE)


# -- reading a package back ------------------------------------------------------


def convert(deck: Deck, **options) -> bytes:
    out = io.BytesIO()
    qti12.write(deck, out, progress=lambda n: None, **options)
    return out.getvalue()


class Package:
    """A converted zip and the quizzes its manifest names."""

    def __init__(self, data: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = set(self.zip.namelist())
        self.manifest = self.xml("imsmanifest.xml")

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.zip.read(name))

    def resource(self, ident: str) -> etree._Element:
        [resource] = self.manifest.xpath("//cp:resource[@identifier=$i]", namespaces=NS, i=ident)
        return resource

    @property
    def assessments(self) -> list[etree._Element]:
        # any manifest namespace: text2qti's differs from ours
        resources = self.manifest.iterfind("{*}resources/{*}resource[@type='imsqti_xmlv1p2']")
        return [self.xml(r.find("{*}file").get("href")).find("q:assessment", NS) for r in resources]

    def items(self, deck: Deck) -> dict[str, etree._Element]:
        """Every item by its question's id (unique in the test decks)."""
        found = {i.get("ident"): i for a in self.assessments for i in a.iterfind(".//q:item", NS)}
        return {
            q.id: found[qti.identifier("item", deck.id, card.id, q.id)] for card in deck.cards for q in card.questions
        }


def metadata(item: etree._Element) -> dict[str, str]:
    fields = item.iterfind("q:itemmetadata/q:qtimetadata/q:qtimetadatafield", NS)
    return {f.findtext("q:fieldlabel", namespaces=NS): f.findtext("q:fieldentry", "", NS) for f in fields}


def words(html: str) -> str:
    """What a learner reads of an HTML fragment."""
    return lxml.html.fragment_fromstring(html, create_parent="div").text_content() if html else ""


def labels(parent: etree._Element) -> dict[str, str]:
    """Ident to text of the labels a learner picks from, under ``parent``: the choices, or a matching list."""
    return {
        label.get("ident"): words(label.findtext("q:material/q:mattext", "", NS))
        for label in parent.iterfind(".//q:render_choice/q:response_label", NS)
    }


def feedback(item: etree._Element) -> dict[str, str]:
    return {f.get("ident"): f.findtext(".//q:mattext", "", NS) for f in item.iterfind("q:itemfeedback", NS)}


def evaluate(item: etree._Element, responses: dict) -> tuple[float, list[str]]:
    """SCORE (0 to 100) and the feedback shown, by QTI 1.2's rules.

    Conditions apply in order, and one whose ``continue`` is No (the default)
    ends processing when it holds. A response is a set of label idents, a
    string (compared as Canvas does, white space around it aside) or a number.
    """
    [decvar] = item.iterfind("q:resprocessing/q:outcomes/q:decvar", NS)
    assert (decvar.get("varname"), decvar.get("minvalue"), decvar.get("maxvalue")) == ("SCORE", "0", "100")
    score, shown = 0.0, []
    for condition in item.iterfind("q:resprocessing/q:respcondition", NS):
        if _holds(condition.find("q:conditionvar", NS), responses):
            for setvar in condition.iterfind("q:setvar", NS):
                assert setvar.get("varname") == "SCORE"
                value = float(setvar.text)
                score = value if setvar.get("action", "Set") == "Set" else score + value
            shown += [d.get("linkrefid") for d in condition.iterfind("q:displayfeedback", NS)]
            if condition.get("continue", "No") == "No":
                break
    return min(score, 100.0), shown


def _holds(element: etree._Element, responses: dict) -> bool:
    tag = etree.QName(element).localname
    if tag in ("conditionvar", "and"):
        return all(_holds(child, responses) for child in element)
    if tag == "or":
        return any(_holds(child, responses) for child in element)
    if tag == "not":
        [child] = element
        return not _holds(child, responses)
    if tag == "other":
        return True
    given, expected = responses.get(element.get("respident")), element.text or ""
    if given is None:
        return False
    if tag == "vargte":
        return float(given) >= float(expected)
    if tag == "varlte":
        return float(given) <= float(expected)
    assert tag == "varequal", f"a condition the exporter should not write: {tag}"
    if isinstance(given, set):
        return expected in given
    if isinstance(given, float):
        return given == float(expected)
    if element.get("case") == "Yes":
        return given.strip() == expected
    return given.strip().casefold() == expected.casefold()


def points(item: etree._Element, q: Question, responses: dict) -> float:
    return evaluate(item, responses)[0] * q.points / 100


def choice_ident(item: etree._Element, text: str) -> str:
    [ident] = [ident for ident, label in labels(item).items() if label == text]
    return ident


def matching_response(item: etree._Element, chosen: dict[str, str]) -> dict:
    """A matching response, left text to right text, as the label numbers a learner picks."""
    response = {}
    for lid in item.iterfind("q:presentation/q:response_lid", NS):
        left = words(lid.findtext("q:material/q:mattext", "", NS))
        response[lid.get("ident")] = {choice_ident(lid, chosen[left])}
    return response


# -- validity ----------------------------------------------------------------------


def every_type_example() -> Deck:
    return readers.read(EXAMPLES / "every-type.yaml")


@pytest.mark.parametrize(
    ("deck", "one_quiz"),
    [
        (every_type_example, False),
        (every_type_example, True),
        (every_type_deck, False),
        (every_type_deck, True),
        (hostile_deck, False),
    ],
    ids=["every-type.yaml", "every-type.yaml one quiz", "every type", "every type one quiz", "hostile text"],
)
def test_every_xml_file_is_valid_against_the_official_schemas(tmp_path, schemas_dir, deck, one_quiz):
    path = tmp_path / "quiz.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)  # the warnings have tests of their own
        path.write_bytes(convert(deck(), one_quiz=one_quiz))
    report = check_package(path, Schemas(schemas_dir))
    assert report.ok, "\n".join(map(str, report.problems))
    with zipfile.ZipFile(path) as archive:
        xml_files = {n for n in archive.namelist() if n.endswith(".xml")}
        roots = {n: etree.QName(etree.fromstring(archive.read(n))) for n in report.unschemaed}
    assert set(report.validated) | set(report.unschemaed) == xml_files
    assert set(report.validated.values()) == {"imscp11", "qti12"}
    # the only files without a schema are Canvas's quiz settings, one per quiz
    assert report.unschemaed and all(name.endswith("/assessment_meta.xml") for name in report.unschemaed)
    assert all((root.namespace, root.localname) in KNOWN_UNSCHEMAED for root in roots.values())


def test_hostile_text_stays_text(recwarn):
    deck = hostile_deck()
    package = Package(convert(deck))
    [assessment] = package.assessments
    assert assessment.get("title") == HOSTILE
    items = package.items(deck)
    item = items["q-single_choice"]
    assert item.get("title") == render.plain_text(HOSTILE)  # the title is plain text: no script, no comment
    for mattext in item.iterfind(".//q:mattext", NS):
        assert "<script" not in mattext.text and "<!--" not in mattext.text
    prompt = item.findtext("q:presentation/q:material/q:mattext", namespaces=NS)
    [choice] = [text for text in labels(item).values() if text != "Plain"]
    for text in (words(prompt), *map(words, feedback(item).values()), choice):
        assert 'Tom & Jerry\'s "quote" ]]>' in text and "ünïcødé ✓" in text and "x^2" in text
    answers = {v.text for v in items["q-short_answer"].iterfind(".//q:varequal", NS)}
    assert answers == {"Tom & Jerry <3", "]]>"}
    matching = items["q-matching"]
    assert set(labels(matching).values()) >= {"R & Co <3"}
    meta = package.xml(f"{assessment.get('ident')}/assessment_meta.xml")
    assert meta.findtext("c:title", namespaces=NS) == HOSTILE


# -- meaning -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def converted() -> tuple[Deck, dict[str, etree._Element], Package]:
    deck = every_type_deck()
    with pytest.warns(ExportWarning):
        package = Package(convert(deck))
    return deck, package.items(deck), package


def questions(deck: Deck) -> list[Question]:
    return [q for card in deck.cards for q in card.questions]


def test_every_item_carries_canvas_metadata(converted):
    deck, items, _ = converted
    for q in questions(deck):
        item, meta = items[q.id], metadata(items[q.id])
        assert meta["question_type"] == CANVAS_TYPES[q.type], q.id
        assert float(meta["points_possible"]) == q.points, q.id
        assert meta["assessment_question_identifierref"], q.id
        answer_ids = meta["original_answer_ids"].split(",") if meta["original_answer_ids"] else []
        if q.type in ("matching", "ordering"):
            lids = [lid.get("ident") for lid in item.iterfind("q:presentation/q:response_lid", NS)]
            assert ["response_" + ident for ident in answer_ids] == lids
        else:
            assert answer_ids == list(labels(item)), q.id  # the choices, or none


def test_the_answer_key_is_the_decks(converted):
    deck, items, _ = converted
    q = {q.id: q for q in questions(deck)}
    single = items["q-single_choice"]
    assert labels(single) and list(labels(single).values()) == [c.text for c in q["q-single_choice"].choices]
    right = choice_ident(single, q["q-single_choice"].correct_choice.text)
    assert evaluate(single, {"response1": {right}})[0] == 100
    assert single.find(".//q:render_choice", NS).get("shuffle") == "Yes"
    multiple = items["q-multiple_answers"]
    assert multiple.find(".//q:response_lid", NS).get("rcardinality") == "Multiple"
    [key] = multiple.xpath(".//q:respcondition[q:setvar]/q:conditionvar/q:and", namespaces=NS)
    wanted = {choice_ident(multiple, c.text) for c in q["q-multiple_answers"].correct_choices}
    assert {v.text for v in key.iterfind("q:varequal", NS)} == wanted
    assert {v.text for v in key.iterfind("q:not/q:varequal", NS)} == set(labels(multiple)) - wanted
    true_false = items["q-true_false"]
    assert list(labels(true_false).values()) == ["True", "False"]
    assert evaluate(true_false, {"response1": {choice_ident(true_false, "False")}})[0] == 100
    short = items["q-short_answer"]
    assert [v.text for v in short.iterfind(".//q:or/q:varequal", NS)] == ["latent space", "embedding space"]
    for qid in ("q-numerical", "q-range", "q-exact"):
        item = items[qid]
        assert item.find(".//q:render_fib", NS).get("fibtype") == "Decimal"
        low = [float(v.text) for v in item.iterfind(".//q:vargte", NS)]
        high = [float(v.text) for v in item.iterfind(".//q:varlte", NS)]
        exact = [float(v.text) for v in item.iterfind(".//q:varequal", NS)]
        bounds = q[qid].bounds
        if q[qid].range is not None:
            assert (low, high, exact) == ([bounds[0]], [bounds[1]], [])
        elif q[qid].tolerance:
            assert (low, high, exact) == ([bounds[0]], [bounds[1]], [q[qid].answer])
        else:
            assert (low, high, exact) == ([], [], [q[qid].answer])
    essay = items["q-essay"]
    assert essay.find(".//q:setvar", NS) is None and essay.find(".//q:render_fib", NS).get("fibtype") is None


def test_matching_is_partial_credit_per_pair_with_numbered_labels(converted):
    deck, items, _ = converted
    q = next(q for q in questions(deck) if q.id == "q-matching")
    item = items["q-matching"]
    lids = list(item.iterfind("q:presentation/q:response_lid", NS))
    assert [words(lid.findtext("q:material/q:mattext", "", NS)) for lid in lids] == [p.left for p in q.pairs]
    rights = [p.right for p in q.pairs] + list(q.distractors)
    for lid in lids:
        # the same list for every left-hand item; Canvas takes a match's id from the digits of a label's ident
        assert labels(lid) == labels(lids[0]) and sorted(labels(lid).values()) == sorted(rights)
        assert list(labels(lid)) == [str(n) for n in range(1, len(rights) + 1)]
        assert all(m.get("texttype") == "text/plain" for m in lid.iterfind(".//q:response_label//q:mattext", NS))
    shares = [float(s.text) for s in item.iterfind(".//q:setvar[@action='Add']", NS)]
    assert shares == pytest.approx([100 / len(q.pairs)] * len(q.pairs))
    assert sum(shares) * q.points / 100 == pytest.approx(q.points)


def test_ordering_becomes_matching_to_positions_in_a_scrambled_order(converted):
    deck, items, _ = converted
    q = next(q for q in questions(deck) if q.id == "q-ordering")
    item = items["q-ordering"]
    lids = list(item.iterfind("q:presentation/q:response_lid", NS))
    shown = [words(lid.findtext("q:material/q:mattext", "", NS)) for lid in lids]
    assert sorted(shown) == sorted(q.items) and shown != list(q.items)
    assert all(labels(lid) == {str(n): str(n) for n in range(1, len(q.items) + 1)} for lid in lids)
    right = {text: str(position) for position, text in enumerate(q.items, 1)}
    assert evaluate(item, matching_response(item, right))[0] == pytest.approx(100)


def test_the_scoring_the_xml_encodes_is_lms_exports(converted):
    """Every response to every question earns in the XML what lms_export.scoring gives it."""
    deck, items, _ = converted
    checked = 0
    for q in questions(deck):
        item = items[q.id]
        for response, xml_response in _responses(item, q):
            assert points(item, q, xml_response) == pytest.approx(scoring.score(q, response)), (q.id, response)
            checked += 1
    assert checked >= 45


def _responses(item: etree._Element, q: Question):
    """Pairs of a response as scoring takes it and the same response as the XML sees it."""
    if q.type == "single_choice":
        for c in q.choices:
            yield c.id, {"response1": {choice_ident(item, c.text)}}
    elif q.type == "multiple_answers":
        for n in range(len(q.choices) + 1):
            for chosen in itertools.combinations(q.choices, n):
                yield [c.id for c in chosen], {"response1": {choice_ident(item, c.text) for c in chosen}}
    elif q.type == "true_false":
        for value in (True, False):
            yield value, {"response1": {choice_ident(item, str(value))}}
    elif q.type == "short_answer":
        for given in (*q.answers, " Latent Space ", "EMBEDDING SPACE", "latent", ""):
            yield given, {"response1": given}
    elif q.type == "numerical":
        low, high = q.bounds
        for value in (low, high, (low + high) / 2, low - 1e-6, high + 1e-6, 0.0, -high):
            yield value, {"response1": value}
    elif q.type == "matching":
        rights = [p.right for p in q.pairs] + list(q.distractors)
        for chosen in itertools.product(rights, repeat=len(q.pairs)):
            answer = {p.left: right for p, right in zip(q.pairs, chosen, strict=True)}
            yield answer, matching_response(item, answer)


def test_ordering_is_scored_per_position_as_canvas_does(converted):
    """Canvas has no ordering question: its matching gives partial credit where lms-export gives all or nothing."""
    deck, items, _ = converted
    q = next(q for q in questions(deck) if q.id == "q-ordering")
    item = items["q-ordering"]
    for order in itertools.permutations(q.items):
        positions = {text: str(order.index(text) + 1) for text in q.items}
        earned = points(item, q, matching_response(item, positions))
        in_place = sum(a == b for a, b in zip(order, q.items, strict=True))
        assert earned == pytest.approx(q.points * in_place / len(q.items))
        assert (earned == pytest.approx(q.points)) == (scoring.score(q, list(order)) == q.points)


def test_feedback_and_hint_are_the_decks_and_shown_when_they_should_be(converted):
    deck, items, _ = converted
    for q in questions(deck):
        item = items[q.id]
        texts = {ident: words(html) for ident, html in feedback(item).items()}
        general = texts["general_fb"]
        assert general.startswith(q.feedback.general) and general.endswith(f"Hint: {q.hint}"), q.id
        assert texts["correct_fb"] == q.feedback.correct and texts["general_incorrect_fb"] == q.feedback.incorrect
        right, wrong = _right_and_wrong(item, q)
        if q.type == "essay":
            assert evaluate(item, right)[1] == ["general_fb"]
            continue
        assert evaluate(item, right)[1][0] == "general_fb" and "correct_fb" in evaluate(item, right)[1], q.id
        assert "general_incorrect_fb" not in evaluate(item, right)[1], q.id
        assert "general_incorrect_fb" in evaluate(item, wrong)[1] and "correct_fb" not in evaluate(item, wrong)[1]


def test_each_choice_has_its_own_feedback_shown_when_it_is_picked(converted):
    deck, items, _ = converted
    q = next(q for q in questions(deck) if q.id == "q-single_choice")
    item = items[q.id]
    for c in q.choices:
        ident = choice_ident(item, c.text)
        assert words(feedback(item)[f"{ident}_fb"]) == c.feedback
        assert f"{ident}_fb" in evaluate(item, {"response1": {ident}})[1]
        others = [f"{choice_ident(item, o.text)}_fb" for o in q.choices if o is not c]
        assert not set(others) & set(evaluate(item, {"response1": {ident}})[1])


def _right_and_wrong(item: etree._Element, q: Question) -> tuple[dict, dict]:
    if q.type in ("single_choice", "multiple_answers", "true_false"):
        correct = {ident for ident, text in labels(item).items() if _is_correct(q, text)}
        return {"response1": correct}, {"response1": set(labels(item)) - correct}
    if q.type == "short_answer":
        return {"response1": q.answers[0]}, {"response1": "nothing like it"}
    if q.type == "numerical":
        return {"response1": sum(q.bounds) / 2}, {"response1": q.bounds[1] + 1}
    if q.type == "matching":
        right = {p.left: p.right for p in q.pairs}
        return matching_response(item, right), matching_response(item, dict.fromkeys(right, q.distractors[0]))
    if q.type == "ordering":
        order = {text: str(n) for n, text in enumerate(q.items, 1)}
        return matching_response(item, order), matching_response(item, dict.fromkeys(order, "1"))
    return {"response1": "an essay"}, {}


def _is_correct(q: Question, text: str) -> bool:
    if q.type == "true_false":
        return text == str(q.answer)
    return any(c.correct for c in q.choices if c.text == text)


def test_a_case_sensitive_short_answer_says_so_and_warns_that_canvas_ignores_case():
    deck = make_deck(raw_card("c1", [raw_question("short_answer", answers=["PyTorch"], case_sensitive=True)]))
    with pytest.warns(ExportWarning, match="card c1, question q-short_answer: Canvas ignores case"):
        item = Package(convert(deck)).items(deck)["q-short_answer"]
    q = deck.cards[0].questions[0]
    for given in ("PyTorch", "pytorch", " PyTorch "):
        assert points(item, q, {"response1": given}) == scoring.score(q, given)


def test_ordering_warns_that_canvas_has_no_ordering_question():
    deck = make_deck(raw_card("c1", [raw_question("ordering")]))
    with pytest.warns(ExportWarning, match="card c1, question q-ordering: Canvas has no ordering question"):
        convert(deck)


# -- the package -------------------------------------------------------------------


def test_each_quiz_has_its_canvas_settings_under_the_same_identifier(converted):
    deck, _, package = converted
    assessments = package.assessments
    assert [a.get("title") for a in assessments] == [card.title for card in deck.cards]
    for assessment, card in zip(assessments, deck.cards, strict=True):
        ident = assessment.get("ident")
        resource = package.resource(ident)
        assert resource.find("cp:file", NS).get("href") == f"{ident}/{ident}.xml"
        meta_resource = package.resource(resource.find("cp:dependency", NS).get("identifierref"))
        assert meta_resource.get("type") == "associatedcontent/imscc_xmlv1p1/learning-application-resource"
        assert (
            meta_resource.get("href") == meta_resource.find("cp:file", NS).get("href") == f"{ident}/assessment_meta.xml"
        )
        meta = package.xml(f"{ident}/assessment_meta.xml")
        assert etree.QName(meta).text == "{http://canvas.instructure.com/xsd/cccv1p0}quiz"
        assert meta.get("identifier") == ident
        assert meta.findtext("c:title", namespaces=NS) == card.title
        assert words(meta.findtext("c:description", "", NS)) == (card.subtitle or "")
        shuffle = "true" if any(q.shuffle for q in card.questions) else "false"
        assert meta.findtext("c:shuffle_answers", namespaces=NS) == shuffle
        assert float(meta.findtext("c:points_possible", namespaces=NS)) == card.points
        fields = assessment.iterfind("q:qtimetadata/q:qtimetadatafield", NS)
        assert {
            f.findtext("q:fieldlabel", namespaces=NS): f.findtext("q:fieldentry", namespaces=NS) for f in fields
        } == {"cc_maxattempts": meta.findtext("c:allowed_attempts", namespaces=NS)}


def test_one_quiz_is_one_assessment_with_a_section_per_card():
    deck = every_type_deck()
    with pytest.warns(ExportWarning):
        package = Package(convert(deck, one_quiz=True))
    [assessment] = package.assessments
    assert assessment.get("title") == deck.title
    sections = assessment.findall("q:section", NS)
    assert [s.get("title") for s in sections] == [card.title for card in deck.cards]
    assert [len(s.findall("q:item", NS)) for s in sections] == [len(card.questions) for card in deck.cards]
    meta = package.xml(f"{assessment.get('ident')}/assessment_meta.xml")
    assert meta.get("identifier") == assessment.get("ident")
    assert float(meta.findtext("c:points_possible", namespaces=NS)) == sum(card.points for card in deck.cards)


def test_images_are_in_the_package_where_canvas_looks_for_them():
    with pytest.warns(ExportWarning):
        example = Package(convert(every_type_example()))
    image = "media/media/latent-space.png"
    assert example.zip.read(image) == (EXAMPLES / "media" / "latent-space.png").read_bytes()
    [resource] = example.manifest.iterfind("cp:resources/cp:resource[@type='webcontent']", NS)
    assert resource.get("href") == resource.find("cp:file", NS).get("href") == image
    # an image in a question: Canvas resolves $IMS-CC-FILEBASE$/ to the package root
    prompt = "Which surface is this? ![loss](media/latent-space.png)"
    raw = raw_deck(raw_card("c1", [raw_question("single_choice", prompt=prompt)]))
    deck = build_deck(raw, file="deck.yaml", base_dir=EXAMPLES)
    package = Package(convert(deck))
    html = package.items(deck)["q-single_choice"].findtext("q:presentation/q:material/q:mattext", namespaces=NS)
    [src] = lxml.html.fragment_fromstring(html, create_parent="div").xpath("//img/@src")
    assert src.startswith(qti12.MEDIA_PREFIX) and src.removeprefix(qti12.MEDIA_PREFIX) == image
    assert image in package.names


def test_converting_twice_gives_the_same_bytes(recwarn):
    assert convert(every_type_example()) == convert(every_type_example())
    assert convert(every_type_deck(), one_quiz=True) == convert(every_type_deck(), one_quiz=True)


def test_an_override_template_replaces_only_its_own_file(tmp_path, recwarn):
    builtin = templating.builtin_folder("qti/qti12") / "assessment_meta.xml.j2"
    (tmp_path / "qti" / "qti12").mkdir(parents=True)
    text = builtin.read_text("utf-8")
    assert "<allowed_attempts>1</allowed_attempts>" in text
    (tmp_path / "qti" / "qti12" / "assessment_meta.xml.j2").write_text(
        text.replace(">1</allowed", ">-1</allowed"), "utf-8"
    )
    deck = every_type_deck()
    ours, theirs = Package(convert(deck)), Package(convert(deck, templates=tmp_path))
    assert ours.names == theirs.names
    for name in sorted(ours.names):
        if name.endswith("assessment_meta.xml"):
            assert theirs.xml(name).findtext("c:allowed_attempts", namespaces=NS) == "-1"
        else:
            assert theirs.zip.read(name) == ours.zip.read(name), name


def test_a_broken_override_template_is_an_error_naming_the_file(tmp_path, recwarn):
    (tmp_path / "qti" / "qti12").mkdir(parents=True)
    (tmp_path / "qti" / "qti12" / "items.xml.j2").write_text("{% macro item(item) %}{% if %}{% endmacro %}\n", "utf-8")
    with pytest.raises(LmsExportError) as raised:
        convert(every_type_deck(), templates=tmp_path)
    [problem] = raised.value.problems
    assert problem.file.endswith("items.xml.j2") and problem.line == 1


# -- the command -------------------------------------------------------------------


def test_the_cli_converts_the_example(tmp_path):
    out = tmp_path / "quiz.zip"
    result = CliRunner().invoke(main, ["convert", str(EXAMPLES / "every-type.yaml"), "--to", "qti12", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: card latent-spaces, question pipeline: Canvas has no ordering question" in result.stderr
    assert "imsmanifest.xml" in zipfile.ZipFile(out).namelist()


def test_a_missing_image_is_an_error_naming_card_and_path_and_leaves_no_file(tmp_path):
    shutil.copy(EXAMPLES / "every-type.yaml", tmp_path / "deck.yaml")
    out = tmp_path / "quiz.zip"
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "deck.yaml"), "--to", "qti12", "-o", str(out)])
    assert result.exit_code == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert "card gradient-descent" in error and "media/latent-space.png" in error
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["deck.yaml"]


# -- text2qti as a reference ---------------------------------------------------------


def test_a_text2qti_quiz_gets_the_same_types_and_answers_as_from_text2qti(recwarn):
    """text2qti's output is known to import into Canvas: ours must agree with it on what matters."""
    quiz_module = pytest.importorskip("text2qti.quiz", reason="text2qti is not installed: nothing to compare with")
    qti_module = pytest.importorskip("text2qti.qti", reason="text2qti is not installed")
    config_module = pytest.importorskip("text2qti.config", reason="text2qti is not installed")
    source = FIXTURES / "qti12" / "compare.txt"
    quiz = quiz_module.Quiz(source.read_text("utf-8"), config=config_module.Config(), source_name=str(source))
    theirs = Package(qti_module.QTI(quiz).zip_bytes())
    ours = Package(convert(readers.read(source)))
    their_items = [i for a in theirs.assessments for i in a.iterfind(".//q:item", NS)]
    our_items = [i for a in ours.assessments for i in a.iterfind(".//q:item", NS)]
    assert len(our_items) == len(their_items) == 8
    for mine, reference in zip(our_items, their_items, strict=True):
        assert metadata(mine)["question_type"] == metadata(reference)["question_type"]
        assert float(metadata(mine)["points_possible"]) == float(metadata(reference)["points_possible"])
        assert _answer(mine) == _answer(reference), mine.get("title")


def _answer(item: etree._Element):
    """The answer key as text: correct choice texts, accepted strings, or the accepted interval."""
    kind = metadata(item)["question_type"]
    [key] = item.xpath(".//q:respcondition[q:setvar[@action='Set' and text()='100']]", namespaces=NS) or [None]
    if kind in ("multiple_choice_question", "true_false_question", "multiple_answers_question"):
        texts = labels(item)
        chosen = key.xpath(".//q:varequal[not(parent::q:not)]/text()", namespaces=NS)
        return sorted(words(f"<p>{texts[ident]}</p>") for ident in chosen)
    if kind == "short_answer_question":
        return sorted(key.xpath(".//q:varequal/text()", namespaces=NS))
    if kind == "numerical_question":
        values = {
            etree.QName(v).localname: float(v.text) for v in key.iter() if etree.QName(v).localname.startswith("var")
        }
        return (values.get("vargte", values.get("varequal")), values.get("varlte", values.get("varequal")))
    return key


def test_the_exporter_is_registered_for_the_cli():
    from lms_export.exporters import formats

    fmt = formats()["qti12"]
    assert fmt.suffix == ".zip" and fmt.options == {"one_quiz", "templates"}
    assert ROOT.joinpath("templates", "qti", "qti12", "items.xml.j2").is_file()


# -- a long quiz, in parts ------------------------------------------------------------


def test_a_long_quiz_in_parts_on_every_core_is_the_same_package_as_read_whole(tmp_path, schemas_dir):
    source = tmp_path / "long.txt"
    write_long_quiz(source, 1200)
    streamed = tmp_path / "streamed.zip"
    result = CliRunner().invoke(main, ["convert", str(source), "--to", "qti12", "-o", str(streamed)])
    assert result.exit_code == 0, result.output
    whole = io.BytesIO()
    qti12.write(readers.read(source), whole, progress=lambda n: None)
    assert streamed.read_bytes() == whole.getvalue()
    package = Package(streamed.read_bytes())
    [assessment] = package.assessments
    items = assessment.findall(".//q:item", NS)
    assert len(items) == 1200
    [meta_name] = [n for n in package.names if n.endswith("/assessment_meta.xml")]
    meta = package.xml(meta_name)
    assert float(meta.findtext("c:points_possible", namespaces=NS)) == 1200
    assert meta.findtext("c:shuffle_answers", namespaces=NS) == "true"
    assert sorted(package.zip.namelist()) == package.zip.namelist()
    report = check_package(streamed, Schemas(schemas_dir))
    assert report.ok, report.problems
    assert _answer(items[-1]) == ["Right 1200"]


def test_bad_questions_in_several_parts_are_all_reported_and_nothing_is_written(tmp_path):
    source = tmp_path / "long.txt"
    write_long_quiz(source, 1200, broken=(2, 1199))
    out = tmp_path / "quiz.zip"
    result = CliRunner().invoke(main, ["convert", str(source), "--to", "qti12", "-o", str(out)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2
    assert "question q2" in errors[0] and "question q1199" in errors[1]
    assert f"{source}:" in errors[0]
    assert not out.exists()


def test_a_long_quiz_in_parts_is_written_with_the_override_items_template(tmp_path):
    source = tmp_path / "long.txt"
    write_long_quiz(source, 600)
    override = tmp_path / "templates" / "qti" / "qti12"
    override.mkdir(parents=True)
    builtin = (templating.builtin_folder("qti/qti12") / "items.xml.j2").read_text("utf-8")
    assert "<fieldlabel>points_possible</fieldlabel>" in builtin
    (override / "items.xml.j2").write_text(builtin.replace("points_possible", "points_possible_x"), "utf-8")
    out = tmp_path / "quiz.zip"
    result = CliRunner().invoke(
        main, ["convert", str(source), "--to", "qti12", "-o", str(out), "--templates", str(tmp_path / "templates")]
    )
    assert result.exit_code == 0, result.output
    [assessment] = Package(out.read_bytes()).assessments
    items = assessment.findall(".//q:item", NS)
    assert len(items) == 600
    assert all("points_possible_x" in metadata(item) and "points_possible" not in metadata(item) for item in items)


@pytest.mark.parametrize("one_quiz", [False, True])
def test_cards_without_questions_are_left_out_with_a_warning(one_quiz):
    deck = make_deck(
        raw_card("first", [raw_question()]),
        raw_card("empty"),
        raw_card("last", [raw_question(), raw_question(id="q2")]),
    )
    with pytest.warns(ExportWarning, match="card empty has no questions"):
        package = Package(convert(deck, one_quiz=one_quiz))
    sections = [s for a in package.assessments for s in a.iterfind("q:section", NS)]
    assert len(package.assessments) == (1 if one_quiz else 2)
    assert [len(s.findall("q:item", NS)) for s in sections] == [1, 2]
    with pytest.raises(LmsExportError, match="no questions"), pytest.warns(ExportWarning):
        convert(make_deck(raw_card("empty")), one_quiz=one_quiz)
