"""The browser scores exactly as lms_export.scoring does, on the same responses.

The page's script grades each response with ``window.lmsExport.grade``; the
same response, in the model's terms, goes through :func:`scoring.score`. The
responses include the awkward ones: Unicode white space and case folding,
Python's ways of writing numbers, partial matches, every order of the items.
"""

from __future__ import annotations

import itertools

import pytest
from conftest import make_deck, raw_card, raw_question

from lms_export import scoring
from lms_export.page import render_page

SHORT_ANSWERS = [
    (
        ["latent space"],
        False,
        [
            "latent space",
            "Latent Space",
            "LATENT SPACE",
            "  latent space\u00a0",
            "\x1clatent space\x1f",
            "\ufefflatent space",
            "latent\u00a0space",
            "latent spac",
            "",
            "   ",
        ],
    ),
    (["Straße"], False, ["STRASSE", "strasse", "STRAẞE", "Strase"]),
    (["ΟΔΟΣ"], False, ["οδος", "οδοσ", "Οδός", "ΟΔΟΣ"]),
    (["İstanbul"], False, ["i̇stanbul", "istanbul", "İSTANBUL"]),
    (["ırmak"], False, ["IRMAK", "ırmak", "Irmak"]),
    (["ﬁle", "Ǆ"], False, ["FILE", "file", "ǆ", "ǅ"]),
    (["Case", " spaced "], True, ["case", "Case", " Case\u2003", "spaced", "Spaced"]),
]
NUMBERS = [
    "3.14",
    "3,14",
    " 3.14 ",
    "3.15",
    "3.1500001",
    "3.13",
    "314e-2",
    "+3.14",
    "3_14e-2",
    "3.1_4",
    "3__14e-2",
    "٣.١٤",
    "３.１４",
    "٣٫١٤",
    "３．１４",
    "𝟑.𝟏𝟒",
    "nan",
    "inf",
    "-Infinity",
    "1e400",
    "",
    "abc",
    "3.14.1",
    "1,000.5",
    "_3.14",
    "3.14_",
    "0x1",
    ".314e1",
    "314.e-2",
    "3.14\u2003",
    "\u20033.14",
    "3. 14",
]
RANGE = ["1e-4", ".5", "5.", "0.50000000001", "0.0001", "9.9e-5", "-0", "0.25", "1E-4"]


@pytest.fixture(scope="module")
def deck():
    choices = [{"id": "x", "text": "One", "correct": True}, {"id": "y", "text": "Two"}, {"id": "z", "text": "Three"}]
    questions = [
        raw_question("single_choice", id="single", points=1.5, choices=choices),
        raw_question("multiple_answers", id="multiple", points=2),
        raw_question("true_false", id="tf", answer=False),
        *(
            raw_question("short_answer", id=f"short{i}", answers=answers, case_sensitive=case)
            for i, (answers, case, _) in enumerate(SHORT_ANSWERS)
        ),
        raw_question("numerical", id="number", answer=3.14, tolerance=0.01),
        {"id": "range", "type": "numerical", "prompt": "Any rate that converges", "range": [0.0001, 0.5]},
        raw_question("matching", id="matching", points=2, distractors=["nothing"]),
        raw_question("matching", id="three", points=1, pairs=[{"left": f"L{i}", "right": f"R{i}"} for i in range(3)]),
        raw_question("ordering", id="ordering"),
        raw_question("ordering", id="four", points=3, items=["w", "x", "y", "z"]),
    ]
    return make_deck(raw_card("agree", questions))


@pytest.fixture(scope="module")
def page(browser, site, deck):
    (site.root / "agree").mkdir()
    html = "".join(render_page(deck, deck.cards, root="../", related_href=lambda r: None)())
    (site.root / "agree" / "page.html").write_text(html)
    (site.root / "assets").mkdir(exist_ok=True)
    from lms_export.page import asset_files

    for name, path in asset_files().items():
        (site.root / name).write_bytes(path.read_bytes())
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{site.url}/agree/page.html")
    yield tab
    context.close()


def cases(deck, tab) -> list[tuple[int, object, object]]:
    """(question index, response as the page names it, response as the model names it)."""
    questions = deck.cards[0].questions
    found = []
    for i, q in enumerate(questions):
        section = tab.locator(f"#q{i + 1}")
        if q.type in ("single_choice", "multiple_answers"):
            ids = [c.id for c in q.choices]
            if q.type == "single_choice":
                found += [(i, k, choice) for k, choice in enumerate(ids)]
            else:
                for size in range(len(ids) + 1):
                    found += [
                        (i, list(combo), [ids[k] for k in combo])
                        for combo in itertools.combinations(range(len(ids)), size)
                    ]
        elif q.type == "true_false":
            found += [(i, True, True), (i, False, False)]
        elif q.type == "short_answer":
            [given] = [g for answers, _, g in SHORT_ANSWERS if answers == list(q.answers)]
            found += [(i, text, text) for text in given]
        elif q.type == "numerical":
            found += [(i, text, text) for text in (NUMBERS if q.range is None else RANGE)]
        elif q.type == "matching":
            targets = section.locator("select").first.locator("option").all_inner_texts()[1:]
            lefts = [p.left for p in q.pairs]
            for combo in itertools.product(range(len(targets)), repeat=len(lefts)):
                found.append((i, list(combo), {left: targets[t] for left, t in zip(lefts, combo, strict=True)}))
        elif q.type == "ordering":
            shown = [t.strip() for t in section.locator(".order .item").all_inner_texts()]
            for perm in itertools.permutations(range(len(shown))):
                found.append((i, list(perm), [shown[p] for p in perm]))
    return found


def test_the_browser_and_python_give_every_response_the_same_points(deck, page):
    questions = deck.cards[0].questions
    found = cases(deck, page)
    assert len(found) > 150
    in_browser = page.evaluate(
        "cases => cases.map(([i, r]) => window.lmsExport.grade(i, r))", [[i, r] for i, r, _ in found]
    )
    in_python = [scoring.score(questions[i], response) for i, _, response in found]
    disagree = [
        (questions[i].id, model, js, py)
        for (i, _, model), js, py in zip(found, in_browser, in_python, strict=True)
        if js != py
    ]
    assert disagree == []
    assert any(0 < p < questions[i].points for (i, _, _), p in zip(found, in_python, strict=True)), (
        "partial credit is tested"
    )
