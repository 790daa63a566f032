"""Presence (the collision warning) is stored, so every web process sees every viewer; rows expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import NotFound
from flockdesk.services.team import presence
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine
from flockdesk.store.schema import presence as presence_t
from tests.services.seed import T0, world


def test_presence_shows_others_and_expires(engine: Engine) -> None:
    ids = world(engine)
    cid, other = ids["public"], ids["dm"]
    alice, bob = ids["agent"], ids["bob"]
    presence.touch(engine, cid, alice, "alice", now=T0)
    presence.touch(engine, cid, bob, "bob", typing=True, now=T0)
    others = presence.others(engine, cid, alice, now=T0 + timedelta(seconds=5))
    assert [(p.username, p.typing) for p in others] == [("bob", True)]
    presence.touch(engine, cid, bob, "bob", now=T0 + timedelta(seconds=3))  # a view keeps typing
    assert presence.others(engine, cid, alice, now=T0 + timedelta(seconds=5))[0].typing is True
    assert presence.others(engine, cid, alice, now=T0 + timedelta(seconds=20))[0].typing is False
    assert presence.others(engine, cid, alice, now=T0 + timedelta(seconds=34)) == []
    presence.touch(engine, other, bob, "bob", now=T0)
    presence.leave(engine, other, bob)
    assert presence.others(engine, other, alice, now=T0) == []


def test_a_second_web_process_sees_the_first_ones_viewers(engine: Engine, settings: Settings) -> None:
    ids = world(engine)
    second = make_engine(settings)  # another process's connection pool on the same store
    try:
        presence.touch(engine, ids["public"], ids["bob"], "bob", typing=True)
        seen = presence.others(second, ids["public"], ids["agent"])
        assert [(p.username, p.typing) for p in seen] == [("bob", True)]
    finally:
        second.dispose()


def test_expired_rows_are_purged(engine: Engine) -> None:
    ids = world(engine)
    presence.touch(engine, ids["public"], ids["agent"], "alice", now=T0)
    presence.touch(engine, ids["public"], ids["bob"], "bob", now=T0 + timedelta(seconds=25))
    assert presence.purge_expired(engine, now=T0 + timedelta(seconds=40)) == 1
    with engine.connect() as conn:
        left = conn.execute(sa.select(presence_t.c.username)).scalars().all()
    assert left == ["bob"]


def test_presence_in_a_conversation_that_does_not_exist_is_not_found(engine: Engine) -> None:
    ids = world(engine)
    with pytest.raises(NotFound, match="does not exist"):
        presence.touch(engine, 424242, ids["agent"], "alice")
