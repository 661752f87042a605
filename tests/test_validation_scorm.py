"""SCORM manifests: the right schema for each version, and the profile checks an XSD cannot make."""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest import EXAMPLES

from lms_export import readers
from lms_export.exporters import formats
from lms_export.validation import Schemas, check_package, parse_xml, schema_key


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    deck = readers.read(EXAMPLES / "every-type.yaml")
    packages = {}
    for name in ("scorm12", "scorm2004"):
        out = io.BytesIO()
        with pytest.warns(UserWarning, match="essay"):
            formats()[name](deck, out)
        packages[name] = out.getvalue()
    return packages


def rewrite(tmp_path, data: bytes, old: str, new: str, drop: str | None = None):
    """The package with one change to its manifest (and a file left out, if ``drop``)."""
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            if info.filename == drop:
                continue
            content = source.read(info)
            if info.filename == "imsmanifest.xml":
                text = content.decode()
                assert old in text, old
                content = text.replace(old, new, 1).encode()
            target.writestr(info, content)
    return path


def manifest(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("imsmanifest.xml").decode()


def test_each_version_is_validated_against_its_own_schema(tmp_path, built, schemas_dir):
    schemas = Schemas(schemas_dir)
    for name, data in built.items():
        path = tmp_path / f"{name}.zip"
        path.write_bytes(data)
        report = check_package(path, schemas)
        assert report.ok, report.problems
        assert report.validated == {"imsmanifest.xml": name}


def test_a_qti_manifest_in_the_same_namespace_is_not_taken_for_scorm_2004():
    qti = b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="m"><organizations/><resources/></manifest>'
    assert schema_key(parse_xml(qti, "m.xml")) == "imscp11"
    by_version = qti.replace(
        b"<organizations/>",
        b"<metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata><organizations/>",
    )
    assert schema_key(parse_xml(by_version, "m.xml")) == "scorm2004"


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("scorm12", 'identifier="assets_', 'identifier="sco_every-type_latent-spaces_aef1e774" x="', "is used twice"),
        ("scorm2004", 'identifier="assets_', 'identifier="sco_every-type_latent-spaces_aef1e774" x="', "is used twice"),
        (
            "scorm2004",
            'identifierref="sco_every-type_gradient',
            'identifierref="org_every-type_287b96ce" x="',
            "names no resource",
        ),
        ("scorm12", '<organizations default="org_', '<organizations default="elsewhere" x="', "names no organization"),
        (
            "scorm2004",
            '<organizations default="org_',
            '<organizations default="elsewhere" x="',
            "names no organization",
        ),
        ("scorm12", "<schemaversion>1.2<", "<schemaversion>1.3<", "schemaversion must be one of 1.2"),
        ("scorm2004", "<schemaversion>2004 4th Edition<", "<schemaversion>2004<", "schemaversion must be one of"),
        ("scorm2004", "<schema>ADL SCORM<", "<schema>IMS Content<", "schema must be ADL SCORM"),
        ("scorm2004", 'adlcp:scormType="asset"', 'adlcp:scormtype="asset"', "adlcp:scormtype is not it"),
        ("scorm2004", 'adlcp:scormType="sco" href="cards/latent-spaces.html"', 'adlcp:scormType="sco"', "has no href"),
        ("scorm12", 'adlcp:scormtype="sco" href="cards/latent-spaces.html"', 'adlcp:scormtype="sco"', "has no href"),
        ("scorm2004", 'href="cards/latent-spaces.html">', 'href="cards/gone.html?x=1">', "launches cards/gone.html"),
    ],
)
def test_the_profile_checks_catch_what_the_schema_lets_through(tmp_path, built, schemas_dir, name, old, new, message):
    report = check_package(rewrite(tmp_path, built[name], old, new), Schemas(schemas_dir))
    assert not report.ok
    assert any(message in p.message for p in report.problems), [p.message for p in report.problems]
    assert all(p.line for p in report.problems if "schema:" not in p.message)


def test_a_miscased_scormtype_passes_the_2004_schema_and_only_the_profile_check_finds_it(tmp_path, built, schemas_dir):
    report = check_package(
        rewrite(tmp_path, built["scorm2004"], 'adlcp:scormType="asset"', 'adlcp:scormtype="asset"'),
        Schemas(schemas_dir),
    )
    assert [p.message for p in report.problems] == [
        "resource assets_every-type_287b96ce has no adlcp:scormType (adlcp:scormtype is not it: the name is case-sensitive)"
    ]


def test_a_file_the_manifest_names_must_be_in_the_package(tmp_path, built, schemas_dir):
    path = rewrite(tmp_path, built["scorm12"], "<", "<", drop="assets/lms-export.css")
    report = check_package(path, Schemas(schemas_dir))
    assert [p.message for p in report.problems] == ["manifest names assets/lms-export.css, which is not in the package"]
    assert "assets/lms-export.css" in manifest(built["scorm12"])
