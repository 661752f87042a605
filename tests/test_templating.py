"""Template loading and the filters every output shares."""

from __future__ import annotations

import pytest

from lms_export import templating
from lms_export.errors import LmsExportError


def test_numbers_are_written_as_plain_decimals():
    values = (2.0, 0.5, 3.14, -1.0, 1e-7, 2e20, -0.0, 28.57)
    assert [templating.number(v) for v in values] == [
        "2", "0.5", "3.14", "-1", "0.0000001", "200000000000000000000", "0", "28.57"
    ]  # fmt: skip


def test_an_override_folder_replaces_templates_file_by_file(tmp_path):
    (tmp_path / "qti" / "qti12").mkdir(parents=True)
    (tmp_path / "qti" / "qti12" / "imsmanifest.xml.j2").write_text("mine {{ 2.0 | number }}")
    env = templating.environment("qti/qti12", tmp_path)
    assert env.get_template("imsmanifest.xml.j2").render() == "mine 2"
    builtin = templating.builtin_folder("qti/qti12")
    assert env.get_template("assessment.xml.j2").filename == str(builtin / "assessment.xml.j2")


def test_a_missing_override_folder_is_an_error(tmp_path):
    with pytest.raises(LmsExportError, match="does not exist"):
        templating.environment("qti/qti12", tmp_path / "nowhere")
