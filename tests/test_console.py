"""What a person at a terminal sees: progress on long work."""

from __future__ import annotations

import io

from lms_export import console


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_long_work_shows_a_progress_bar_only_on_a_terminal(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(console.sys, "stderr", terminal)
    with console.progress_bar(40, "qti12", quiet=False) as progress:
        for _ in range(40):
            progress(1)
    assert "qti12" in terminal.getvalue() and "100%" in terminal.getvalue()
    with console.progress_bar(40, "qti12", quiet=True) as progress:
        progress(40)
    pipe = io.StringIO()
    monkeypatch.setattr(console.sys, "stderr", pipe)
    with console.progress_bar(40, "qti12", quiet=False) as progress:
        progress(40)
    assert pipe.getvalue() == ""
