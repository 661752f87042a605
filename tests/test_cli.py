"""The lms-export command as a user runs it: exit codes, messages, outputs."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, FIXTURES

from lms_export import __version__
from lms_export.cli import main
from lms_export.deckfile import json_schema

BAD = FIXTURES / "bad"


def run(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    # bad input never shows a traceback: the only exception is the exit
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def test_validate_exit_codes():
    assert run("validate", EXAMPLES / "every-type.yaml").exit_code == 0
    invalid = run("validate", BAD / "two-correct-choices.yaml", BAD / "unknown-type.yaml")
    assert invalid.exit_code == 1
    # both files' problems, one per line, each located
    lines = [line for line in invalid.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 2 and "two-correct-choices.yaml:11" in lines[0] and "unknown-type.yaml:8" in lines[1]
    assert run("validate").exit_code == 2
    assert run("validate", "--from", "nonsense", EXAMPLES / "every-type.yaml").exit_code == 2


@pytest.mark.parametrize("bad", sorted(p.name for p in BAD.iterdir()))
def test_convert_of_bad_input_fails_and_writes_nothing(tmp_path, bad):
    out = tmp_path / "out.json"
    result = run("convert", BAD / bad, "--to", "json", "-o", out)
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_writing_leaves_no_file_behind(tmp_path, monkeypatch):
    from lms_export.exporters import deck as deck_exporter

    def explode(deck):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(deck_exporter, "deck_to_dict", explode)
    (tmp_path / "out.json").write_text("the previous good output")
    result = CliRunner().invoke(
        main, ["convert", str(EXAMPLES / "every-type.yaml"), "--to", "json", "-o", str(tmp_path / "out.json")]
    )
    assert result.exit_code != 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert (tmp_path / "out.json").read_text() == "the previous good output"


def test_convert_to_json_and_yaml_gives_the_normalized_deck(tmp_path):
    assert run("convert", EXAMPLES / "every-type.yaml", "--to", "json", "-o", tmp_path / "d.json").exit_code == 0
    data = json.loads((tmp_path / "d.json").read_text())
    assert [c["id"] for c in data["cards"]] == ["gradient-descent", "latent-spaces"]
    assert data["cards"][0]["questions"][0]["choices"][0] == {
        "id": "a", "text": "Against the gradient of the loss", "correct": True, "feedback": "Yes: the gradient points uphill."
    }  # fmt: skip
    shutil.copytree(EXAMPLES / "media", tmp_path / "media")
    assert run("convert", tmp_path / "d.json", "--to", "yaml", "-o", tmp_path / "d.yaml").exit_code == 0
    assert run("convert", tmp_path / "d.yaml", "--to", "json", "-o", tmp_path / "again.json").exit_code == 0
    assert (tmp_path / "again.json").read_text() == (tmp_path / "d.json").read_text()


def test_convert_merges_several_files_into_one_deck(tmp_path):
    result = run("convert", EXAMPLES / "every-type.yaml", EXAMPLES / "guest-bridge.yaml", "--to", "json", "-o", "-")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["id"] == "every-type" and [c["id"] for c in data["cards"]][-1] == "guest-bridge"


def test_usage_errors_exit_2(tmp_path):
    assert run("convert", EXAMPLES / "every-type.yaml", "--to", "pdf", "-o", tmp_path / "x").exit_code == 2
    assert run("convert", EXAMPLES / "every-type.yaml", "-o", tmp_path / "x").exit_code == 2
    assert run("frobnicate").exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_is_a_clear_error(tmp_path):
    result = run("convert", EXAMPLES / "every-type.yaml", "--to", "json", "-o", tmp_path / "missing" / "d.json")
    assert result.exit_code == 1 and "cannot write here" in result.stderr and "missing/d.json" in result.stderr


def test_schema_formats_version_and_quiet():
    assert json.loads(run("schema").stdout) == json_schema()
    listing = run("formats").stdout
    assert "json" in listing and "yaml" in listing and "text2qti" in listing and "cardpage" in listing
    assert run("--version").stdout.strip() == f"lms-export, version {__version__}"
    loud = run("validate", EXAMPLES / "every-type.yaml")
    assert "valid: 1 file(s), 2 card(s), 9 question(s)" in loud.stderr
    assert run("-q", "validate", EXAMPLES / "every-type.yaml").stderr == ""
