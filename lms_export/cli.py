"""The ``lms-export`` command.

Exit codes: 0 success, 1 bad input (every problem is printed, one per line,
naming file, line, card, question and field), 2 wrong usage.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from lms_export import __version__, readers
from lms_export.atomic import atomic_output
from lms_export.console import progress_bar, progress_count, reporting
from lms_export.deckfile import json_schema, merge_decks
from lms_export.errors import LmsExportError
from lms_export.exporters import formats, get_format
from lms_export.lti.commands import lti, serve
from lms_export.model import Deck
from lms_export.parts import convert as convert_parts

INPUT_FORMATS = click.Choice(sorted(readers.READERS))


class _Context:
    def __init__(self, quiet: bool):
        self.quiet = quiet


def _read_all(files: tuple[Path, ...], input_format: str | None) -> list[Deck]:
    """Every file read, and every problem of every file reported together."""
    decks, problems = [], []
    for path in files:
        try:
            decks.append(readers.read(path, input_format))
        except LmsExportError as error:
            problems.extend(error.problems)
    if problems:
        raise LmsExportError(problems)
    return decks


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="lms-export")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors: no warnings, no progress.")
@click.pass_context
def main(ctx: click.Context, quiet: bool) -> None:
    """Carry learning cards into LMSs: QTI, SCORM, Common Cartridge, Moodle XML and LTI 1.3."""
    ctx.obj = _Context(quiet)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--from", "input_format", type=INPUT_FORMATS, help="Input format, when the extension does not tell.")
@click.pass_obj
def validate(obj: _Context, files: tuple[Path, ...], input_format: str | None) -> None:
    """Check deck files and report every problem at once."""
    with reporting(obj.quiet):
        decks = _read_all(files, input_format)
        merge_decks(decks)
        if not obj.quiet:
            cards = sum(len(d.cards) for d in decks)
            questions = sum(len(c.questions) for d in decks for c in d.cards)
            click.echo(f"valid: {len(files)} file(s), {cards} card(s), {questions} question(s)", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--to", "output_format", required=True, help="Output format (see `lms-export formats`).")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write; - for standard output.",
)
@click.option("--from", "input_format", type=INPUT_FORMATS, help="Input format, when the extension does not tell.")
@click.option("--one-quiz", is_flag=True, default=None, help="QTI: the whole deck as one quiz, a section per card.")
@click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder laid out like templates/ (e.g. DIR/qti/qti12/items.xml.j2) whose files replace the built-in ones.",
)
@click.option(
    "--single-sco", is_flag=True, default=None, help="SCORM: the whole deck as one SCO instead of one per card."
)
@click.option(
    "--pass-score",
    type=click.FloatRange(0, 100),
    help="SCORM: the percentage a learner needs to pass (default 80).",
)
@click.option(
    "--lti-url",
    help="Common Cartridge: the lms-export tool's public URL (as given to `serve --url`); adds an LTI link per card.",
)
@click.pass_obj
def convert(
    obj: _Context, files: tuple[Path, ...], output_format: str, output: Path, input_format: str | None, **options
) -> None:
    """Convert deck files into an LMS format.

    Several FILES make one deck: the first names it, the cards follow in order.
    """
    fmt = get_format(output_format)
    if fmt is None:
        raise click.BadParameter(f"{output_format!r} is not one of: {', '.join(formats())}", param_hint="--to")
    given = {name: value for name, value in options.items() if value is not None}
    for name in given.keys() - fmt.options:
        flag = "--" + name.replace("_", "-")
        users = ", ".join(f.name for f in formats().values() if name in f.options)
        raise click.UsageError(f"{flag} does not apply to {fmt.name} (it applies to: {users})")
    with reporting(obj.quiet):
        # A format that writes parts takes a long quiz as a stream, on every core.
        parts = readers.read_parts(files[0], input_format) if len(files) == 1 and fmt.write_parts else None
        if parts is not None:
            with progress_count(fmt.name, "questions", obj.quiet) as progress, atomic_output(output) as out:
                convert_parts(parts, fmt, out, progress=progress, **given)
            if not obj.quiet and str(output) != "-":
                click.echo(f"wrote {output} ({fmt.name})", err=True)
            return
        deck = merge_decks(_read_all(files, input_format))
        with progress_bar(len(deck.cards), f"{fmt.name}", obj.quiet) as progress, atomic_output(output) as out:
            fmt(deck, out, progress=progress, **given)
        if not obj.quiet and str(output) != "-":
            click.echo(f"wrote {output} ({fmt.name}, {len(deck.cards)} card(s))", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write the site into (made if missing).",
)
@click.option("--from", "input_format", type=INPUT_FORMATS, help="Input format, when the extension does not tell.")
@click.pass_obj
def preview(obj: _Context, files: tuple[Path, ...], output: Path, input_format: str | None) -> None:
    """Write the card pages as a static site, to look at before importing.

    The pages and quizzes are those of the SCORM packages, with no LMS: open
    index.html in a browser. Several FILES make one deck, as with convert.
    """
    from lms_export.preview import write_site

    with reporting(obj.quiet):
        deck = merge_decks(_read_all(files, input_format))
        with progress_bar(len(deck.cards), "preview", obj.quiet) as progress:
            write_site(deck, output, progress)
        if not obj.quiet:
            click.echo(f"wrote {output / 'index.html'} ({len(deck.cards)} card page(s))", err=True)


@main.command("formats")
def list_formats() -> None:
    """List the output and input formats."""
    click.echo("Output formats (convert --to):")
    for fmt in formats().values():
        click.echo(f"  {fmt.name:<10} {fmt.description} ({fmt.suffix})")
    click.echo("Input formats (--from; chosen by extension otherwise):")
    for name, module in readers.READERS.items():
        extensions = ", ".join(module.EXTENSIONS) or "recognised by its content"
        click.echo(f"  {name:<10} {module.__doc__.strip().splitlines()[0]} ({extensions})")


@main.command()
def schema() -> None:
    """Print the JSON Schema of deck files."""
    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@click.argument("packages", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--schemas",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    envvar="LMS_EXPORT_SCHEMAS",
    required=True,
    help="The official XSDs, a folder with catalog.json (env LMS_EXPORT_SCHEMAS).",
)
@click.pass_obj
def check(obj: _Context, packages: tuple[Path, ...], schemas: Path) -> None:
    """Validate packages (QTI 1.2, 2.1, 3.0; SCORM 1.2, 2004; Common Cartridge 1.1, 1.3) against the official schemas."""
    from lms_export.validation import Schemas, check_package

    with reporting(obj.quiet):
        schema_set = Schemas(schemas)
        problems = []
        for package in packages:
            report = check_package(package, schema_set)
            problems.extend(report.problems)
            if report.ok and not obj.quiet:
                click.echo(f"valid: {package} ({len(report.validated)} XML file(s) checked)", err=True)
        if problems:
            raise LmsExportError(problems)


# The LTI tool: its commands live with it, in lms_export.lti.commands.
main.add_command(serve)
main.add_command(lti)
