"""Full-text search SQL for both backends: SQLite's FTS5 table messages_fts (migration 0002) and
PostgreSQL's GIN index on to_tsvector('simple', text). Callers get (conversation id, message id) hits
newest first; services/conversations/search.py turns them into pages of conversations."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import Connection

from flockdesk.store.dialect import is_sqlite

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


def query_text(conn: Connection, words: list[str]) -> str:
    """The engine's query for `words`, every word a quoted prefix term, all required: FTS5
    `"delay"* "bag"*`, PostgreSQL tsquery `'delay':* & 'bag':*`. Words hold letters and digits only
    (WORD_RE); quoting them as well keeps any character a literal."""
    if is_sqlite(conn):
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


def listed_before(conn: Connection, q: str, cids: list[int], before: int) -> set[int]:
    """Those of these conversations with a match at or above the cursor: they were on an earlier page."""
    ids = ", ".join(str(int(c)) for c in cids)  # integers from the store, never user text
    sql = (SQLITE_LISTED if is_sqlite(conn) else PG_LISTED).format(ids=ids)
    return {int(r[0]) for r in conn.execute(sa.text(sql), {"q": q, "before": before})}


def hits(conn: Connection, q: str, words: list[str], upper: int, want: int) -> Iterator[tuple[int, int]]:
    """(conversation id, message id) of every message matching `q` below `upper`, newest first; `want`
    is how many conversations the caller expects to read (PostgreSQL sizes its scan from it)."""
    return _sqlite_stream(conn, q, upper) if is_sqlite(conn) else _pg_stream(conn, q, words, upper, want)
