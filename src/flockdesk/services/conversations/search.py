"""Full-text search over message text, returning conversations (newest matching message first).

The SQL of each backend is in store/fulltext.py. The user's words are matched as plain terms (all
must occur), each as a prefix ("delay" finds "delayed"): the query is rebuilt from the letters and
digits of the input, so FTS operators typed by the user are treated as text, never as query syntax. Pages are keyset-paged on
the id of each conversation's newest matching message; a conversation is listed once, on the page of
its newest match.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.services.conversations.listing import (
    MAX_LIMIT,
    InboxPage,
    build_rows,
    decode_cursor,
    encode_cursor,
)
from flockdesk.store import fulltext
from flockdesk.store.schema import messages

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits: what both FTS tokenizers keep
MAX_TERMS = 16


def terms(query: str) -> list[str]:
    words = [w.lower() for w in WORD_RE.findall(query)][:MAX_TERMS]
    if not words:
        raise InvalidInput("type at least one word to search for")
    return words


def _hits(conn: Connection, words: list[str], before: int | None, limit: int) -> list[tuple[int, int]]:
    """(conversation id, id of its newest matching message) pairs, newest first, below the cursor.

    Hits are streamed newest first and reading stops once `limit` conversations are found, so a common
    word costs about what a rare one does.
    """
    q = fulltext.query_text(conn, words)
    upper = before if before is not None else fulltext.NO_UPPER
    stream = fulltext.hits(conn, q, words, upper, limit)
    seen: set[int] = set()
    out: list[tuple[int, int]] = []
    pending: list[tuple[int, int]] = []

    def settle() -> None:
        if not pending:
            return
        listed = (
            fulltext.listed_before(conn, q, [c for c, _ in pending], before) if before is not None else set()
        )
        out.extend(p for p in pending if p[0] not in listed)
        pending.clear()

    for cid, hit in stream:
        if cid in seen:
            continue
        seen.add(cid)
        pending.append((cid, hit))
        if len(out) + len(pending) >= limit:
            settle()
            if len(out) >= limit:
                break
    settle()
    return out[:limit]


def search(
    engine: Engine, query: str, *, limit: int = 50, cursor: str | None = None, now: datetime | None = None
) -> InboxPage:
    """Conversations with a message matching every word of the query; row.matched_text is the hit."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"page size must be between 1 and {MAX_LIMIT}")
    words = terms(query)
    before = int(decode_cursor(cursor, "search")["k"]) if cursor else None
    with engine.connect() as conn:
        hits = _hits(conn, words, before, limit + 1)
        page = hits[:limit]
        texts = (
            {
                r.conversation_id: r.text
                for r in conn.execute(
                    sa.select(messages.c.conversation_id, messages.c.text).where(
                        messages.c.id.in_([h for _, h in page])
                    )
                )
            }
            if page
            else {}
        )
        rows = build_rows(conn, [cid for cid, _ in page], now, matched=texts)
    nxt = encode_cursor({"s": "search", "k": page[-1][1]}) if len(hits) > limit else None
    return InboxPage(rows, nxt)
