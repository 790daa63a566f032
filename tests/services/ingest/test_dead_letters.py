"""Dead letters are stored once per (origin, reason, payload), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine

from flockdesk.domain.types import DeadLetter
from flockdesk.services.ingest.importer import import_file
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.ingest.write import dead_letter_fingerprint
from flockdesk.store.db import alembic_config, upgrade
from flockdesk.store.schema import dead_letters
from tests.services.ingest.builders import make_account, mentions, page, tweet


def _stored(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    q = sa.select(
        dead_letters.c.origin, dead_letters.c.reason, dead_letters.c.payload, dead_letters.c.fingerprint
    )
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q.order_by(dead_letters.c.id))]


def test_same_dead_letter_is_stored_once(engine: Engine, account_id: int) -> None:
    ingestor = Ingestor(engine)
    bad = DeadLetter("x:mentions", "no id", '{"text": "x"}')
    first = ingestor.ingest_page(account_id, mentions(tweet("1", "200")), dead=[bad, bad])
    again = ingestor.ingest_page(account_id, [], dead=[bad])
    assert (first.dead_letters, again.dead_letters) == (1, 0)
    others = [
        DeadLetter("x:mentions", "no id", '{"text": "y"}'),  # another payload
        DeadLetter("x:mentions", "no author", '{"text": "x"}'),  # another reason
        DeadLetter("x:search", "no id", '{"text": "x"}'),  # another origin
    ]
    assert ingestor.ingest_page(account_id, [], dead=[bad, *others]).dead_letters == 3
    rows = _stored(engine)
    assert len(rows) == 4
    assert {r[3] for r in rows} == {dead_letter_fingerprint(r[0], r[1], r[2]) for r in rows}


def test_nul_payload_is_deduplicated_as_stored(engine: Engine, account_id: int) -> None:
    ingestor = Ingestor(engine)
    bad = DeadLetter("x:dm", "bad event", "a\x00b")
    ingestor.ingest_page(account_id, [], dead=[bad])
    ingestor.ingest_page(account_id, [], dead=[bad])
    rows = _stored(engine)
    assert len(rows) == 1 and "\x00" not in rows[0][2]


def test_reimporting_a_file_adds_no_duplicate_dead_letters(
    engine: Engine, account_id: int, tmp_path: Path
) -> None:
    path = tmp_path / "broken.jsonl"
    good = orjson.dumps(page(tweet("9", "200", "@acme hi"))).decode()
    path.write_text(good + '\n{"data": {"id": "10", "text": "cut off"\n{not json at all\n')
    import_file(engine, path, account_id, triage=False)
    once = _stored(engine)
    assert len(once) == 2 and all("line" in r[1] for r in once)
    report = import_file(engine, path, account_id, triage=False)
    assert report.result is not None and report.result.dead_letters == 0
    assert len(report.bad_lines) == 2  # still reported to the user each time
    assert _stored(engine) == once


def test_migration_keeps_old_duplicates_and_fingerprints_the_first(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0006")
    row = {"origin": "import:a.jsonl:3", "reason": "line 3: malformed JSON", "payload": "{x"}
    with engine.begin() as conn:
        insert = sa.text(
            "INSERT INTO dead_letters (origin, reason, payload, created_at) "
            "VALUES (:origin, :reason, :payload, CURRENT_TIMESTAMP)"
        )
        conn.execute(insert, [row, row, {**row, "payload": "{y"}])
    upgrade(engine)
    rows = _stored(engine)
    assert len(rows) == 3  # nothing stored is lost
    fps = [r[3] for r in rows]
    assert fps.count(None) == 1
    assert set(fps) - {None} == {dead_letter_fingerprint(r[0], r[1], r[2]) for r in rows}
    # the ingest path recognises the filled-in row as the same dead letter
    assert Ingestor(engine).ingest_page(_account(engine), [], dead=[DeadLetter(**row)]).dead_letters == 0


def _account(engine: Engine) -> int:
    return make_account(engine)
