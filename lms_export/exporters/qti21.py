"""QTI 2.1: an IMS content package of assessmentItem and assessmentTest files.

Every question is its own item file in ``items/``, every quiz a test in
``tests/`` that refers to its items, and ``imsmanifest.xml`` names each file
with its dependencies, as TAO, OpenOLAT, Inspera and other QTI 2.1 players
expect. The XML lives in ``templates/qti/qti21/``; the package's layout,
answer keys, points and text come from :mod:`lms_export.qti`, shared with
QTI 3.0.
"""

from __future__ import annotations

from functools import partial

from lms_export import qti
from lms_export.exporters import register_parts

FORMAT = "qti21"

render_part = partial(qti.render_item_files, format_name=FORMAT)
write_parts = partial(qti.write_item_files, format_name=FORMAT)
write = register_parts(
    FORMAT,
    "IMS QTI 2.1 content package (TAO, OpenOLAT, Inspera, ...)",
    ".zip",
    ("one_quiz", "templates"),
    render_part,
    write_parts,
)
