"""SCORM export speed on a large deck, and the size of the run-time script every SCO loads.

    python bench/scorm_bench.py                      # 1,000 cards of 5 questions, both versions
    python bench/scorm_bench.py --cards 5000 --repeat 1

The deck comes from examples/generate_deck.py. Each conversion runs
``lms-export convert`` in its own process, as a user would: wall time is the
best of ``--repeat`` runs and includes starting Python and reading the deck.
Both layouts are timed: a SCO per card (1,000 pages) and ``--single-sco``
(one page with every card).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from generate_deck import deck  # noqa: E402

from lms_export.page import asset_files  # noqa: E402


def seconds(command: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
        best = min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("lms-export"))
    runtime = next(path for name, path in asset_files().items() if name.endswith(".js")).read_bytes()
    print(f"run-time script: {len(runtime):,} bytes ({len(gzip.compress(runtime, 9)):,} gzipped)")
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        source = folder / "deck.json"
        source.write_text(json.dumps(deck(args.cards, args.questions)), encoding="utf-8")
        print(f"deck: {args.cards:,} cards x {args.questions} questions")
        for output_format in ("scorm12", "scorm2004"):
            for options in ([], ["--single-sco"]):
                out = folder / f"{output_format}.zip"
                command = [cli, "-q", "convert", str(source), "--to", output_format, "-o", str(out), *options]
                took = seconds(command, args.repeat)
                layout = "one SCO" if options else "a SCO per card"
                print(f"{output_format:<10} {layout:<15} {took:6.2f} s  {out.stat().st_size:>12,} bytes")


if __name__ == "__main__":
    main()
