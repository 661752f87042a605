"""QTI 1.2 export speed and memory, side by side with text2qti in one run.

    python bench/qti_vs_text2qti.py                 # 10,000 questions, both tools
    python bench/qti_vs_text2qti.py --large 100000  # and lms-export alone on 100,000

Both tools convert the same text2qti quiz of four-choice questions (written by
examples/generate_deck.py) to a Canvas QTI 1.2 zip, each in its own process;
wall time is the best of ``--repeat`` runs. Peak memory is the largest resident
set of any one process as the kernel reports it (wait4); lms-export works on
every core with forked workers, so the bench also samples the proportional set
size (PSS: shared pages counted once) of the whole process tree every 10 ms
and reports its peak as "all processes". The machines are noisy, so what
counts is the ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from generate_deck import text2qti_quiz  # noqa: E402


def tree_pss(pid: int) -> int:
    """KiB of PSS of a process and all its descendants, now (0 once it is gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                total += sum(tree_pss(int(child)) for child in children.read().split())
    except (OSError, StopIteration):
        pass
    return total


def measure(command: list[str], cwd: Path, sample: bool = False) -> tuple[float, float, float]:
    """Seconds, peak MiB of the largest process and (with ``sample``) peak MiB of PSS of all, of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak_tree = 0
    while True:
        pid, status, usage = os.wait4(process.pid, 0 if not sample else os.WNOHANG)
        if pid:
            break
        peak_tree = max(peak_tree, tree_pss(process.pid))
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024, peak_tree / 1024


def best(command: list[str], cwd: Path, repeat: int) -> tuple[float, float, float]:
    """The best time of ``repeat`` runs; the peaks of one more run, sampled (sampling costs a little time)."""
    seconds = min(measure(command, cwd)[0] for _ in range(repeat))
    _, peak, peak_tree = measure(command, cwd, sample=True)
    return seconds, peak, peak_tree


def quiz(folder: Path, questions: int) -> Path:
    path = folder / f"quiz-{questions}.txt"
    with path.open("w", encoding="utf-8") as out:
        text2qti_quiz(questions, out)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=0, help="also convert a quiz this large with lms-export alone")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lms_export = shutil.which("lms-export") or sys.exit("lms-export is not installed (pip install .)")
    text2qti = shutil.which("text2qti")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = quiz(folder, args.questions)
        print(f"quiz: {args.questions:,} four-choice questions, {source.stat().st_size / 2**20:.1f} MiB")
        ours = best([lms_export, "-q", "convert", source.name, "--to", "qti12", "-o", "ours.zip"], folder, args.repeat)
        print(f"lms-export: {ours[0]:6.2f} s  peak {ours[1]:6.1f} MiB  (all processes {ours[2]:6.1f} MiB)")
        if text2qti:
            theirs = best([text2qti, source.name], folder, args.repeat)
            print(f"text2qti:   {theirs[0]:6.2f} s  peak {theirs[1]:6.1f} MiB  (all processes {theirs[2]:6.1f} MiB)")
            print(
                f"ratio: lms-export is {theirs[0] / ours[0]:.1f}x faster, "
                f"{theirs[2] / ours[2]:.1f}x less memory over all processes"
            )
        else:
            print("text2qti is not installed (pip install text2qti): no side-by-side ratio")
        if args.large:
            large = quiz(folder, args.large)
            seconds, peak, peak_tree = measure(
                [lms_export, "-q", "convert", large.name, "--to", "qti12", "-o", "large.zip"], folder, sample=True
            )
            print(
                f"lms-export on {args.large:,} questions: {seconds:6.2f} s  peak {peak:6.1f} MiB  "
                f"(all processes {peak_tree:6.1f} MiB)"
            )


if __name__ == "__main__":
    main()
