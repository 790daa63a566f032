from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from flockdesk.services.team import audit
from tests.services.seed import world


def test_record_and_filter_and_page(engine: Engine) -> None:
    ids = world(engine)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for i in range(5):
            audit.record(
                conn,
                ids["agent"],
                "alice",
                "conversation.tag",
                "conversation",
                i,
                {"tag": f"t{i}"},
                at=t + timedelta(minutes=i),
            )
        audit.record(conn, None, "system", "conversation.snooze_due", "conversation", 1, None, at=t)
    assert [e.target_id for e in audit.list_events(engine, action="conversation.tag", limit=2)] == ["4", "3"]
    first = audit.list_events(engine, actor_user_id=ids["agent"], limit=3)
    rest = audit.list_events(engine, actor_user_id=ids["agent"], before_id=first[-1].id)
    assert [e.details for e in first + rest] == [{"tag": f"t{i}"} for i in (4, 3, 2, 1, 0)]
    assert [e.actor for e in audit.list_events(engine, target_type="conversation", target_id=1)] == [
        "system",
        "alice",
    ]
    window = audit.list_events(engine, since=t + timedelta(minutes=1), until=t + timedelta(minutes=3))
    assert sorted(e.target_id or "" for e in window) == ["1", "2"]
    assert first[0].at == t + timedelta(minutes=4)
