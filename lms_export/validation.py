"""Validate packages against the official XSDs: ``lms-export check`` and the tests.

A package is untrusted input, whoever made it: its XML is parsed with no
entity expansion, no DTD loading and no network, and the zip is read with a
size limit so a zip bomb cannot exhaust memory. Each XML file is matched to
its schema by its root element's namespace and name, validated, and the
manifest's file references are checked against the zip's contents.

SCORM manifests also get the checks of the SCORM application profiles that
an XSD cannot make (IMS CP 1.1.4 accepts unknown attributes silently, so a
mis-cased ``adlcp:scormtype`` passes the 2004 schema): unique identifiers,
items and dependencies that name resources, a default organization that
exists, an allowed ``schemaversion``, ``adlcp:scormType`` on every resource,
an ``href`` on every SCO, and every launch file in the package.

Common Cartridge files are matched the same way, with one exception: a CC
assessment shares the QTI 1.2 namespace with Canvas's QTI, so a
``questestinterop`` the CC manifest names as an assessment or question bank
is validated against the CC QTI profile of the manifest's version. CC files
also get the Schematron rules the CC XSDs carry in ``xs:appinfo`` (the
manifest's and the LOM's, the QTI profile's), run with lxml's isoschematron.
Those rules were written for CC 1.0: the ones about particular resources name
the 1.0 resource types (``imswl_xmlv1p0``, ``imsqti_xmlv1p2/imscc_xmlv1p0/...``),
which no valid 1.1 manifest can contain, so they are run with the resource
types of the cartridge's own version; the XSD already refuses the 1.0 names.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree, isoschematron

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
    ("http://www.imsproject.org/xsd/imscp_rootv1p1p2", "manifest"): "scorm12",
    ("http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1", "manifest"): "cc11",
    ("http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1", "manifest"): "cc13",
    ("http://www.imsglobal.org/xsd/imsccv1p1/imswl_v1p1", "webLink"): "cc11_weblink",
    ("http://www.imsglobal.org/xsd/imsccv1p3/imswl_v1p3", "webLink"): "cc13_weblink",
    ("http://www.imsglobal.org/xsd/imsccv1p1/imsdt_v1p1", "topic"): "cc11_discussion",
    ("http://www.imsglobal.org/xsd/imsccv1p3/imsdt_v1p3", "topic"): "cc13_discussion",
    # CC 1.3 keeps the Basic LTI link of 1.1 (imsbasiclti_xmlv1p0), in the same namespace
    ("http://www.imsglobal.org/xsd/imslticc_v1p0", "cartridge_basiclti_link"): "cc11_lti",
}
#: Per CC manifest schema key: the schema of the assessments and question banks it names.
CC_QTI = {"cc11": "cc11_qti", "cc13": "cc13_qti"}
#: Schema keys whose XSDs embed Schematron rules, with the version tag their resource types are retargeted to.
EMBEDDED_RULES = {"cc11": "v1p1", "cc11_qti": "v1p1", "cc13": "v1p3", "cc13_qti": "v1p3"}
_CC10_TYPES = re.compile(r"(imscc_xml|imswl_xml|imsdt_xml)v1p0")
_SCH = "http://purl.oclc.org/dsdl/schematron"
_SVRL = "http://purl.oclc.org/dsdl/svrl"
#: SCORM 2004 shares the IMS CP 1.1 namespace with QTI packages; its ADL CP namespace tells it apart.
ADLCP_2004 = "http://www.adlnet.org/xsd/adlcp_v1p3"
ADLCP_12 = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
#: Per SCORM schema key: the allowed metadata/schemaversion values and the scormType attribute.
SCORM_PROFILES = {
    "scorm12": (("1.2",), f"{{{ADLCP_12}}}scormtype"),
    "scorm2004": (("2004 4th Edition", "2004 3rd Edition", "CAM 1.3"), f"{{{ADLCP_2004}}}scormType"),
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
        self._rules: dict[str, isoschematron.Schematron] = {}

    def __getitem__(self, key: str) -> etree.XMLSchema:
        if key not in self._compiled:
            path = self.folder / self.entries[key]
            self._compiled[key] = etree.XMLSchema(etree.parse(str(path), safe_parser()))
        return self._compiled[key]

    def rules(self, key: str) -> isoschematron.Schematron | None:
        """The Schematron rules embedded in the key's XSD and the XSDs it imports; None for most keys."""
        if key not in EMBEDDED_RULES:
            return None
        if key not in self._rules:
            xsd = etree.parse(str(self.folder / self.entries[key]), safe_parser())
            rules = isoschematron.extract_xsd(xsd)  # follows the XSD's imports: the LOM's rules come too
            tag = EMBEDDED_RULES[key]
            for element in rules.iter(f"{{{_SCH}}}*"):
                for name, value in element.attrib.items():
                    element.set(name, _CC10_TYPES.sub(rf"\g<1>{tag}", value))
            # the IMS rules are not ISO Schematron to the letter (a title after ns, named patterns)
            self._rules[key] = isoschematron.Schematron(rules, validate_schema=False, store_report=True)
        return self._rules[key]

    def errors(self, key: str, tree: etree._ElementTree, name: str) -> list[Problem]:
        """The schema's errors, then those of the Schematron rules it embeds."""
        schema = self[key]
        problems = []
        if not schema.validate(tree):
            problems = [Problem(f"{key} schema: {e.message}", file=name, line=e.line) for e in schema.error_log]
        rules = self.rules(key)
        if rules is not None and not rules.validate(tree):
            for failed in rules.validation_report.iter(f"{{{_SVRL}}}failed-assert"):
                found = tree.xpath(failed.get("location"))
                line = found[0].sourceline if found and isinstance(found[0], etree._Element) else None
                message = " ".join(failed.findtext(f"{{{_SVRL}}}text", "").split())
                problems.append(Problem(f"{key} Schematron: {message}", file=name, line=line))
        return problems


def schema_key(tree: etree._ElementTree) -> str | None:
    root = etree.QName(tree.getroot())
    key = ROOT_SCHEMAS.get((root.namespace, root.localname))
    if key == "imscp11" and _is_scorm2004(tree):
        return "scorm2004"
    return key


def _is_scorm2004(tree: etree._ElementTree) -> bool:
    """An IMS CP 1.1 manifest that uses ADL CP 1.3 or says it is SCORM 2004."""
    if tree.xpath("boolean(//*[namespace-uri()=$ns] | //@*[namespace-uri()=$ns])", ns=ADLCP_2004):
        return True
    cp = etree.QName(tree.getroot()).namespace
    version = tree.getroot().findtext(f"{{{cp}}}metadata/{{{cp}}}schemaversion")
    return (version or "").strip() in SCORM_PROFILES["scorm2004"][0]


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
        # the manifest first: it tells a CC assessment from Canvas's QTI, which shares its namespace
        manifest = None
        if "imsmanifest.xml" in names:
            with contextlib.suppress(LmsExportError):  # reported below, in its turn
                manifest = parse_xml(archive.read("imsmanifest.xml"), f"{path}!imsmanifest.xml")
        cc_qti = cc_assessments(manifest) if manifest is not None else {}
        for name in sorted(n for n in names if n.endswith(".xml")):
            where = f"{path}!{name}"
            try:
                tree = (
                    manifest
                    if name == "imsmanifest.xml" and manifest is not None
                    else parse_xml(archive.read(name), where)
                )
            except LmsExportError as error:
                report.problems.extend(error.problems)
                continue
            key = schema_key(tree)
            if key == "qti12" and name in cc_qti:
                key = cc_qti[name]
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
                if key in SCORM_PROFILES:
                    report.problems.extend(scorm_profile(tree, key, names, where))
    return report


def cc_assessments(manifest: etree._ElementTree) -> dict[str, str]:
    """The files a CC manifest names as assessments or question banks, with their schema key."""
    key = schema_key(manifest)
    if key not in CC_QTI:
        return {}
    cp = etree.QName(manifest.getroot()).namespace
    files = {}
    for resource in manifest.getroot().iter(f"{{{cp}}}resource"):
        if not (resource.get("type") or "").startswith("imsqti_xmlv1p2/"):
            continue
        base = posixpath.join(_xml_base(resource), resource.get("{http://www.w3.org/XML/1998/namespace}base") or "")
        for file in resource.iter(f"{{{cp}}}file"):
            files[posixpath.normpath(posixpath.join(base, file.get("href", "")))] = CC_QTI[key]
    return files


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


def scorm_profile(tree: etree._ElementTree, key: str, names: set[str], where: str) -> list[Problem]:
    """What the SCORM application profile requires of a manifest beyond its schema."""
    root = tree.getroot()
    cp = etree.QName(root).namespace
    versions, scorm_type = SCORM_PROFILES[key]
    type_name = "adlcp:" + etree.QName(scorm_type).localname
    problems = []

    def problem(message: str, element: etree._Element) -> None:
        problems.append(Problem(message, file=where, line=element.sourceline))

    first_seen: dict[str, int | None] = {}
    for element in root.iter():
        identifier = element.get("identifier") if isinstance(element.tag, str) else None
        if identifier is None:
            continue
        if identifier in first_seen:
            problem(f"identifier {identifier} is used twice (first on line {first_seen[identifier]})", element)
        else:
            first_seen[identifier] = element.sourceline
    resources = {r.get("identifier"): r for r in root.iter(f"{{{cp}}}resource")}
    for element in (*root.iter(f"{{{cp}}}item"), *root.iter(f"{{{cp}}}dependency")):
        ref = element.get("identifierref")
        if ref is not None and ref in first_seen and ref not in resources:
            problem(f"identifierref {ref} names no resource", element)

    organizations = root.find(f"{{{cp}}}organizations")
    default = organizations.get("default") if organizations is not None else None
    if default is not None and default not in {
        o.get("identifier") for o in organizations.iter(f"{{{cp}}}organization")
    }:
        problem(f"organizations/@default {default} names no organization", organizations)

    metadata = root.find(f"{{{cp}}}metadata")
    schema = (root.findtext(f"{{{cp}}}metadata/{{{cp}}}schema") or "").strip()
    version = (root.findtext(f"{{{cp}}}metadata/{{{cp}}}schemaversion") or "").strip()
    if schema != "ADL SCORM":
        problem(f"metadata/schema must be ADL SCORM, not {schema!r}", root if metadata is None else metadata)
    if version not in versions:
        allowed = ", ".join(versions)
        problem(
            f"metadata/schemaversion must be one of {allowed}, not {version!r}", root if metadata is None else metadata
        )

    for identifier, resource in resources.items():
        value = resource.get(scorm_type)
        if value is None:
            miscased = [
                etree.QName(a).localname
                for a in resource.attrib
                if etree.QName(a).namespace == etree.QName(scorm_type).namespace
                and etree.QName(a).localname.lower() == etree.QName(scorm_type).localname.lower()
            ]
            hint = f" (adlcp:{miscased[0]} is not it: the name is case-sensitive)" if miscased else ""
            problem(f"resource {identifier} has no {type_name}{hint}", resource)
        elif value not in ("sco", "asset"):
            problem(f"resource {identifier}: {type_name} must be sco or asset, not {value!r}", resource)
        href = resource.get("href")
        if value == "sco" and not href:
            problem(f"SCO resource {identifier} has no href to launch", resource)
        if href and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href):
            own_base = resource.get("{http://www.w3.org/XML/1998/namespace}base") or ""
            launch = posixpath.normpath(posixpath.join(_xml_base(resource), own_base, re.split(r"[?#]", href)[0]))
            if launch not in names:
                problem(f"resource {identifier} launches {launch}, which is not in the package", resource)
    return problems
