"""Write a large synthetic deck, for benchmarks: N cards of M questions each.

    python examples/generate_deck.py --cards 1000 --questions 10 -o big.yaml
    python examples/generate_deck.py --cards 1 --questions 10000 --text2qti -o big.txt

The text2qti form writes one quiz of four-choice questions, the input the
QTI benchmark compares against text2qti itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

TYPES = ("single_choice", "multiple_answers", "true_false", "short_answer", "numerical")


def question(card: int, number: int) -> dict:
    kind = TYPES[number % len(TYPES)]
    q = {"id": f"q{number}", "type": kind, "prompt": f"Card {card}, question {number}: which statement holds?"}
    if kind in ("single_choice", "multiple_answers"):
        q["choices"] = [
            {
                "id": letter,
                "text": f"Statement {letter} about item {number}",
                "correct": i == number % 4 or (kind == "multiple_answers" and i == 0),
            }
            for i, letter in enumerate("abcd")
        ]
        q["feedback"] = {"correct": "Right.", "incorrect": "Look again at the card."}
    elif kind == "true_false":
        q["answer"] = number % 2 == 0
    elif kind == "short_answer":
        q["answers"] = [f"answer {number}", f"ans {number}"]
    else:
        q["answer"] = number * 1.5
        q["tolerance"] = 0.01
    return q


def deck(cards: int, questions: int) -> dict:
    return {
        "id": f"generated-{cards}x{questions}",
        "title": f"Generated deck, {cards} cards of {questions} questions",
        "cards": [
            {
                "id": f"card-{c}",
                "title": f"Card {c}",
                "topic": "Benchmarks",
                "difficulty": "beginner",
                "body": f"Body of card {c}, citing its source [1].\n\nA second paragraph with *emphasis*.",
                "sources": [{"id": 1, "title": f"Source of card {c}", "url": f"https://example.org/{c}"}],
                "questions": [question(c, q) for q in range(1, questions + 1)],
            }
            for c in range(1, cards + 1)
        ],
    }


def text2qti_quiz(questions: int, out) -> None:
    out.write(f"Quiz title: Generated quiz of {questions} questions\n")
    out.write("Quiz description: Four-choice questions for benchmarks.\n\n")
    for n in range(1, questions + 1):
        out.write(f"{n}.  Question {n}: which of these is statement {n % 4}?\n")
        for i, letter in enumerate("abcd"):
            mark = "*" if i == n % 4 else ""
            out.write(f"{mark}{letter}) Statement {i} for question {n}\n")
        out.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--text2qti", action="store_true", help="write a text2qti quiz of four-choice questions")
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        out = sys.stdout if args.output == "-" else stack.enter_context(open(args.output, "w", encoding="utf-8"))
        if args.text2qti:
            text2qti_quiz(args.questions, out)
        else:
            json.dump(deck(args.cards, args.questions), out, indent=1)
            out.write("\n")


if __name__ == "__main__":
    main()
