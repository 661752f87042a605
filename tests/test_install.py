"""`pip install .` gives a working tool: the wheel carries every file it reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the built wheel installed, nothing else of the checkout."""
    work = tmp_path_factory.mktemp("install")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = (work / "dist").glob("lms_export-*.whl")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    return work / "venv" / "bin"


def test_the_installed_cli_converts_an_example_outside_the_checkout(installed, tmp_path):
    shutil.copy(EXAMPLES / "guest-bridge.yaml", tmp_path)
    where = subprocess.run(
        [str(installed / "python"), "-c", "import lms_export; print(lms_export.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert str(installed.parent) in where.stdout, "the package must come from the wheel, not the checkout"
    result = subprocess.run(
        [str(installed / "lms-export"), "convert", "guest-bridge.yaml", "--to", "json", "-o", "card.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert '"id": "guest-bridge"' in (tmp_path / "card.json").read_text()
    schema = subprocess.run([str(installed / "lms-export"), "schema"], cwd=tmp_path, capture_output=True, text=True)
    assert schema.returncode == 0 and '"title": "lms-export deck"' in schema.stdout


@pytest.mark.parametrize("output_format", ["qti12", "qti21", "qti30", "scorm12", "scorm2004", "cc11", "moodlexml"])
def test_every_template_set_ships_in_the_wheel(installed, tmp_path, output_format):
    shutil.copy(EXAMPLES / "every-type.yaml", tmp_path)
    shutil.copytree(EXAMPLES / "media", tmp_path / "media")
    result = subprocess.run(
        [str(installed / "lms-export"), "-q", "convert", "every-type.yaml", "--to", output_format, "-o", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").stat().st_size > 1000


def test_the_installed_check_validates_a_package(installed, tmp_path, schemas_dir):
    shutil.copy(EXAMPLES / "guest-bridge.yaml", tmp_path)
    lms_export = str(installed / "lms-export")
    subprocess.run(
        [lms_export, "-q", "convert", "guest-bridge.yaml", "--to", "qti12", "-o", "q.zip"], cwd=tmp_path, check=True
    )
    good = subprocess.run(
        [lms_export, "check", "q.zip", "--schemas", str(schemas_dir)], cwd=tmp_path, capture_output=True, text=True
    )
    assert good.returncode == 0 and "valid: q.zip" in good.stderr, good.stderr
    (tmp_path / "bad.zip").write_bytes(b"PK not really")
    bad = subprocess.run(
        [lms_export, "check", "bad.zip", "--schemas", str(schemas_dir)], cwd=tmp_path, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "error: bad.zip" in bad.stderr and "Traceback" not in bad.stderr
