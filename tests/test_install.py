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
