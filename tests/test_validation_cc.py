"""Common Cartridge validation: each file against its version's schema, and the Schematron rules of the CC XSDs."""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Callable

import pytest
from conftest import EXAMPLES
from lxml import etree

from lms_export import readers
from lms_export.errors import ExportWarning
from lms_export.exporters import formats
from lms_export.validation import Schemas, check_package

QTI = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
Edit = Callable[[etree._Element], None]


def _write(output_format: str, **options) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)
        formats()[output_format](readers.read(EXAMPLES / "every-type.yaml"), out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return {name: _write(name, lti_url="https://cards.example.edu") for name in ("cc11", "cc13")} | {
        "qti12": _write("qti12")
    }


def changed(tmp_path, data: bytes, name: str, edit: Edit):
    """The package with one XML file edited."""
    path = tmp_path / "changed.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == name:
                root = etree.fromstring(content)
                edit(root)
                content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            target.writestr(info.filename, content)
    return path


def saved(tmp_path, data: bytes):
    path = tmp_path / "course.imscc"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("version", ["cc11", "cc13"])
def test_each_file_is_validated_against_its_versions_schema(tmp_path, built, schemas_dir, version):
    report = check_package(saved(tmp_path, built[version]), Schemas(schemas_dir))
    assert report.ok, report.problems
    kinds = {name.split("/")[0]: key for name, key in report.validated.items()}
    assert kinds == {
        "imsmanifest.xml": version,
        "quizzes": f"{version}_qti",
        "links": f"{version}_weblink",
        "lti": "cc11_lti",  # CC 1.3 keeps the 1.1 Basic LTI link, namespace and all
    }


def test_a_quiz_in_the_qti_namespace_is_a_cc_assessment_only_where_a_cc_manifest_says_so(tmp_path, built, schemas_dir):
    canvas = check_package(saved(tmp_path, built["qti12"]), Schemas(schemas_dir))
    assert canvas.ok, canvas.problems
    assert {key for name, key in canvas.validated.items() if name != "imsmanifest.xml"} == {"qti12"}


def _drop_profile(root: etree._Element) -> None:
    [field] = root.xpath("(//q:item)[1]//q:qtimetadatafield[q:fieldlabel='cc_profile']", namespaces=QTI)
    field.getparent().remove(field)


def _two_choices(root: etree._Element) -> None:
    [label] = root.xpath("(//q:item)[1]//q:response_label[last()]", namespaces=QTI)
    label.getparent().remove(label)
    for condition in root.xpath(
        f"(//q:item)[1]//q:respcondition[.//q:varequal='{label.get('ident')}']", namespaces=QTI
    ):
        condition.getparent().remove(condition)


def _field(label: str, entry: str, where: str = "(//q:item)[1]/q:itemmetadata") -> Edit:
    """Set a metadata field of the first item, or of ``where``."""

    def edit(root: etree._Element) -> None:
        path = f"{where}/q:qtimetadata/q:qtimetadatafield[q:fieldlabel=$l]/q:fieldentry"
        [field] = root.xpath(path, l=label, namespaces=QTI)
        field.text = entry

    return edit


def _second_title(root: etree._Element) -> None:
    [title] = root.xpath("//*[local-name()='general']/*[local-name()='title']")
    title.addnext(etree.fromstring(etree.tostring(title)))


def _resource(kind: str, edit: Callable[[etree._Element, dict[str, str]], None]) -> Edit:
    def apply(root: etree._Element) -> None:
        ns = {"cp": etree.QName(root).namespace}
        [resource, *_] = root.xpath("//cp:resource[starts-with(@identifier, $k)]", k=kind, namespaces=ns)
        edit(resource, ns)

    return apply


def _depend_on(kind: str) -> Callable[[etree._Element, dict[str, str]], None]:
    def edit(resource: etree._Element, ns: dict[str, str]) -> None:
        [target, *_] = resource.xpath("//cp:resource[starts-with(@identifier, $k)]/@identifier", k=kind, namespaces=ns)
        etree.SubElement(resource, f"{{{ns['cp']}}}dependency", identifierref=target)

    return edit


def _file_twice(resource: etree._Element, ns: dict[str, str]) -> None:
    file = resource.find("cp:file", ns)
    file.addnext(etree.fromstring(etree.tostring(file)))


def _href_elsewhere(resource: etree._Element, ns: dict[str, str]) -> None:
    resource.find("cp:file", ns).set("href", "assets/lms-export.css")


@pytest.mark.parametrize("version", ["cc11", "cc13"])
@pytest.mark.parametrize(
    ("name", "edit", "rule"),
    [
        (
            "quizzes/gradient-descent.xml",
            _drop_profile,
            "[RULE 2f] The Item metadata field with fieldlabel='cc_profile'",
        ),
        ("quizzes/gradient-descent.xml", _two_choices, "[RULE 4d] There are too too few response labels for the MC-SR"),
        (
            "quizzes/gradient-descent.xml",
            _field("cc_weighting", "2.5"),
            "[RULE 2c] Invalid fieldentry Item metadata weighting",
        ),
        (
            "quizzes/latent-spaces.xml",
            _field("qmd_computerscored", "Yes"),
            "[RULE 8f] Invalid fieldentry Item metadata for an Essay",
        ),
        (
            "quizzes/latent-spaces.xml",
            _field("cc_maxattempts", "6", "//q:assessment"),
            "[RULE 1i] Invalid fieldentry Assessment metadata",
        ),
        (
            "imsmanifest.xml",
            _resource("link_", _depend_on("page_")),
            "[RULE 2d] For the Web Link Resource the prohibited 'dependency'",
        ),
        (
            "imsmanifest.xml",
            _resource("page_", _depend_on("assessment_")),
            "[RULE 5c] The Web Content has a prohibited dependency on an Assessment",
        ),
        (
            "imsmanifest.xml",
            _resource("lti_", _depend_on("link_")),
            "[RULE 11b] The BasicLTI has a prohibited dependency on a Web Link",
        ),
        (
            "imsmanifest.xml",
            _resource("page_", _file_twice),
            "[RULE 9a] In a 'resource' element at least two 'file' elements",
        ),
        (
            "imsmanifest.xml",
            _resource("page_", _href_elsewhere),
            "[RULE 10b] For a 'resource' element with the 'href' attribute",
        ),
        ("imsmanifest.xml", _second_title, '[RULE for Local Attribute 2] Invalid number of "title" elements: 2.'),
    ],
    ids=[
        "no-profile",
        "two-choices",
        "weighting",
        "essay-scored",
        "attempts",
        "link-dependency",  # the rule names imswl_xmlv1p0: it runs only retargeted to the cartridge's version
        "page-on-quiz",
        "lti-on-link",
        "file-twice",
        "href-unlisted",
        "lom-two-titles",  # a rule of the LOM's XSD, which the manifest's imports
    ],
)
def test_the_schematron_rules_catch_what_the_schema_lets_through(
    tmp_path, built, schemas_dir, version, name, edit, rule
):
    report = check_package(changed(tmp_path, built[version], name, edit), Schemas(schemas_dir))
    key = version if name == "imsmanifest.xml" else f"{version}_qti"
    assert not [p for p in report.problems if " schema: " in p.message], "the XSD alone passes it"
    found = [p for p in report.problems if p.message.startswith(f"{key} Schematron: {rule}")]
    assert found, report.problems
    assert found[0].file.endswith(f"!{name}") and found[0].line is not None


def test_only_the_cc_schemas_have_embedded_rules(schemas_dir):
    schemas = Schemas(schemas_dir)
    assert schemas.rules("cc11_qti") is not None and schemas.rules("cc13_qti") is not None
    assert all(schemas.rules(key) is None for key in ("qti12", "imscp11", "scorm12", "scorm2004", "cc11_lti"))
