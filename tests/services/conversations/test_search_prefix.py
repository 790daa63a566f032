"""Search matches each word as a prefix, on SQLite and PostgreSQL, and user text stays plain text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from flockdesk.services.conversations import inbox
from tests.services.seed import T0, account, contact, conversation, message


def _convs(engine: Engine, texts: list[str]) -> list[int]:
    acct = account(engine)
    ids = []
    for n, text in enumerate(texts):
        cid = conversation(engine, acct, contact(engine, username=f"p{n}"))
        message(engine, cid, text, at=T0 + timedelta(minutes=n))
        ids.append(cid)
    return ids


def _found(engine: Engine, query: str) -> set[int]:
    return {r.conversation_id for r in inbox.search(engine, query, limit=50).rows}


def test_each_word_matches_as_a_prefix(engine: Engine) -> None:
    ids = _convs(
        engine,
        [
            "my flight was delayed again",  # 0
            "Delays everywhere, bags lost",  # 1
            "the delay was short",  # 2
            "relay race tonight",  # 3: "delay" is inside a word, not its start
            "bag delivered fine",  # 4
        ],
    )
    assert _found(engine, "delay") == {ids[0], ids[1], ids[2]}
    assert _found(engine, "DELAY bag") == {ids[1]}  # every word must match (as a prefix)
    assert _found(engine, "bag") == {ids[1], ids[4]}
    assert _found(engine, "delayed") == {ids[0]}  # a longer word is not cut down
    assert _found(engine, "lay") == set()
    row = inbox.search(engine, "delay", limit=1).rows[0]
    assert row.conversation_id == ids[2] and row.matched_text == "the delay was short"  # newest first


@pytest.mark.parametrize(
    "query",
    [
        "delay:* | relay",
        "delay' | 'relay",
        "!delay & (relay)",
        '"delay" OR relay*',
        "delay NOT relay",
        "delay <-> relay",
        "delay\\ relay",
    ],
)
def test_query_syntax_typed_by_the_user_is_plain_text(engine: Engine, query: str) -> None:
    ids = _convs(engine, ["delay and relay both here", "relay only", "delayed only"])
    # the words are "delay" and "relay" (plus plain "or"/"not" words where typed): never operators
    expected = {ids[0]} if "OR" not in query and "NOT" not in query else set()
    assert _found(engine, query) == expected
