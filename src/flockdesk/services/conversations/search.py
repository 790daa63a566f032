"""Full-text search over message text, returning conversations (newest matching message first).

SQLite uses the FTS5 table messages_fts (migration 0002), PostgreSQL the GIN index on
to_tsvector('simple', text). The user's words are matched as plain terms (all must occur), each as
a prefix ("delay" finds "delayed"): the query is rebuilt from the letters and digits of the input, so
FTS operators typed by the user are treated as text, never as query syntax. Pages are keyset-paged on
the id of each conversation's newest matching message; a conversation is listed once, on the page of
its newest match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
from flockdesk.store.schema import messages

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits: what both FTS tokenizers keep
MAX_TERMS = 16


def terms(query: str) -> list[str]:
    words = [w.lower() for w in WORD_RE.findall(query)][:MAX_TERMS]
    if not words:
        raise InvalidInput("type at least one word to search for")
    return words


SQLITE_HITS = (
    "SELECT m.conversation_id AS cid, f.rowid AS hit FROM messages_fts f JOIN messages m ON m.id = f.rowid "
    "WHERE messages_fts MATCH :q AND f.rowid < :upper ORDER BY f.rowid DESC LIMIT :n"
)
SQLITE_LISTED = (
    "SELECT DISTINCT m.conversation_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
    "WHERE messages_fts MATCH :q AND f.rowid >= :before AND m.conversation_id IN ({ids})"
)
PG_SCAN = (
    "SELECT conversation_id AS cid, id AS hit, "
    "CASE WHEN {prefilter} THEN to_tsvector('simple', text) @@ to_tsquery('simple', :q) ELSE false END "
    "AS matched FROM messages WHERE id < :upper ORDER BY id DESC LIMIT :n"
)
PG_GIN = (
    "SELECT conversation_id AS cid, id AS hit FROM messages "
    "WHERE to_tsvector('simple', text) @@ to_tsquery('simple', :q) AND id + 0 < :upper "
    "ORDER BY id DESC"
)
PG_LISTED = (
    "SELECT DISTINCT conversation_id FROM messages WHERE conversation_id IN ({ids}) AND id >= :before "
    "AND to_tsvector('simple', text) @@ to_tsquery('simple', :q)"
)
# PostgreSQL cannot read a GIN index in id order, and its planner cannot tell a rare word from a common
# one: left alone it either walks the primary key backwards computing to_tsvector on every row (seconds
# for a rare word) or reads every hit of a common word through the GIN index (its whole posting list).
# So the newest PG_PROBE_ROWS messages are checked directly first; when they hold at least
# PG_COMMON_HITS hits the word is common and the scan goes on backwards in growing chunks (the page
# fills within a few thousand rows), otherwise the older hits are read through the GIN index alone
# (`id + 0` keeps the primary key out of that plan; a rare word's hits are few).
PG_PROBE_ROWS = 1000
PG_COMMON_HITS = 5
PG_MAX_CHUNK = 64_000
NO_UPPER = 2**62


def _query_text(conn: Connection, words: list[str]) -> str:
    """The engine's query for `words`, every word a quoted prefix term, all required: FTS5
    `"delay"* "bag"*`, PostgreSQL tsquery `'delay':* & 'bag':*`. Words hold letters and digits only
    (WORD_RE); quoting them as well keeps any character a literal."""
    if conn.dialect.name == "sqlite":
        return " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    return " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in words)


def _sqlite_stream(conn: Connection, q: str, upper: int) -> Iterator[tuple[int, int]]:
    batch = 256
    while True:
        rows = conn.execute(sa.text(SQLITE_HITS), {"q": q, "upper": upper, "n": batch}).all()
        yield from ((int(cid), int(hit)) for cid, hit in rows)
        if len(rows) < batch:
            return
        upper, batch = int(rows[-1][1]), min(batch * 2, 10_000)


def _pg_scan(words: list[str]) -> tuple[sa.TextClause, dict[str, str]]:
    """PG_SCAN with a cheap ILIKE pre-check per word (a word of the text is a substring of it), so that
    to_tsvector, costly, only parses the rows that may match."""
    params = {f"w{i}": f"%{w}%" for i, w in enumerate(words)}  # words hold no LIKE wildcards (WORD_RE)
    prefilter = " AND ".join(f"text ILIKE :{name}" for name in params)
    return sa.text(PG_SCAN.format(prefilter=prefilter)), params


def _pg_stream(
    conn: Connection, q: str, words: list[str], upper: int, want: int
) -> Iterator[tuple[int, int]]:
    chunk, hits, scanned = PG_PROBE_ROWS, 0, 0
    scan, word_params = _pg_scan(words)
    conn.exec_driver_sql("SET LOCAL jit = off")  # compiling a plan costs more than these short queries
    while True:
        rows = conn.execute(scan, {"q": q, "upper": upper, "n": chunk, **word_params}).all()
        for cid, hit, matched in rows:
            if matched:
                hits += 1
                yield int(cid), int(hit)
        if len(rows) < chunk:
            return
        upper, scanned = int(rows[-1][1]), scanned + len(rows)
        if hits < PG_COMMON_HITS:
            break  # a rare word: read its older hits through the GIN index
        # enough rows for the rest of the page at the hit rate seen so far, with a margin
        chunk = int(min(PG_MAX_CHUNK, max(PG_PROBE_ROWS, 1.5 * max(want - hits, 1) * scanned / hits)))
    conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rest = conn.execute(sa.text(PG_GIN), {"q": q, "upper": upper}).all()  # buffered
    conn.exec_driver_sql("SET LOCAL enable_indexscan = on")
    conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
    yield from ((int(cid), int(hit)) for cid, hit in rest)


def _listed_before(conn: Connection, q: str, cids: list[int], before: int) -> set[int]:
    """Those of these conversations with a match at or above the cursor: they were on an earlier page."""
    ids = ", ".join(str(int(c)) for c in cids)  # integers from the store, never user text
    sql = (SQLITE_LISTED if conn.dialect.name == "sqlite" else PG_LISTED).format(ids=ids)
    return {int(r[0]) for r in conn.execute(sa.text(sql), {"q": q, "before": before})}


def _hits(conn: Connection, words: list[str], before: int | None, limit: int) -> list[tuple[int, int]]:
    """(conversation id, id of its newest matching message) pairs, newest first, below the cursor.

    Hits are streamed newest first and reading stops once `limit` conversations are found, so a common
    word costs about what a rare one does.
    """
    q = _query_text(conn, words)
    upper = before if before is not None else NO_UPPER
    stream = (
        _sqlite_stream(conn, q, upper)
        if conn.dialect.name == "sqlite"
        else _pg_stream(conn, q, words, upper, limit)
    )
    seen: set[int] = set()
    out: list[tuple[int, int]] = []
    pending: list[tuple[int, int]] = []

    def settle() -> None:
        if not pending:
            return
        listed = _listed_before(conn, q, [c for c, _ in pending], before) if before is not None else set()
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
