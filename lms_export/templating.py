"""Where the built-in templates live, and the Jinja2 settings every output shares.

``templates/`` sits at the top of a checkout, where institutions find and
edit it, and inside the package (``lms_export/templates``) in an installed
wheel; :func:`builtin_folder` finds it in either place. Every format renders
with the same settings: autoescaping, so text never becomes markup by
accident, and undefined names as errors, so a template typo fails the export
instead of writing an empty field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from lms_export.deckfile import NOT_XML
from lms_export.errors import LmsExportError, Problem


def builtin_folder(kind: str) -> Path:
    """``templates/<kind>``: inside the installed package, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates" / kind, here.parent / "templates" / kind):
        if candidate.is_dir():
            return candidate
    raise LmsExportError(f"the {kind} templates are missing from this installation (templates/{kind})")


#: Compiled templates, kept between runs by the checksum of their source, so a run
#: does not spend its first 30 ms compiling: in Jinja's own per-user temporary
#: folder, which it makes private to the user and checks before trusting.
_BYTECODE_CACHE = jinja2.FileSystemBytecodeCache()


def environment(
    kind: str, override: Path | None = None, filters: Mapping[str, Callable[..., Any]] | None = None
) -> jinja2.Environment:
    """Templates for one output; files in ``override/<kind>/`` replace built-in ones."""
    folders = [builtin_folder(kind)]
    if override is not None:
        if not override.is_dir():
            raise LmsExportError(Problem("the templates folder does not exist", file=str(override)))
        folders.insert(0, override / kind)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        bytecode_cache=_BYTECODE_CACHE,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update({"number": number, **(filters or {})})
    return env


def number(value: float | Decimal) -> str:
    """A number as XML decimals, SCORM and QTI want it: ``2``, ``0.75``, ``0.0000001``; never ``2.0`` or ``1e-07``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # the usual case, a whole number of points, without Decimal
    text = format(value if isinstance(value, Decimal) else Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def xml_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 forbids, which no parser would read back."""
    return NOT_XML.sub("", text)


def render_stream(env: jinja2.Environment, template: str, **context) -> Callable[[], Iterator[str]]:
    """A package-entry producer that streams the template's output."""

    def produce() -> Iterator[str]:
        with template_errors(template):
            yield from env.get_template(template).generate(**context)

    return produce


def render(env: jinja2.Environment, template: str, **context) -> str:
    """The template's whole output, for a piece that is written as a part of an entry."""
    with template_errors(template):
        return env.get_template(template).render(**context)


@contextmanager
def template_errors(template: str) -> Iterator[None]:
    """A broken template (an institution's own, say) is reported by file and line
    like any other bad input, not as a traceback."""
    try:
        yield
    except jinja2.TemplateSyntaxError as error:
        raise LmsExportError(
            Problem(f"template error: {error.message}", file=error.filename, line=error.lineno)
        ) from None
    except jinja2.TemplateError as error:
        raise LmsExportError(Problem(f"template error: {error}", file=template)) from None
