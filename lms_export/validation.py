"""Validate packages against the official XSDs: ``lms-export check`` and the tests.

A package is untrusted input, whoever made it: its XML is parsed with no
entity expansion, no DTD loading and no network, and the zip is read with a
size limit so a zip bomb cannot exhaust memory. Each XML file is matched to
its schema by its root element's namespace and name, validated, and the
manifest's file references are checked against the zip's contents.
"""

from __future__ import annotations

import json
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from lms_export.errors import LmsExportError, Problem

#: (root namespace, root element) to the schema key in the schemas folder's catalog.json.
ROOT_SCHEMAS = {
    ("http://www.imsglobal.org/xsd/ims_qtiasiv1p2", "questestinterop"): "qti12",
    ("http://www.imsglobal.org/xsd/imscp_v1p1", "manifest"): "imscp11",
    ("http://www.imsglobal.org/xsd/imsqti_v2p1", "assessmentItem"): "qti21",
    ("http://www.imsglobal.org/xsd/imsqti_v2p1", "assessmentTest"): "qti21",
    ("http://www.imsglobal.org/xsd/imsqtiasi_v3p0", "qti-assessment-item"): "qti30",
    ("http://www.imsglobal.org/xsd/imsqtiasi_v3p0", "qti-assessment-test"): "qti30",
    ("http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1", "manifest"): "qti30_cp",
}
#: XML that has no official schema: Canvas's quiz settings file.
KNOWN_UNSCHEMAED = {("http://canvas.instructure.com/xsd/cccv1p0", "quiz")}

MAX_PACKAGE_BYTES = 512 * 1024 * 1024


def safe_parser() -> etree.XMLParser:
    """The only way lms-export parses XML it did not just write itself."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(data: bytes, name: str) -> etree._ElementTree:
    try:
        return etree.ElementTree(etree.fromstring(data, safe_parser()))
    except etree.XMLSyntaxError as error:
        raise LmsExportError(Problem(f"not well-formed XML: {error.msg}", file=name, line=error.lineno)) from None


class Schemas:
    """The official XSDs of a schemas folder (``../shared/schemas``), compiled on first use."""

    def __init__(self, folder: Path):
        catalog = folder / "catalog.json"
        if not catalog.is_file():
            raise LmsExportError(Problem("not a schemas folder: catalog.json is missing", file=str(folder)))
        self.folder = folder
        self.entries: dict[str, str] = json.loads(catalog.read_text("utf-8"))
        self._compiled: dict[str, etree.XMLSchema] = {}

    def __getitem__(self, key: str) -> etree.XMLSchema:
        if key not in self._compiled:
            path = self.folder / self.entries[key]
            self._compiled[key] = etree.XMLSchema(etree.parse(str(path), safe_parser()))
        return self._compiled[key]

    def errors(self, key: str, tree: etree._ElementTree, name: str) -> list[Problem]:
        schema = self[key]
        if schema.validate(tree):
            return []
        return [Problem(f"{key} schema: {e.message}", file=name, line=e.line) for e in schema.error_log]


def schema_key(tree: etree._ElementTree) -> str | None:
    root = etree.QName(tree.getroot())
    return ROOT_SCHEMAS.get((root.namespace, root.localname))


@dataclass
class Report:
    """What a check found: files by the schema they passed, and the problems."""

    validated: dict[str, str] = field(default_factory=dict)
    unschemaed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_package(path: Path, schemas: Schemas) -> Report:
    """Validate every XML file of a zip package and the manifest's references."""
    report = Report()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise LmsExportError(Problem(f"not a zip package: {error}", file=str(path))) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if sum(i.file_size for i in infos) > MAX_PACKAGE_BYTES:
            raise LmsExportError(Problem("package unpacks to more than 512 MiB; refusing to read it", file=str(path)))
        names = {i.filename for i in infos}
        if "imsmanifest.xml" not in names:
            report.problems.append(Problem("no imsmanifest.xml at the top of the package", file=str(path)))
        for name in sorted(n for n in names if n.endswith(".xml")):
            where = f"{path}!{name}"
            try:
                tree = parse_xml(archive.read(name), where)
            except LmsExportError as error:
                report.problems.extend(error.problems)
                continue
            key = schema_key(tree)
            if key is None:
                root = etree.QName(tree.getroot())
                if (root.namespace, root.localname) in KNOWN_UNSCHEMAED:
                    report.unschemaed.append(name)
                else:
                    report.problems.append(Problem(f"no known schema for root element {root.text}", file=where))
                continue
            report.problems.extend(schemas.errors(key, tree, where))
            report.validated[name] = key
            if name == "imsmanifest.xml":
                report.problems.extend(_manifest_references(tree, names, where))
    return report


def _manifest_references(tree: etree._ElementTree, names: set[str], where: str) -> list[Problem]:
    """Every file the manifest names is in the zip; every identifierref resolves."""
    problems = []
    identifiers = {e.get("identifier") for e in tree.iter() if isinstance(e.tag, str) and e.get("identifier")}
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local == "file" and element.get("href"):
            base = _xml_base(element)
            href = posixpath.normpath(posixpath.join(base, element.get("href")))
            if href not in names:
                problems.append(
                    Problem(f"manifest names {href}, which is not in the package", file=where, line=element.sourceline)
                )
        ref = element.get("identifierref")
        if ref is not None and ref not in identifiers:
            problems.append(Problem(f"identifierref {ref} names no element", file=where, line=element.sourceline))
    return problems


def _xml_base(element: etree._Element) -> str:
    base = ""
    for ancestor in reversed(list(element.iterancestors())):
        value = ancestor.get("{http://www.w3.org/XML/1998/namespace}base")
        if value:
            base = posixpath.join(base, value)
    return base
