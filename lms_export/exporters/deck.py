"""The deck itself, normalized: what every reader produced, as JSON or YAML.

Useful to check what an import understood, and to turn a text2qti quiz or a
card page into a deck file to edit further.
"""

from __future__ import annotations

import json
from typing import BinaryIO

import yaml

from lms_export.deckfile import deck_to_dict
from lms_export.exporters import Progress, register
from lms_export.model import Deck


@register("json", "the normalized deck as JSON", ".json")
def write_json(deck: Deck, out: BinaryIO, *, progress: Progress) -> None:
    text = json.dumps(deck_to_dict(deck), ensure_ascii=False, indent=2)
    out.write(text.encode("utf-8") + b"\n")
    progress(len(deck.cards))


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """Multi-line Markdown as literal blocks, so the file reads like the card."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) and "\n " not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


@register("yaml", "the normalized deck as YAML", ".yaml")
def write_yaml(deck: Deck, out: BinaryIO, *, progress: Progress) -> None:
    text = yaml.dump(deck_to_dict(deck), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    out.write(text.encode("utf-8"))
    progress(len(deck.cards))
