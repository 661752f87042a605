"""Outputs appear whole or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from lms_export.atomic import atomic_output


def test_the_target_appears_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "out.zip"
    with atomic_output(target) as out:
        out.write(b"half")
        assert not target.exists()
        assert len(list(tmp_path.iterdir())) == 1  # the temporary file, beside the target
    assert target.read_bytes() == b"half"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_an_error_removes_the_temporary_file_and_keeps_the_old_target(tmp_path):
    target = tmp_path / "out.zip"
    target.write_bytes(b"old")
    with pytest.raises(ValueError), atomic_output(target) as out:
        out.write(b"new but broken")
        raise ValueError("writer failed")
    assert [p.name for p in tmp_path.iterdir()] == ["out.zip"]
    assert target.read_bytes() == b"old"
