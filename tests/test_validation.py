"""Package validation against the official schemas, and safe XML parsing."""

from __future__ import annotations

import zipfile

import pytest

from lms_export.errors import LmsExportError
from lms_export.validation import Schemas, check_package, parse_xml

MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1">
  <organizations/>
  <resources>
    <resource identifier="r" type="webcontent" href="{href}"><file href="{href}"/></resource>
  </resources>
</manifest>
"""


def zip_with(tmp_path, files: dict[str, str]):
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_a_valid_manifest_passes_and_a_missing_file_is_named(tmp_path, schemas_dir):
    schemas = Schemas(schemas_dir)
    good = check_package(
        zip_with(tmp_path, {"imsmanifest.xml": MANIFEST.format(href="a.html"), "a.html": "x"}), schemas
    )
    assert good.ok and good.validated == {"imsmanifest.xml": "imscp11"}
    bad = check_package(zip_with(tmp_path, {"imsmanifest.xml": MANIFEST.format(href="gone.html")}), schemas)
    assert [p.message for p in bad.problems] == ["manifest names gone.html, which is not in the package"]


def test_schema_errors_are_reported_with_file_and_line(tmp_path, schemas_dir):
    broken = MANIFEST.format(href="a.html").replace("<organizations/>", "<organisations/>")
    report = check_package(zip_with(tmp_path, {"imsmanifest.xml": broken, "a.html": "x"}), Schemas(schemas_dir))
    assert not report.ok
    assert report.problems[0].file.endswith("p.zip!imsmanifest.xml") and report.problems[0].line == 3


def test_entities_are_never_expanded_and_nothing_is_fetched():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c SYSTEM "file:///etc/passwd">]>
<x>&b;&c;</x>"""
    root = parse_xml(bomb, "bomb.xml").getroot()
    assert "aaaaaaaaaa" not in "".join(root.itertext()) and "root:" not in "".join(root.itertext())


def test_not_a_zip_is_a_clear_error(tmp_path, schemas_dir):
    path = tmp_path / "x.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(LmsExportError, match="not a zip package"):
        check_package(path, Schemas(schemas_dir))


def test_malformed_xml_in_a_package_is_a_problem_not_a_crash(tmp_path, schemas_dir):
    report = check_package(zip_with(tmp_path, {"imsmanifest.xml": "<manifest"}), Schemas(schemas_dir))
    assert not report.ok and "not well-formed XML" in report.problems[0].message
