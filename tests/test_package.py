"""Deterministic, streamed zip packages."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from lms_export.package import COMPRESS_LEVEL, FIXED_TIME, Package


def build() -> bytes:
    package = Package()
    package.add("z.xml", "<z/>")
    package.add("a/big.xml", lambda: ("<item/>" for _ in range(50_000)))
    package.add("b.bin", b"\x00\x01")
    out = io.BytesIO()
    package.write(out)
    return out.getvalue()


def test_the_same_entries_give_the_same_bytes_sorted_and_timeless():
    data = build()
    assert data == build()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["a/big.xml", "b.bin", "z.xml"]
    assert {i.date_time for i in archive.infolist()} == {FIXED_TIME}
    assert archive.read("a/big.xml") == b"<item/>" * 50_000


def test_an_entry_name_is_used_once():
    package = Package()
    package.add("x", "1")
    with pytest.raises(ValueError):
        package.add("x", "2")


def test_entries_are_deflated_at_the_packages_level():
    text = "".join(f"<item ident='q{n}'><p>Question {n} of many</p></item>\n" for n in range(5000)).encode()
    package = Package()
    package.add("items.xml", text)
    out = io.BytesIO()
    package.write(out)
    [info] = zipfile.ZipFile(out).infolist()
    deflate = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    assert info.compress_size == len(deflate.compress(text) + deflate.flush())
