"""QTI 3.0: a 1EdTech content package of qti-assessment-item and qti-assessment-test files.

Every question is its own item file (``items/``), every quiz a test file
(``tests/``) that refers to its items, and ``imsmanifest.xml`` lists them as
resources: a test depends on its items, an item on the images it shows, and
each image is a ``webcontent`` resource of its own so every file in the zip
is named once. The XML itself lives in ``templates/qti/qti30/``; the layout is
QTI 2.1's, from :mod:`lms_export.qti`; a QTI 3 item also carries the deck's
language (``xml:lang``).
"""

from __future__ import annotations

from functools import partial

from lms_export import qti
from lms_export.exporters import register_parts

FORMAT = "qti30"

render_part = partial(qti.render_item_files, format_name=FORMAT)
write_parts = partial(qti.write_item_files, format_name=FORMAT)
write = register_parts(
    FORMAT,
    "QTI 3.0 content package (1EdTech)",
    ".zip",
    ("one_quiz", "templates"),
    render_part,
    write_parts,
)
