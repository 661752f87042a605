"""SCORM 1.2 and 2004 packages: layout, manifests, pass marks and what each question reports."""

from __future__ import annotations

import io
import json
import re
import zipfile

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, make_deck, raw_card, raw_question
from lxml import etree

from lms_export import readers, templating
from lms_export.cli import main
from lms_export.exporters import formats
from lms_export.validation import Schemas, check_package

EXAMPLE_DECKS = [EXAMPLES / "every-type.yaml", EXAMPLES / "guest-bridge.yaml"]
CP = {
    "scorm12": "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
    "scorm2004": "http://www.imsglobal.org/xsd/imscp_v1p1",
}


def convert(tmp_path, deck_file, output_format: str, *options: str) -> zipfile.ZipFile:
    out = tmp_path / f"{deck_file.stem}-{output_format}.zip"
    result = CliRunner().invoke(main, ["convert", str(deck_file), "--to", output_format, "-o", str(out), *options])
    assert result.exit_code == 0, result.output
    return zipfile.ZipFile(out)


def package(deck, output_format: str, **options) -> zipfile.ZipFile:
    out = io.BytesIO()
    formats()[output_format](deck, out, **options)
    return zipfile.ZipFile(out)


def manifest(archive: zipfile.ZipFile) -> etree._Element:
    return etree.fromstring(archive.read("imsmanifest.xml"))


def local(root: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == name]


def quiz(archive: zipfile.ZipFile, page: str) -> dict:
    document = lxml.html.fromstring(archive.read(page))
    return json.loads(document.get_element_by_id("lms-export-quiz").text)


@pytest.mark.parametrize("output_format", ["scorm12", "scorm2004"])
@pytest.mark.parametrize("deck_file", EXAMPLE_DECKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("single", [False, True], ids=["sco-per-card", "single-sco"])
def test_the_examples_make_valid_packages_that_name_every_file(tmp_path, schemas_dir, output_format, deck_file, single):
    archive = convert(tmp_path, deck_file, output_format, *(["--single-sco"] if single else []))
    path = tmp_path / f"{deck_file.stem}-{output_format}.zip"
    report = check_package(path, Schemas(schemas_dir))
    assert report.ok, report.problems
    assert report.validated == {"imsmanifest.xml": output_format}
    root = manifest(archive)
    named = {f.get("href") for f in local(root, "file")}
    assert named == set(archive.namelist()) - {"imsmanifest.xml"}, "every file named, and nothing unnamed"
    deck = readers.read(deck_file)
    launched = [r.get("href") for r in local(root, "resource") if r.get("href")]
    assert launched == (["index.html"] if single else [f"cards/{c.id}.html" for c in deck.cards])
    titles = [item.findtext(f"{{{CP[output_format]}}}title") for item in local(root, "item")]
    assert titles == ([deck.title] if single else [c.title for c in deck.cards])


def test_the_same_deck_gives_the_same_bytes():
    deck = readers.read(EXAMPLE_DECKS[0])
    with pytest.warns(UserWarning):
        first, second = (package(deck, "scorm2004").fp.getvalue() for _ in range(2))
    assert first == second


@pytest.mark.parametrize(
    ("output_format", "options", "mark"),
    [
        ("scorm12", [], "80"),
        ("scorm12", ["--pass-score", "72.5"], "72.5"),
        ("scorm2004", [], "0.8"),
        ("scorm2004", ["--pass-score", "72.5"], "0.725"),
        ("scorm2004", ["--pass-score", "100"], "1"),
    ],
)
def test_the_pass_score_becomes_the_mastery_score_or_the_objectives_measure(tmp_path, output_format, options, mark):
    archive = convert(tmp_path, EXAMPLE_DECKS[1], output_format, *options)
    root = manifest(archive)
    if output_format == "scorm12":
        assert [e.text for e in local(root, "masteryscore")] == [mark]
    else:
        [objective] = local(root, "primaryObjective")
        assert objective.get("satisfiedByMeasure") == "true"
        assert [e.text for e in local(objective, "minNormalizedMeasure")] == [mark]
    assert quiz(archive, "cards/guest-bridge.html")["passScore"] == float((options or ["", "80"])[1])


@pytest.mark.parametrize("output_format", ["scorm12", "scorm2004"])
def test_a_card_with_nothing_to_score_has_no_pass_mark_and_completes_when_seen(output_format):
    deck = make_deck(
        raw_card("reading"),
        raw_card("essay", [raw_question("essay")]),
        raw_card("quiz", [raw_question("true_false")]),
    )
    with pytest.warns(UserWarning, match="1 essay question"):
        archive = package(deck, output_format)
    root = manifest(archive)
    marked = [
        item.findtext(f"{{{CP[output_format]}}}title")
        for item in local(root, "item")
        if local(item, "masteryscore") or local(item, "primaryObjective")
    ]
    assert marked == ["Card quiz"]
    assert quiz(archive, "cards/reading.html")["questions"] == []
    essay = lxml.html.fromstring(archive.read("cards/essay.html"))
    assert essay.get_element_by_id("reflect1").find(".//h3").text == "To think about"


def test_the_deck_describes_the_package():
    deck = readers.read(EXAMPLE_DECKS[1])
    for output_format in ("scorm12", "scorm2004"):
        root = manifest(package(deck, output_format))
        words = [e.text for e in root.iter() if isinstance(e.tag, str) and e.text and e.text.strip()]
        assert "ADL SCORM" in words and "Guest bridge" in words and "en" in words and "Machine learning" in words
        assert any(w.startswith("A guest episode that carries") for w in words)


def test_the_options_apply_to_scorm_only(tmp_path):
    out = tmp_path / "x.json"
    for flag in (["--single-sco"], ["--pass-score", "50"]):
        result = CliRunner().invoke(main, ["convert", str(EXAMPLE_DECKS[1]), "--to", "json", "-o", str(out), *flag])
        assert result.exit_code == 2 and "applies to: scorm12, scorm2004" in result.output
    result = CliRunner().invoke(
        main, ["convert", str(EXAMPLE_DECKS[1]), "--to", "scorm12", "-o", str(out), "--pass-score", "101"]
    )
    assert result.exit_code == 2 and "0<=x<=100" in result.output


def test_each_question_reports_in_its_versions_vocabulary():
    questions = [
        raw_question("single_choice", points=2),
        raw_question("multiple_answers"),
        raw_question("true_false", answer=False),
        raw_question("short_answer", answers=["Latent space", "latents"], case_sensitive=True),
        raw_question("numerical", answer=1e-7, tolerance=0),
        {"id": "range", "type": "numerical", "prompt": "{not a tag} Between", "range": [1, 2e20]},
        raw_question("matching", points=3),
        raw_question("ordering"),
    ]
    deck = make_deck(raw_card("all-types.x", questions))
    old = quiz(package(deck, "scorm12"), "cards/all-types.x.html")["questions"]
    new = quiz(package(deck, "scorm2004"), "cards/all-types.x.html")["questions"]
    assert all(
        re.fullmatch(r"q_all_types_x_q_[a-z_]+_[0-9a-f]{8}|q_all_types_x_range_[0-9a-f]{8}", q["report"]["id"])
        for q in old
    )
    assert [q["report"]["id"] for q in old] == [q["report"]["id"] for q in new]
    assert [q["report"]["type"] for q in old] == [
        "choice", "choice", "true-false", "fill-in", "numeric", "numeric", "matching", "sequencing",
    ]  # fmt: skip
    patterns_12 = [q["report"]["patterns"] for q in old]
    patterns_2004 = [q["report"]["patterns"] for q in new]
    assert patterns_12[:6] == [["a"], ["{a,b}"], ["f"], ["Latent space", "latents"], ["0.0000001"], []]
    assert patterns_2004[:6] == [
        ["a"],
        ["a[,]b"],
        ["false"],
        ["{case_matters=true}Latent space", "{case_matters=true}latents"],
        ["0.0000001[:]0.0000001"],
        [],  # 2e20 is beyond what a CMIDecimal holds: no pattern rather than a wrong one
    ]
    assert re.fullmatch(r"[a-d]\.[a-d],[a-d]\.[a-d]", patterns_12[6][0]) and patterns_12[6][0][0::4] == "ab"
    assert re.fullmatch(r"[a-d]\[\.\][a-d]\[,\][a-d]\[\.\][a-d]", patterns_2004[6][0])
    assert sorted(patterns_12[7][0].split(",")) == ["a", "b", "c"] and patterns_12[7][0] != "a,b,c"
    assert patterns_2004[7][0] == patterns_12[7][0].replace(",", "[,]")
    total = 2 + 1 + 1 + 1 + 1 + 1 + 3 + 1
    assert [q["report"]["weighting"] for q in old] == [
        templating.number(round(p / total * 100, 2)) for p in (2, 1, 1, 1, 1, 1, 3, 1)
    ]
    assert [q["report"]["weighting"] for q in new] == ["2", "1", "1", "1", "1", "1", "3", "1"]
    assert "description" not in old[0]["report"] and new[5]["report"]["description"] == " {not a tag} Between"
