"""Common Cartridge 1.1 and 1.3: modules, pages, quizzes that carry the deck's answers, links, LTI links."""

from __future__ import annotations

import io
import itertools
import posixpath
import warnings
import zipfile
from functools import cached_property

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, make_deck, raw_card, raw_deck, raw_question
from lxml import etree

from lms_export import qti, readers, render, scoring
from lms_export.cli import main
from lms_export.deckfile import build_deck
from lms_export.errors import ExportWarning, LmsExportError
from lms_export.exporters import cc, formats
from lms_export.model import Deck, MultipleAnswers, Question, ShortAnswer, SingleChoice, TrueFalse
from lms_export.validation import Schemas, check_package

EXAMPLE_DECKS = [EXAMPLES / "every-type.yaml", EXAMPLES / "guest-bridge.yaml"]
VERSIONS = {"cc11": cc.CC11, "cc13": cc.CC13}
QTI = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
LTI = {
    "cc": "http://www.imsglobal.org/xsd/imslticc_v1p0",
    "blti": "http://www.imsglobal.org/xsd/imsbasiclti_v1p0",
}
PROFILES = {
    SingleChoice.type: "cc.multiple_choice.v0p1",
    MultipleAnswers.type: "cc.multiple_response.v0p1",
    TrueFalse.type: "cc.true_false.v0p1",
    ShortAnswer.type: "cc.fib.v0p1",
    "essay": "cc.essay.v0p1",
}
TOOL = "https://cards.example.edu"


class Cartridge:
    """A written cartridge, read back: its manifest, resources, items and quizzes."""

    def __init__(self, data: bytes, output_format: str):
        self.data = data
        self.version = VERSIONS[output_format]
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.manifest = self.xml("imsmanifest.xml")
        self.ns = {"cp": self.version.namespace}

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.zip.read(name))

    @property
    def names(self) -> set[str]:
        return set(self.zip.namelist())

    @cached_property
    def resources(self) -> dict[str, etree._Element]:
        return {r.get("identifier"): r for r in self.manifest.iterfind("cp:resources/cp:resource", self.ns)}

    def file(self, resource: etree._Element) -> str:
        [file] = resource.iterfind("cp:file", self.ns)
        return file.get("href")

    @property
    def modules(self) -> list[etree._Element]:
        return self.manifest.findall("cp:organizations/cp:organization/cp:item/cp:item", self.ns)

    def module_resources(self, module: etree._Element) -> list[tuple[str, etree._Element]]:
        """The module's items as (title, resource), in order."""
        return [
            (item.findtext("cp:title", namespaces=self.ns), self.resources[item.get("identifierref")])
            for item in module.iterfind("cp:item", self.ns)
        ]

    def of_type(self, kind: str) -> list[etree._Element]:
        return [r for r in self.resources.values() if r.get("type") == kind]

    def quiz(self, card_id: str) -> etree._Element:
        return self.xml(f"quizzes/{card_id}.xml")

    def items(self, card_id: str) -> dict[str, etree._Element]:
        """A card's quiz items by question id (the item title is the question's title or card: id)."""
        return {item.get("ident"): item for item in self.quiz(card_id).iterfind(".//q:item", QTI)}


def write(deck: Deck, output_format: str = "cc11", **options) -> Cartridge:
    out = io.BytesIO()
    formats()[output_format](deck, out, **options)
    return Cartridge(out.getvalue(), output_format)


def example(path, output_format: str = "cc11", **options) -> Cartridge:
    """An example deck's cartridge; what it warns about is tested on its own."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)
        return write(readers.read(path), output_format, **options)


def item_of(cartridge: Cartridge, deck: Deck, card_id: str, question: Question) -> etree._Element:
    return cartridge.items(card_id)[qti.identifier("item", deck.id, card_id, question.id)]


def metadata(item: etree._Element) -> dict[str, str]:
    fields = item.iterfind("q:itemmetadata/q:qtimetadata/q:qtimetadatafield", QTI)
    return {f.findtext("q:fieldlabel", namespaces=QTI): f.findtext("q:fieldentry", namespaces=QTI) for f in fields}


def labels(item: etree._Element) -> list[str]:
    return item.xpath("q:presentation/q:response_lid/q:render_choice/q:response_label/@ident", namespaces=QTI)


def feedback_html(item: etree._Element, ident: str) -> str:
    [text] = item.xpath("q:itemfeedback[@ident=$i]/q:flow_mat/q:material/q:mattext/text()", i=ident, namespaces=QTI)
    return text


# -- QTI 1.2 response processing, as a player runs it ----------------------------------


def _holds(test: etree._Element, response: str | set[str]) -> bool:
    kind = etree.QName(test).localname
    if kind == "other":
        return True
    if kind == "and":
        return all(_holds(t, response) for t in test)
    if kind == "not":
        return not any(_holds(t, response) for t in test)
    assert kind == "varequal", kind
    if isinstance(response, str):  # typed text: LMSs compare it trimmed, and ignore case unless case="Yes"
        given, value = response.strip(), test.text or ""
        return given == value if test.get("case") == "Yes" else given.casefold() == value.casefold()
    return test.text in response


def run(item: etree._Element, response: str | set[str]) -> tuple[float, list[str]]:
    """SCORE and the feedback shown: conditions in order, tests in a conditionvar as alternatives."""
    score, shown = 0.0, []
    for condition in item.iterfind("q:resprocessing/q:respcondition", QTI):
        if any(_holds(test, response) for test in condition.find("q:conditionvar", QTI)):
            for setvar in condition.iterfind("q:setvar", QTI):
                score = float(setvar.text)
            shown += [d.get("linkrefid") for d in condition.iterfind("q:displayfeedback", QTI)]
            if condition.get("continue", "No") == "No":
                break
    return score, shown


def responses(question: Question, idents: list[str]) -> list[tuple[object, str | set[str]]]:
    """(the response scoring.score takes, the same response as the item's idents or text)."""
    if isinstance(question, TrueFalse):
        return [(value, {ident}) for value, ident in zip((True, False), idents, strict=True)]
    if isinstance(question, SingleChoice):
        return [(c.id, {ident}) for c, ident in zip(question.choices, idents, strict=True)]
    if isinstance(question, MultipleAnswers):
        pairs = list(zip(question.choices, idents, strict=True))
        subsets = itertools.chain.from_iterable(itertools.combinations(pairs, n) for n in range(len(pairs) + 1))
        return [([c.id for c, _ in chosen], {ident for _, ident in chosen}) for chosen in subsets]
    assert isinstance(question, ShortAnswer)
    typed = [*question.answers, *(f"  {a.upper()} " for a in question.answers), "something else", ""]
    return [(text, text) for text in typed]


# -- the examples ------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["cc11", "cc13"])
@pytest.mark.parametrize("deck_file", EXAMPLE_DECKS, ids=lambda p: p.stem)
def test_the_examples_convert_to_valid_cartridges_that_name_every_file(tmp_path, schemas_dir, output_format, deck_file):
    out = tmp_path / f"{deck_file.stem}.imscc"
    result = CliRunner().invoke(main, ["convert", str(deck_file), "--to", output_format, "-o", str(out)])
    assert result.exit_code == 0, result.output
    report = check_package(out, Schemas(schemas_dir))
    assert report.ok, report.problems
    cartridge = Cartridge(out.read_bytes(), output_format)
    deck = readers.read(deck_file)
    expected = {"imsmanifest.xml": output_format}
    expected |= {f"quizzes/{c.id}.xml": f"{output_format}_qti" for c in deck.cards if c.questions}
    expected |= {f"links/{c.id}-{s.id}.xml": f"{output_format}_weblink" for c in deck.cards for s in c.sources}
    assert report.validated == expected, "each file against its own schema, Schematron included"
    named = {f.get("href") for f in cartridge.manifest.iterfind(".//cp:file", cartridge.ns)}
    assert named == cartridge.names - {"imsmanifest.xml"}, "every file named, and nothing unnamed"
    schema = cartridge.manifest.find("cp:metadata", cartridge.ns)
    assert schema.findtext("cp:schemaversion", namespaces=cartridge.ns) == f"{cartridge.version.name}.0"


@pytest.mark.parametrize("output_format", ["cc11", "cc13"])
def test_a_module_per_card_holds_its_page_quiz_and_sources_in_order(output_format):
    deck = readers.read(EXAMPLE_DECKS[0])
    cartridge = example(EXAMPLE_DECKS[0], output_format)
    version = cartridge.version
    assert [m.findtext("cp:title", namespaces=cartridge.ns) for m in cartridge.modules] == [c.title for c in deck.cards]
    for module, card in zip(cartridge.modules, deck.cards, strict=True):
        shown = cartridge.module_resources(module)
        assert [(title, r.get("type")) for title, r in shown] == [
            (card.title, "webcontent"),
            (f"Quiz: {card.title}", version.assessment_type),
            *((s.title, version.weblink_type) for s in card.sources),
        ]
        page, quiz, *links = (r for _, r in shown)
        assert page.get("href") == cartridge.file(page) == f"cards/{card.id}.html"
        assert cartridge.file(quiz) == f"quizzes/{card.id}.xml" and quiz.get("href") is None
        for link, source in zip(links, card.sources, strict=True):
            web_link = cartridge.xml(cartridge.file(link))
            assert etree.QName(web_link).namespace == version.weblink_namespace
            assert web_link.find("{*}url").get("href") == source.url
            assert web_link.findtext("{*}title") == source.title


def test_the_card_page_is_the_page_of_the_other_formats_without_its_quiz_or_answer_key():
    deck = readers.read(EXAMPLE_DECKS[0])
    cartridge = example(EXAMPLE_DECKS[0])
    for card in deck.cards:
        html = cartridge.zip.read(f"cards/{card.id}.html").decode("utf-8")
        document = lxml.html.fromstring(html)
        assert document.findtext(".//h1") == card.title
        assert document.get_element_by_id("lms-export-key", None) is None, "a graded quiz's key must not be on the page"
        assert not document.xpath("//section[@class='quiz']")
        # everything the page loads is in the cartridge and named by its resource or a dependency
        page_id = qti.identifier("page", deck.id, card.id)
        resource = cartridge.resources[page_id]
        reachable = {cartridge.file(resource)} | {
            f.get("href")
            for d in resource.iterfind("cp:dependency", cartridge.ns)
            for f in cartridge.resources[d.get("identifierref")].iterfind("cp:file", cartridge.ns)
        }
        loaded = document.xpath("//img/@src | //link[@rel='stylesheet']/@href | //script/@src")
        assert loaded
        for url in loaded:
            if not render.is_local_path(url):
                continue
            name = posixpath.normpath(posixpath.join("cards", url))
            assert name in cartridge.names and name in reachable, url


# -- the quizzes ---------------------------------------------------------------------------


@pytest.mark.parametrize("deck_file", EXAMPLE_DECKS, ids=lambda p: p.stem)
def test_every_quiz_carries_the_decks_answers_points_and_feedback(deck_file):
    deck = readers.read(deck_file)
    cartridge = example(deck_file)
    media_url = lambda path: cc.MEDIA_PREFIX + qti.media_name(path)  # noqa: E731
    carried = 0
    for card in deck.cards:
        for question in card.questions:
            if cc.left_out(question):
                continue
            carried += 1
            item = item_of(cartridge, deck, card.id, question)
            fields = metadata(item)
            assert fields["cc_profile"] == PROFILES[question.type]
            assert fields["cc_weighting"] == str(int(question.points))
            assert fields["qmd_computerscored"] == ("Yes" if question.auto_scored else "No")

            def html(markdown, card=card):
                return render.to_html(markdown, card.sources, media_url)

            feedback = question.feedback
            if feedback.general:
                assert feedback_html(item, "general_fb") == html(feedback.general)
            if question.hint:
                assert item.xpath("string(q:itemfeedback[@ident='hint']//q:mattext)", namespaces=QTI) == html(
                    question.hint
                )
            if not question.auto_scored:
                assert run(item, "anything") == (0.0, ["general_fb"] if feedback.general else [])
                assert not item.xpath(".//q:varequal", namespaces=QTI)
                continue
            if feedback.correct:
                assert feedback_html(item, "correct_fb") == html(feedback.correct)
            if feedback.incorrect:
                assert feedback_html(item, "general_incorrect_fb") == html(feedback.incorrect)
            idents = labels(item)
            for response, given in responses(question, idents):
                right = scoring.score(question, response) == question.points
                score, shown = run(item, given)
                assert score == (100.0 if right else 0.0), (card.id, question.id, response)
                assert ("general_fb" in shown) == bool(feedback.general)
                assert ("correct_fb" in shown) == (right and bool(feedback.correct))
                assert ("general_incorrect_fb" in shown) == (not right and bool(feedback.incorrect))
            for choice, ident in zip(getattr(question, "choices", ()), idents, strict=False):
                if choice.feedback:
                    assert feedback_html(item, f"{ident}_fb") == html(choice.feedback)
                    assert f"{ident}_fb" in run(item, {ident})[1]
    assert carried == sum(1 for c in deck.cards for q in c.questions if not cc.left_out(q)) > 0


def _moodle_answers(item: etree._Element) -> dict[str, object]:
    """What Moodle's CC 1.1 importer (backup/cc/entity11.quiz.class.php) takes from an item."""
    conditions = item.findall("q:resprocessing/q:respcondition", QTI)

    def first_varequal(condition):
        return condition.findtext("q:conditionvar/q:varequal", namespaces=QTI)

    general = [
        d.get("linkrefid")
        for c in conditions
        if c.get("continue") == "Yes"
        for d in c.iterfind("q:displayfeedback", QTI)
    ]
    profile = metadata(item)["cc_profile"]
    if profile in (PROFILES["single_choice"], PROFILES["true_false"]):
        scored = [
            ident
            for ident in labels(item)
            if any(
                first_varequal(c) == ident and c.findtext("q:setvar", namespaces=QTI) not in (None, "", "0")
                for c in conditions
            )
        ]
        return {"right": scored, "general": general}
    if profile == PROFILES["multiple_answers"]:
        query = ".//q:setvar[@varname='SCORE'][.=100]/../q:conditionvar//q:varequal[@case='Yes'][not(parent::q:not)]"
        return {"right": [v.text for v in item.xpath(query, namespaces=QTI)], "general": general}
    if profile == PROFILES["short_answer"]:
        [key, *_] = item.xpath("q:resprocessing/q:respcondition[q:setvar[text()='100']]", namespaces=QTI)
        return {"right": [v.text for v in key.iterfind("q:conditionvar/q:varequal", QTI)], "general": general}
    return {"right": [], "general": general}


def test_moodle_finds_the_right_answers_the_way_its_importer_looks_for_them():
    deck = readers.read(EXAMPLE_DECKS[0])
    cartridge = example(EXAMPLE_DECKS[0])
    card = deck.card("gradient-descent")
    found = {q.id: _moodle_answers(item_of(cartridge, deck, card.id, q)) for q in card.questions if not cc.left_out(q)}
    assert found == {
        "direction": {"right": ["choice_a"], "general": ["general_fb"]},
        "too-large": {"right": ["choice_a", "choice_b"], "general": []},
        "needs-gradient": {"right": ["true"], "general": ["general_fb"]},
        "eta-name": {"right": ["learning rate", "step size"], "general": []},
    }
    needs_gradient = item_of(cartridge, deck, card.id, card.questions[2])
    assert labels(needs_gradient) == ["true", "false"], "Moodle refuses any other true/false idents"


def test_a_false_statement_is_keyed_false():
    deck = make_deck(raw_card("c1", [raw_question("true_false", answer=False)]))
    cartridge = write(deck)
    item = item_of(cartridge, deck, "c1", deck.cards[0].questions[0])
    assert run(item, {"false"})[0] == 100 and run(item, {"true"})[0] == 0
    assert _moodle_answers(item)["right"] == ["false"]


def test_every_item_has_its_profile_and_the_assessment_the_profiles_metadata():
    cartridge = example(EXAMPLE_DECKS[0])
    for name in sorted(n for n in cartridge.names if n.startswith("quizzes/")):
        quiz = cartridge.xml(name)
        fields = quiz.iterfind("q:assessment/q:qtimetadata/q:qtimetadatafield", QTI)
        assessment = {
            f.findtext("q:fieldlabel", namespaces=QTI): f.findtext("q:fieldentry", namespaces=QTI) for f in fields
        }
        assert assessment["cc_profile"] == "cc.exam.v0p1" and assessment["cc_maxattempts"] == "unlimited"
        assert quiz.findall("q:assessment/q:section", QTI), "one section"
        for item in quiz.iterfind(".//q:item", QTI):
            assert metadata(item)["cc_profile"] in PROFILES.values(), item.get("title")


# -- what Common Cartridge cannot carry ---------------------------------------------------------


def test_the_types_cc_cannot_carry_are_left_out_with_a_warning_naming_card_and_question():
    two = {"choices": [{"id": "a", "text": "Yes", "correct": True}, {"id": "b", "text": "No"}]}
    deck = make_deck(
        raw_card("kept", [raw_question("essay"), raw_question("numerical")]),
        raw_card("lost", [raw_question("matching"), raw_question("ordering"), raw_question("single_choice", **two)]),
    )
    with pytest.warns(ExportWarning) as caught:
        cartridge = write(deck)
    messages = [str(w.message) for w in caught]
    assert messages == [
        "card kept, question q-numerical: Common Cartridge has no numerical question; left out of the cartridge's quiz",
        "card lost, question q-matching: Common Cartridge has no matching question; left out of the cartridge's quiz",
        "card lost, question q-ordering: Common Cartridge has no ordering question; left out of the cartridge's quiz",
        "card lost, question q-single_choice: a Common Cartridge multiple-choice question needs at least three "
        "choices (two are true/false only); left out of the cartridge's quiz",
    ]
    assert [i.get("title") for i in cartridge.items("kept").values()] == ["Card kept: q-essay"]
    assert "quizzes/lost.xml" not in cartridge.names
    lost = cartridge.modules[1]
    assert [title for title, _ in cartridge.module_resources(lost)] == ["Card lost"], "the page stays"


@pytest.mark.parametrize(("points", "weighting"), [(1, "1"), (7, "7"), (99, "99"), (2.5, None), (100, None), (0, None)])
def test_points_are_the_profiles_whole_weighting_or_left_to_the_lms_with_a_warning(points, weighting):
    deck = make_deck(raw_card("c1", [raw_question("true_false", points=points)]))
    if weighting is None:
        with pytest.warns(ExportWarning, match=r"card c1, question q-true_false: .* whole number from 1 to 99"):
            cartridge = write(deck)
    else:
        cartridge = write(deck)
    assert metadata(item_of(cartridge, deck, "c1", deck.cards[0].questions[0])).get("cc_weighting") == weighting


def test_a_case_sensitive_answer_is_marked_and_warned_about():
    deck = make_deck(raw_card("c1", [raw_question("short_answer", answers=["NaCl"], case_sensitive=True)]))
    with pytest.warns(ExportWarning, match="ignore case"):
        cartridge = write(deck)
    item = item_of(cartridge, deck, "c1", deck.cards[0].questions[0])
    assert run(item, "NaCl")[0] == 100 and run(item, "nacl")[0] == 0


def test_a_deck_without_questions_is_a_course_of_pages_and_links():
    source = {"id": 1, "title": "A source", "url": "https://example.org/a"}
    deck = make_deck(raw_card("c1", sources=[source, {"id": 2, "title": "No address"}], body="See [1] and [2]."))
    cartridge = write(deck)
    shown = [title for title, _ in cartridge.module_resources(cartridge.modules[0])]
    assert shown == ["Card c1", "A source"], "a source without a URL has no web link"
    assert not [n for n in cartridge.names if n.startswith("quizzes/")]


def test_an_image_in_a_question_is_packaged_and_named_as_the_quizs_dependency():
    prompt = "Which surface is this? ![loss](media/latent-space.png)"
    deck = build_deck(
        raw_deck(raw_card("c1", [raw_question("essay", prompt=prompt)])), file="deck.yaml", base_dir=EXAMPLES
    )
    cartridge = write(deck)
    image = "media/media/latent-space.png"
    assert cartridge.zip.read(image) == (EXAMPLES / "media" / "latent-space.png").read_bytes()
    [item] = cartridge.items("c1").values()
    html = item.findtext("q:presentation/q:material/q:mattext", namespaces=QTI)
    [src] = lxml.html.fragment_fromstring(html, create_parent="div").xpath("//img/@src")
    # $IMS-CC-FILEBASE$ is the assessment's folder (quizzes/), as Moodle resolves it
    assert src == "$IMS-CC-FILEBASE$../" + image
    assert posixpath.normpath(posixpath.join("quizzes", src.removeprefix("$IMS-CC-FILEBASE$"))) == image
    quiz = cartridge.resources[qti.identifier("assessment", deck.id, "c1")]
    [dependency] = quiz.iterfind("cp:dependency", cartridge.ns)
    assert cartridge.file(cartridge.resources[dependency.get("identifierref")]) == image


# -- LTI links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["cc11", "cc13"])
def test_with_the_tools_url_each_card_gets_an_lti_link_to_its_launch_url(schemas_dir, tmp_path, output_format):
    deck = readers.read(EXAMPLE_DECKS[0])
    cartridge = example(EXAMPLE_DECKS[0], output_format, lti_url=TOOL + "/")
    links = cartridge.of_type("imsbasiclti_xmlv1p0")
    assert len(links) == len(deck.cards)
    for module, card in zip(cartridge.modules, deck.cards, strict=True):
        title, resource = cartridge.module_resources(module)[-1]
        assert title == f"{card.title} (interactive)" and resource in links
        link = cartridge.xml(cartridge.file(resource))
        launch = f"{TOOL}/lti/card/{card.id}"
        assert link.findtext("blti:launch_url", namespaces=LTI) == launch
        assert link.findtext("blti:secure_launch_url", namespaces=LTI) == launch
        assert link.findtext("blti:title", namespaces=LTI) == title
    path = tmp_path / "course.imscc"
    path.write_bytes(cartridge.data)
    report = check_package(path, Schemas(schemas_dir))
    assert report.ok, report.problems
    assert {k for n, k in report.validated.items() if n.startswith("lti/")} == {"cc11_lti"}


def test_a_plain_http_tool_address_is_refused_except_on_this_machine():
    deck = make_deck(raw_card("c1"))
    with pytest.raises(LmsExportError, match=r"--lti-url http://cards.example.edu: .*https"):
        write(deck, lti_url="http://cards.example.edu")
    with pytest.raises(LmsExportError, match=r"--lti-url https://cards.example.edu/lti: .*origin"):
        write(deck, lti_url="https://cards.example.edu/lti")
    cartridge = write(deck, lti_url="http://127.0.0.1:5000")
    [resource] = cartridge.of_type("imsbasiclti_xmlv1p0")
    link = cartridge.xml(cartridge.file(resource))
    assert link.findtext("blti:launch_url", namespaces=LTI) == "http://127.0.0.1:5000/lti/card/c1"
    assert link.find("blti:secure_launch_url", LTI) is None


def test_the_cli_adds_the_lti_links(tmp_path):
    out = tmp_path / "course.imscc"
    args = ["convert", str(EXAMPLE_DECKS[1]), "--to", "cc13", "-o", str(out), "--lti-url", TOOL]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    cartridge = Cartridge(out.read_bytes(), "cc13")
    [resource] = cartridge.of_type("imsbasiclti_xmlv1p0")
    assert (
        cartridge.xml(cartridge.file(resource)).findtext("blti:launch_url", namespaces=LTI)
        == f"{TOOL}/lti/card/guest-bridge"
    )


# -- the package ------------------------------------------------------------------------------------


def test_converting_twice_gives_the_same_bytes():
    deck = readers.read(EXAMPLE_DECKS[0])
    with pytest.warns(ExportWarning):
        first, second = (write(deck, "cc13", lti_url=TOOL).data for _ in range(2))
    assert first == second


def test_the_cli_converts_and_warns(tmp_path):
    out = tmp_path / "course.imscc"
    result = CliRunner().invoke(main, ["convert", str(EXAMPLE_DECKS[0]), "--to", "cc11", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: card latent-spaces, question pipeline: Common Cartridge has no ordering question" in result.stderr
    assert "imsmanifest.xml" in zipfile.ZipFile(out).namelist()
    listed = CliRunner().invoke(main, ["formats"])
    assert "cc11" in listed.output and "cc13" in listed.output


def test_an_override_template_replaces_one_versions_file(tmp_path):
    (tmp_path / "cc" / "cc13").mkdir(parents=True)
    (tmp_path / "cc" / "cc13" / "weblink.xml.j2").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<webLink xmlns="{{ cc.weblink_namespace }}">'
        '<title>{{ title|upper }}</title><url href="{{ url }}"/></webLink>\n',
        "utf-8",
    )
    source = {"id": 1, "title": "A source", "url": "https://example.org/a"}
    deck = make_deck(raw_card("c1", sources=[source]))
    ours, theirs = write(deck, "cc13"), write(deck, "cc13", templates=tmp_path)
    assert theirs.xml("links/c1-1.xml").findtext("{*}title") == "A SOURCE"
    assert all(ours.zip.read(n) == theirs.zip.read(n) for n in ours.names if n != "links/c1-1.xml")
    assert write(deck, "cc11", templates=tmp_path).xml("links/c1-1.xml").findtext("{*}title") == "A source"


def test_the_formats_are_registered_with_their_options():
    for name in ("cc11", "cc13"):
        fmt = formats()[name]
        assert fmt.suffix == ".imscc" and fmt.options == {"lti_url", "templates"}


def test_multiple_answers_show_the_chosen_choices_feedback_and_the_incorrect_feedback_on_a_wrong_one():
    choices = [
        {"id": "a", "text": "Right", "correct": True, "feedback": "A is right."},
        {"id": "b", "text": "Also right", "correct": True},
        {"id": "c", "text": "Wrong", "feedback": "C is wrong."},
    ]
    feedback = {"correct": "All of them.", "incorrect": "Not quite."}
    deck = make_deck(raw_card("c1", [raw_question("multiple_answers", choices=choices, feedback=feedback)]))
    item = item_of(write(deck), deck, "c1", deck.cards[0].questions[0])
    assert run(item, {"choice_a", "choice_b"}) == (100, ["correct_fb"])
    assert run(item, {"choice_a"}) == (0, ["choice_a_fb"])
    assert run(item, {"choice_b", "choice_c"}) == (0, ["choice_c_fb", "general_incorrect_fb"])
    assert run(item, {"choice_b"}) == (0, ["general_incorrect_fb"])
    # Moodle gives an answer the feedback of the conditions that test it first: a right choice never gets "Not quite."
    by_choice = {
        ident: [
            d.get("linkrefid")
            for c in item.iterfind("q:resprocessing/q:respcondition", QTI)
            if c.findtext("q:conditionvar/q:varequal", namespaces=QTI) == ident
            for d in c.iterfind("q:displayfeedback", QTI)
        ]
        for ident in labels(item)
    }
    assert by_choice == {
        "choice_a": ["choice_a_fb"],
        "choice_b": [],
        "choice_c": ["choice_c_fb", "general_incorrect_fb"],
    }
    assert _moodle_answers(item) == {"right": ["choice_a", "choice_b"], "general": []}
