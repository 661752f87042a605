"""The order matching targets and ordering items are first shown in, the same in every format.

An ordering question lists its items in the correct order, and a matching
question its targets pair by pair, so showing either as written would give
the answer away. Every format (QTI, SCORM pages, the LTI tool) shows them in
this order instead: derived from the card and question ids, so every build is
the same, and never the author's order from two items on. Choices keep the
author's order; a question's shuffle flag asks the player to mix them.
"""

from __future__ import annotations

import hashlib


def shown_order(count: int, card_id: str, question_id: str, what: str) -> list[int]:
    """Positions ``0..count-1`` in the order a learner first sees them."""
    seed = f"{card_id}\x1f{question_id}\x1f{what}"
    order = sorted(range(count), key=lambda i: hashlib.blake2b(f"{seed}\x1f{i}".encode(), digest_size=8).digest())
    if count > 1 and order == sorted(order):
        order = order[1:] + order[:1]
    return order
