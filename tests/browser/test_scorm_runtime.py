"""SCORM packages run in headless Chromium against scorm-again, answered as a learner answers.

Each test clicks, types and selects in the SCO, then asserts on what the LMS
recorded: score, status, one interaction per question in each version's
vocabulary, session time, suspend data and location. The expected values are
written out here, not computed by lms-export, so a wrong score, status or
interaction fails. scorm-again accepts some values SCORM 1.2 forbids, so the
1.2 tests also check the 1.2 limits themselves (:func:`assert_scorm12_limits`).
"""

from __future__ import annotations

import io
import re
import zipfile

import lxml.html
import pytest
from conftest import EXAMPLES, make_deck, raw_card, raw_question
from lxml import etree

from lms_export import readers
from lms_export.exporters import formats

EVERY_TYPE = EXAMPLES / "every-type.yaml"
WRONG = {"1.2": "wrong", "2004": "incorrect"}
RESPONSE = {"1.2": "student_response", "2004": "learner_response"}
SEP = {"1.2": ",", "2004": "[,]"}
PAIR = {"1.2": ".", "2004": "[.]"}

# -- what SCORM 1.2 allows, checked here because scorm-again is more lenient ----------------

CMI_IDENTIFIER = re.compile(r"[A-Za-z0-9_]{1,255}")  # alphanumeric, as the 1.2 RTE says (and older Moodle checks)
CMI_DECIMAL = re.compile(r"-?\d{0,3}(\.\d{1,2})?")  # what Moodle's 1.2 player accepts
CMI_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,2})?")
CMI_TIMESPAN = re.compile(r"\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?")
CHOICE_12 = re.compile(r"[0-9a-z]|\{[0-9a-z](,[0-9a-z])*\}")
FEEDBACK_12 = {
    "true-false": re.compile(r"[01tf]"),
    "choice": CHOICE_12,
    "matching": re.compile(r"[0-9a-z]\.[0-9a-z](,[0-9a-z]\.[0-9a-z])*"),
    "sequencing": re.compile(r"[0-9a-z](,[0-9a-z])*"),
    "numeric": re.compile(r"-?\d+(\.\d+)?"),
    "fill-in": re.compile(r".{0,255}", re.S),
}
TIMESTAMP_2004 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,2})?(Z|[+-]\d\d(:\d\d)?)?")
TIMEINTERVAL_2004 = re.compile(r"P(\d+Y)?(\d+M)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d{1,2})?S)?)?")


def assert_scorm12_limits(launch) -> None:
    cmi = launch.cmi()
    assert len(cmi["suspend_data"]) <= 4096
    assert len(cmi["core"]["lesson_location"]) <= 255
    assert cmi["core"]["lesson_status"] in ("passed", "completed", "failed", "incomplete", "browsed", "not attempted")
    assert cmi["core"]["exit"] in ("time-out", "suspend", "logout", "")
    assert CMI_TIMESPAN.fullmatch(cmi["core"]["session_time"])
    for name in ("raw", "min", "max"):
        value = cmi["core"]["score"][name]
        assert value == "" or (CMI_DECIMAL.fullmatch(value) and 0 <= float(value) <= 100), (name, value)
    for interaction in cmi["interactions"].values():
        kind = interaction["type"]
        assert CMI_IDENTIFIER.fullmatch(interaction["id"]), interaction["id"]
        assert CMI_TIME.fullmatch(interaction["time"])
        assert CMI_DECIMAL.fullmatch(interaction["weighting"]) and -100 <= float(interaction["weighting"]) <= 100
        assert interaction["result"] in ("correct", "wrong", "unanticipated", "neutral")
        assert FEEDBACK_12[kind].fullmatch(interaction["student_response"]), interaction
        for pattern in interaction["correct_responses"].values():
            assert FEEDBACK_12[kind].fullmatch(pattern["pattern"]), interaction


def assert_every_call_accepted(launch) -> None:
    """Every value the SCO set was accepted, and scorm-again logged no error."""
    for call in launch.calls():
        if call["name"] in ("LMSSetValue", "SetValue", "LMSCommit", "Commit", "LMSFinish", "Terminate"):
            assert (call["result"], call["error"]) == ("true", "0"), call
    assert launch.errors() == []


def interactions(launch) -> list[dict]:
    found = launch.cmi()["interactions"]
    return [found[str(i)] for i in range(len(found))]


def summary(interaction: dict, version: str) -> tuple:
    patterns = [p["pattern"] for p in interaction["correct_responses"].values()]
    return (
        interaction["type"],
        patterns,
        interaction[RESPONSE[version]],
        interaction["result"],
        interaction["weighting"],
    )


def sent(launch, interaction: dict, index: int) -> tuple:
    """An interaction as the SCO set it: scorm-again rewrites some values (1.2's "incorrect" to "wrong")."""
    prefix = f"cmi.interactions.{index}."
    patterns = [
        c["args"][1]
        for c in launch.calls()
        if re.fullmatch(re.escape(prefix) + r"correct_responses\.\d+\.pattern", c["args"][0] if c["args"] else "")
    ]
    return tuple(
        [values_set(launch, prefix + "type")[-1], patterns]
        + [values_set(launch, prefix + name)[-1] for name in (RESPONSE[launch.version], "result", "weighting")]
    )


def last_set(launch, element: str) -> str | None:
    values = values_set(launch, element)
    return values[-1] if values else None


def set_order(launch) -> list[str]:
    """The elements the SCO set, in order."""
    return [c["args"][0] for c in launch.calls() if c["name"] in ("LMSSetValue", "SetValue")]


def values_set(launch, element: str) -> list[str]:
    return [
        c["args"][1] for c in launch.calls() if c["name"] in ("LMSSetValue", "SetValue") and c["args"][0] == element
    ]


# -- packages --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def packages(site):
    """every-type.yaml as SCORM 1.2 and 2004, unpacked on the test site, and each manifest's pass marks."""
    deck = readers.read(EVERY_TYPE)
    found = {}
    for version, name in (("1.2", "scorm12"), ("2004", "scorm2004")):
        out = io.BytesIO()
        with pytest.warns(UserWarning, match="essay"):
            formats()[name](deck, out)
        folder = site.unpack(out.getvalue())
        manifest = etree.fromstring(zipfile.ZipFile(io.BytesIO(out.getvalue())).read("imsmanifest.xml"))
        marks = [
            e.text for e in manifest.iter() if etree.QName(e).localname in ("masteryscore", "minNormalizedMeasure")
        ]
        found[version] = (folder, marks)
    return found


def lms_data(packages, version: str, **more) -> dict:
    """What the LMS starts a SCO with: the pass mark it read from the manifest."""
    _, marks = packages[version]
    assert marks and len(set(marks)) == 1
    data = {"student_data": {"mastery_score": marks[0]}} if version == "1.2" else {"scaled_passing_score": marks[0]}
    return {**data, **more}


def answer_gradient_descent(sco, direction: str = "Against the gradient of the loss") -> None:
    sco.choose("q1", direction)
    sco.check("q1")
    sco.choose("q2", "The updates overshoot the minimum", "The loss diverges")
    sco.check("q2")
    sco.choose("q3", "True")
    sco.check("q3")
    sco.type("q4", "Learning Rate ")
    sco.check("q4")
    sco.type("q5", "0,8")
    sco.check("q5")
    sco.type("q6", "1e-2")
    sco.check("q6")


def expected_gradient_descent(version: str, first: str) -> list[tuple]:
    right = "correct"
    first_result = right if first == "a" else WRONG[version]
    if version == "1.2":
        return [
            ("choice", ["a"], first, first_result, "28.57"),
            ("choice", ["{a,b}"], "{a,b}", right, "14.29"),
            ("true-false", ["t"], "t", right, "14.29"),
            ("fill-in", ["learning rate", "step size"], "Learning Rate", right, "14.29"),
            ("numeric", ["0.8"], "0.8", right, "14.29"),
            ("numeric", ["0.25005"], "0.01", right, "14.29"),
        ]
    return [
        ("choice", ["a"], first, first_result, "2"),
        ("choice", ["a[,]b"], "a[,]b", right, "1"),
        ("true-false", ["true"], "true", right, "1"),
        (
            "fill-in",
            ["{case_matters=false}learning rate", "{case_matters=false}step size"],
            "Learning Rate",
            right,
            "1",
        ),
        ("numeric", ["0.799[:]0.801"], "0.8", right, "1"),
        ("numeric", ["0.0001[:]0.5"], "0.01", right, "1"),
    ]


# -- pass and fail ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "2004"])
@pytest.mark.parametrize(
    ("direction", "first", "passed"),
    [("Against the gradient of the loss", "a", True), ("At random", "c", False)],
    ids=["pass", "fail"],
)
def test_a_learner_answers_every_type_and_the_lms_records_it(
    launch, packages, context, version, direction, first, passed
):
    folder, _ = packages[version]
    sco = launch(version, f"{folder}/cards/gradient-descent.html", lms_data(packages, version))
    answer_gradient_descent(sco, direction)
    assert sco.feedback("q1").startswith("Correct." if passed else "Not quite.")
    assert sco.score_line() == (
        "Your score: 7 / 7 pts, 100 %. Pass mark 80 %: passed."
        if passed
        else "Your score: 5 / 7 pts, 71.43 %. Pass mark 80 %: not passed yet."
    )
    sco.leave()

    found = interactions(sco)
    assert [summary(i, version) for i in found] == expected_gradient_descent(version, first)
    assert [sent(sco, i, n) for n, i in enumerate(found)] == expected_gradient_descent(version, first)
    ids = [i["id"] for i in found]
    assert len(set(ids)) == 6 and all(re.fullmatch(r"q_gradient_descent_[a-z_-]+_[0-9a-f]{8}", i) for i in ids)
    cmi = sco.cmi()
    order = set_order(sco)
    if version == "1.2":
        assert cmi["core"]["score"] == (
            {"raw": "100", "min": "0", "max": "100"} if passed else {"raw": "71.43", "min": "0", "max": "100"}
        )
        assert (
            cmi["core"]["lesson_status"]
            == last_set(sco, "cmi.core.lesson_status")
            == ("passed" if passed else "failed")
        )
        assert order.index("cmi.core.score.raw") < len(order) - 1 - order[::-1].index("cmi.core.lesson_status")
        assert all(CMI_TIME.fullmatch(i["time"]) for i in found)
        assert cmi["core"]["exit"] == "" and CMI_TIMESPAN.fullmatch(cmi["core"]["session_time"])
        assert_scorm12_limits(sco)
    else:
        assert cmi["score"] == (
            {"scaled": "1", "raw": "7", "min": "0", "max": "7"}
            if passed
            else {"scaled": "0.7142857", "raw": "5", "min": "0", "max": "7"}
        )
        assert (cmi["completion_status"], cmi["success_status"]) == ("completed", "passed" if passed else "failed")
        assert values_set(sco, "cmi.success_status") == ["passed" if passed else "failed"]
        assert values_set(sco, "cmi.score.scaled") == [cmi["score"]["scaled"]]
        assert order.index("cmi.score.scaled") < order.index("cmi.success_status")
        assert order.index("cmi.score.scaled") < order.index("cmi.completion_status", order.index("cmi.score.scaled"))
        assert all(TIMESTAMP_2004.fullmatch(i["timestamp"]) for i in found)
        assert [i["description"] for i in found][:2] == [
            "Gradient descent moves the parameters:",
            "What can happen when the learning rate is too large?",
        ]
        assert cmi["exit"] == "normal" and TIMEINTERVAL_2004.fullmatch(cmi["session_time"])
    assert_every_call_accepted(sco)
    assert context.watch.errors == [] and context.watch.outside == []


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_each_answer_is_committed_at_once_and_the_session_finishes_on_unload(launch, packages, version):
    folder, _ = packages[version]
    sco = launch(version, f"{folder}/cards/gradient-descent.html", lms_data(packages, version))
    answer_gradient_descent(sco)
    commits = [i for i, c in enumerate(sco.calls()) if c["name"].endswith("Commit")]
    results = [i for i, c in enumerate(sco.calls()) if c["args"] and c["args"][0].endswith(".result")]
    assert len(results) == 6
    for result, following in zip(results, [*results[1:], len(sco.calls())], strict=True):
        assert any(result < commit < following for commit in commits), "every answer is committed before the next"
    assert not any(c["name"] in ("LMSFinish", "Terminate") for c in sco.calls())
    sco.leave()
    assert sco.calls()[-1]["name"] == ("LMSFinish" if version == "1.2" else "Terminate")


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_matching_and_ordering_are_scored_pair_by_pair_and_all_or_nothing(launch, packages, version):
    folder, _ = packages[version]
    sco = launch(version, f"{folder}/cards/latent-spaces.html", lms_data(packages, version))
    right = {
        "VAE": "encoder + decoder",
        "GAN": "generator + discriminator",
        "Diffusion model": "denoiser + noise schedule",
    }
    targets = sco.targets("q1")
    assert sorted(targets) == sorted([*right.values(), "a single linear layer"])
    sco.match("q1", {**right, "Diffusion model": "a single linear layer"})
    sco.check("q1")
    assert sco.feedback("q1").startswith("Partly correct. 2 / 3 pts.")
    steps = ["Sample noise in the latent space", "Denoise step by step", "Decode the latent to pixels"]
    shown = sco.items("q2")
    assert shown != steps, "the page never shows the items in the right order"
    sco.order("q2", steps)
    assert sco.items("q2") == steps
    sco.check("q2")
    assert sco.score_line() == "Your score: 3 / 4 pts, 75 %. Pass mark 80 %: not passed yet."
    sco.leave()

    letter = {label: "abcdefghijklmnopqrstuvwxyz"[i] for i, label in enumerate(targets)}
    place = {label: "abcdefghijklmnopqrstuvwxyz"[i] for i, label in enumerate(shown)}
    sep, pair = SEP[version], PAIR[version]
    matching, ordering = interactions(sco)
    assert sent(sco, matching, 0) == summary(matching, version) and sent(sco, ordering, 1) == summary(ordering, version)
    assert summary(matching, version) == (
        "matching",
        [sep.join(f"{left}{pair}{letter[r]}" for left, r in zip("abc", right.values(), strict=True))],
        sep.join(
            f"{left}{pair}{letter[r]}"
            for left, r in zip("abc", [*list(right.values())[:2], "a single linear layer"], strict=True)
        ),
        WRONG[version],
        "75" if version == "1.2" else "3",
    )
    assert summary(ordering, version) == (
        "sequencing",
        [sep.join(place[s] for s in steps)],
        sep.join(place[s] for s in steps),
        "correct",
        "25" if version == "1.2" else "1",
    )
    cmi = sco.cmi()
    if version == "1.2":
        assert (cmi["core"]["score"]["raw"], last_set(sco, "cmi.core.lesson_status")) == ("75", "failed")
        assert_scorm12_limits(sco)
    else:
        assert (cmi["score"]["scaled"], cmi["score"]["raw"], cmi["score"]["max"]) == ("0.75", "3", "4")
        assert (cmi["completion_status"], last_set(sco, "cmi.success_status")) == ("completed", "failed")
    assert_every_call_accepted(sco)


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_without_a_pass_mark_the_status_says_completed_and_nothing_about_success(launch, packages, version):
    folder, _ = packages[version]
    sco = launch(version, f"{folder}/cards/gradient-descent.html")
    answer_gradient_descent(sco, "At random")
    assert sco.score_line() == "Your score: 5 / 7 pts, 71.43 %."
    sco.leave()
    cmi = sco.cmi()
    if version == "1.2":
        assert (last_set(sco, "cmi.core.lesson_status"), cmi["core"]["score"]["raw"]) == ("completed", "71.43")
    else:
        assert (cmi["completion_status"], cmi["success_status"], cmi["score"]["scaled"]) == (
            "completed",
            "unknown",
            "0.7142857",
        )
        assert values_set(sco, "cmi.success_status") == []


# -- suspend and resume ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_a_learner_who_leaves_mid_quiz_comes_back_to_the_same_answers(launch, packages, version):
    folder, _ = packages[version]
    sco_path = f"{folder}/cards/gradient-descent.html"
    first = launch(version, sco_path, lms_data(packages, version))
    first.choose("q1", "Against the gradient of the loss")
    first.check("q1")
    first.choose("q3", "False")
    first.check("q3")
    first.type("q4", "not checked yet")
    first.leave()
    cmi = first.cmi()
    if version == "1.2":
        saved = {
            "suspend_data": cmi["suspend_data"],
            "core": {
                "lesson_location": cmi["core"]["lesson_location"],
                "lesson_status": cmi["core"]["lesson_status"],
                "entry": "resume",
            },
            "interactions": cmi["interactions"],
        }
        assert (cmi["core"]["exit"], cmi["core"]["lesson_status"]) == ("suspend", "incomplete")
        assert cmi["core"]["score"]["raw"] == ""
    else:
        saved = {
            "suspend_data": cmi["suspend_data"],
            "location": cmi["location"],
            "completion_status": cmi["completion_status"],
            "entry": "resume",
            "interactions": cmi["interactions"],
        }
        assert (cmi["exit"], cmi["completion_status"], cmi["success_status"]) == ("suspend", "incomplete", "unknown")
    assert len(cmi["suspend_data"]) <= 4096
    location = cmi["core"]["lesson_location"] if version == "1.2" else cmi["location"]
    assert location == "q4", "the learner goes on with the first question after the last answer"

    second = launch(version, sco_path, lms_data(packages, version, **saved))
    q1 = second.section("q1").get_by_label("Against the gradient of the loss", exact=True)
    assert q1.is_checked() and q1.is_disabled()
    assert second.section("q3").get_by_label("False", exact=True).is_checked()
    assert second.feedback("q1").startswith("Correct.") and second.feedback("q3").startswith("Not quite.")
    assert second.section("q2").get_by_label("The loss diverges", exact=True).is_enabled()
    assert second.section("q4").get_by_label("Your answer", exact=True).input_value() == ""
    assert second.score_line() == "Answered 2 of 6. Points so far: 2 of 7."
    assert second.frame.locator(":focus").get_attribute("id") == "q4-title"
    second.choose("q2", "The updates overshoot the minimum", "The loss diverges")
    second.check("q2")
    for question, answer in (("q4", "step size"), ("q5", "0.8"), ("q6", "0.3")):
        second.type(question, answer)
        second.check(question)
    assert second.score_line() == "Your score: 6 / 7 pts, 85.71 %. Pass mark 80 %: passed."
    second.leave()

    found = interactions(second)
    assert len(found) == 6, "restored answers are not reported twice"
    assert [i["result"] for i in found] == ["correct", WRONG[version], "correct", "correct", "correct", "correct"]
    assert [sent(second, i, n)[3] for n, i in enumerate(found) if n >= 2] == ["correct"] * 4
    cmi = second.cmi()
    if version == "1.2":
        assert (cmi["core"]["score"]["raw"], last_set(second, "cmi.core.lesson_status")) == ("85.71", "passed")
        assert_scorm12_limits(second)
    else:
        assert (cmi["score"]["scaled"], last_set(second, "cmi.success_status"), cmi["completion_status"]) == (
            "0.8571429",
            "passed",
            "completed",
        )
    assert_every_call_accepted(second)


def test_suspend_data_stays_within_the_4096_characters_of_scorm_12(launch, site):
    long_answers = [raw_question("short_answer", id=f"q{i}", answers=["x"]) for i in range(10)]
    folder = site.package(make_deck(raw_card("long", long_answers)), "scorm12")
    sco = launch("1.2", f"{folder}/cards/long.html", {"student_data": {"mastery_score": "80"}})
    typed = "a,|%" * 62 + "zz"  # 250 characters, the most the field takes, all of them escaped but the last two
    for i in range(1, 11):
        sco.type(f"q{i}", typed)
        sco.check(f"q{i}")
    sco.leave()
    cmi = sco.cmi()
    assert all(len(value) <= 4096 for value in values_set(sco, "cmi.suspend_data"))
    assert_scorm12_limits(sco)
    assert (cmi["core"]["score"]["raw"], last_set(sco, "cmi.core.lesson_status")) == ("0", "failed")

    resumed = launch(
        "1.2",
        f"{folder}/cards/long.html",
        {"suspend_data": cmi["suspend_data"], "core": {"entry": "resume"}, "student_data": {"mastery_score": "80"}},
    )
    restored = [resumed.section(f"q{i}").get_by_label("Your answer", exact=True).input_value() for i in range(1, 11)]
    kept = [value for value in restored if value]
    assert kept and all(value == typed for value in kept) and restored == kept + [""] * (10 - len(kept))
    assert len(kept) < 10, "this much text cannot all be kept: the answers that fit are"


def test_saved_answers_from_a_changed_quiz_are_not_restored(launch, site):
    folder = site.package(make_deck(raw_card("c", [raw_question("true_false")])), "scorm2004")
    sco = launch("2004", f"{folder}/cards/c.html", {"suspend_data": "00000000|t", "entry": "resume"})
    assert not sco.section("q1").get_by_label("True", exact=True).is_checked()
    assert sco.section("q1").get_by_role("button", name="Check answer").is_enabled()


# -- a page with no LMS, offline, and hostile content ------------------------------------------


def test_opened_with_no_lms_the_quiz_works_and_nothing_errs(context, packages, site):
    folder, _ = packages["1.2"]
    for url in (
        f"{site.url}/{folder}/cards/gradient-descent.html",
        (site.root / folder / "cards" / "gradient-descent.html").as_uri(),
    ):
        page = context.new_page()
        page.goto(url)
        page.get_by_label("Against the gradient of the loss", exact=True).check()
        page.locator("#q1").get_by_role("button", name="Check answer").click()
        assert page.locator("#q1 .feedback").inner_text().startswith("Correct. 2 / 2 pts.")
        assert page.locator("#lms-export-score").inner_text() == "Answered 1 of 6. Points so far: 2 of 7."
        page.close()
    assert context.watch.errors == [] and context.watch.outside == []


def test_offline_the_video_is_a_plain_link_and_no_request_leaves_the_machine(browser, packages, site):
    folder, _ = packages["2004"]
    ctx = browser.new_context(offline=True)
    requests = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    page.goto((site.root / folder / "cards" / "gradient-descent.html").as_uri())
    link = page.get_by_role("link", name="Gradient descent, how neural networks learn")
    assert link.get_attribute("href") == "https://www.youtube.com/watch?v=IHZwWFHWa-w"
    assert page.get_by_role("button", name="Play the video here").is_hidden()
    assert page.locator("iframe").count() == 0
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    ctx.close()


def test_online_the_video_plays_only_when_the_learner_asks(context, packages, site):
    folder, _ = packages["2004"]
    page = context.new_page()
    page.goto(f"{site.url}/{folder}/cards/gradient-descent.html")
    assert page.locator("iframe").count() == 0 and context.watch.outside == []
    page.get_by_role("button", name="Play the video here").click()
    frame = page.locator(".player iframe")
    assert frame.get_attribute("src") == "https://www.youtube-nocookie.com/embed/IHZwWFHWa-w"
    assert frame.get_attribute("title") == "Gradient descent, how neural networks learn"


NASTY = (
    '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> <b onmouseover="window.__xss = 3">bold</b>'
)


def test_script_in_a_card_never_runs(launch, site):
    question = raw_question(
        "single_choice",
        prompt=NASTY,
        hint=NASTY,
        choices=[
            {"id": "a", "text": NASTY, "correct": True, "feedback": NASTY},
            {"id": "b", "text": "</script><script>window.__xss = 4</script>"},
        ],
        feedback={"general": NASTY + '</script><svg onload="window.__xss = 5">'},
    )
    deck = make_deck(
        raw_card(
            "x", [question], title="</title><script>window.__xss = 6</script>", body=NASTY, subtitle=NASTY, topic=NASTY
        ),
        title=NASTY,
    )
    folder = site.package(deck, "scorm12")
    sco = launch("1.2", f"{folder}/cards/x.html")
    sco.section("q1").locator("details summary").click()
    sco.section("q1").locator("label").first.hover()
    sco.section("q1").locator("input").first.check()
    sco.check("q1")
    sco.frame.locator("b").first.hover()
    frame = sco.page.frame_locator("#sco").locator("html")
    assert frame.evaluate("() => window.__xss") is None
    assert sco.page.evaluate("window.__xss") is None
    assert sco.section("q1").locator(".feedback").inner_text().startswith("Correct.")
    document = lxml.html.fromstring((site.root / folder / "cards" / "x.html").read_bytes())
    assert [s.get("src") or s.get("type") for s in document.iter("script")] == [
        "../assets/lms-export-runtime.js",
        "application/json",
        "application/json",
    ]
    assert not [name for e in document.iter() if isinstance(e.tag, str) for name in e.attrib if name.startswith("on")]


# -- the keyboard, and scoring that agrees with Python ----------------------------------------


def test_every_control_works_from_the_keyboard(context, packages, site):
    folder, _ = packages["2004"]
    page = context.new_page()
    page.goto(f"{site.url}/{folder}/cards/latent-spaces.html")
    page.locator("#q1 select").first.focus()
    for _ in range(3):  # each select: the learner picks with the arrow keys, then tabs on
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the focus is on "Check answer" now
    assert page.locator("#q1 .feedback").is_visible()
    assert page.locator("#q1 .feedback").evaluate("e => e === document.activeElement")
    first = page.locator("#q2 .order li").first
    moved = first.locator(".item").inner_text()
    first.get_by_role("button", name="Move down").focus()
    page.keyboard.press("Enter")
    assert page.locator("#q2 .order .item").nth(1).inner_text() == moved
    assert page.locator("#q2 .moved").inner_text() == f"{moved}: now 2 of 3."
    assert page.evaluate("document.activeElement.textContent") == "Move down"
    tab_to_check(page)
    page.keyboard.press("Enter")
    assert page.locator("#q2 .feedback").is_visible()

    page.goto(f"{site.url}/{folder}/cards/gradient-descent.html")
    page.locator("#q3 input").first.focus()
    page.keyboard.press("ArrowDown")  # radio buttons: the arrow keys choose
    assert page.locator("#q3").get_by_label("False", exact=True).is_checked()
    tab_to_check(page)
    page.keyboard.press("Enter")
    assert page.locator("#q3 .feedback").inner_text().startswith("Not quite.")
    page.locator("#q1 summary").focus()
    page.keyboard.press("Enter")  # "Show hint"
    assert page.locator("#q1 details").evaluate("e => e.open")


def tab_to_check(page) -> None:
    """Press Tab until the focus reaches a "Check answer" button, as a keyboard user does."""
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('check')"):
            return
    raise AssertionError("no Check answer button within reach of the Tab key")
