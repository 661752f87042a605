"""Deck files in JSON or YAML: the structure documented in the README."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from lms_export.deckfile import Locations, Path_, build_deck
from lms_export.errors import LmsExportError, Problem
from lms_export.model import Deck

NAME = "deck"
EXTENSIONS = (".json", ".yaml", ".yml")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def read(text: str, *, file: str, base_dir: Path | None = None) -> Deck:
    raw, locations = parse(text, file)
    return build_deck(raw, file=file, locations=locations, base_dir=base_dir)


def parse(text: str, file: str) -> tuple[Any, Locations]:
    """The raw structure and where each part of it stands.

    JSON is parsed by the json module (strict, duplicate keys refused); its
    line numbers come from reading the same text as YAML, of which JSON is
    all but a subset. YAML is parsed safely: plain data, no tags, no anchors.
    """
    if text.lstrip().startswith(("{", "[")):
        try:
            raw = json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
        except json.JSONDecodeError as error:
            raise LmsExportError(
                Problem(f"malformed JSON: {error.msg} (column {error.colno})", file=file, line=error.lineno)
            ) from None
        except ValueError as error:
            raise LmsExportError(Problem(f"malformed JSON: {error}", file=file)) from None
        try:
            _, locations = _compose(text, file)
        except LmsExportError:
            locations = {}
        return raw, locations
    return _compose(text, file)


def _compose(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise LmsExportError(
            Problem(
                f"malformed YAML: {error.problem or error.context}", file=file, line=mark.line + 1 if mark else None
            )
        ) from None
    except yaml.YAMLError as error:
        raise LmsExportError(Problem(f"malformed YAML: {error}", file=file)) from None
    finally:
        loader.dispose()
    locations: dict[Path_, int] = {}
    return _Walker(loader, file, locations).value(node, ()), locations


class _Walker:
    """Turns YAML nodes into plain data, noting each value's line."""

    def __init__(self, loader, file: str, locations: dict[Path_, int]):
        self.loader = loader
        self.file = file
        self.locations = locations
        self.seen: set[int] = set()

    def fail(self, node, message: str):
        raise LmsExportError(Problem(message, file=self.file, line=node.start_mark.line + 1))

    def value(self, node, path: Path_) -> Any:
        if node is None:
            return None
        if id(node) in self.seen:
            self.fail(node, "YAML anchors and aliases are not supported in deck files")
        self.seen.add(id(node))
        self.locations[path] = node.start_mark.line + 1
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_COLLECTIONS:
            self.fail(node, f"YAML tag {node.tag!r} is not allowed in deck files")
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    self.fail(key_node, "mapping keys must be plain names")
                key = key_node.value
                if key in out:
                    self.fail(key_node, f"duplicate key {key!r}")
                out[key] = self.value(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as error:
            self.fail(node, f"malformed YAML value: {getattr(error, 'problem', error)}")


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a deck can hold")
