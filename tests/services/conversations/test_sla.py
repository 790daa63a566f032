from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.services.conversations import sla
from flockdesk.services.team import audit
from tests.services.seed import world

MON_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday


def test_default_targets_and_colors() -> None:
    policies = sla.default_policies()
    assert sla.clock(None, "dm", policies, MON_9).state == "none"
    assert sla.clock(MON_9, "dm", policies, MON_9 + timedelta(minutes=30)).color == "green"
    assert sla.clock(MON_9, "dm", policies, MON_9 + timedelta(minutes=45)).state == "warning"
    assert sla.clock(MON_9, "dm", policies, MON_9 + timedelta(minutes=61)).color == "red"
    assert sla.clock(MON_9, "search", policies, MON_9 + timedelta(minutes=61)).state == "ok"


def test_business_hours_stop_the_clock_overnight_and_at_weekends() -> None:
    hours = sla.BusinessHours.from_json(
        {"tz": "Europe/London", "days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}
    )
    policies = {"mention": sla.SlaPolicy("mention", 60, hours)}
    friday_1630 = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
    monday_0920 = datetime(2026, 11, 23, 9, 20, tzinfo=UTC)
    c = sla.clock(friday_1630, "mention", policies, monday_0920)
    assert c.waited_minutes == 50 and c.state == "warning"
    summer = {"mention": sla.SlaPolicy("mention", 60, hours)}
    july = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 09:00 in London (BST)
    assert sla.clock(july, "mention", summer, july + timedelta(minutes=30)).waited_minutes == 30


def test_policies_are_stored_by_managers_only(engine: Engine) -> None:
    ids = world(engine)
    sla.set_policy(
        engine,
        ids["manager"],
        "dm",
        15,
        {"tz": "UTC", "days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59"},
    )
    policies = sla.get_policies(engine)
    assert policies["dm"].first_response_minutes == 15 and policies["dm"].business_hours is not None
    assert policies["mention"].first_response_minutes == 60
    sla.set_policy(engine, ids["manager"], "dm", 30)
    assert sla.get_policies(engine)["dm"] == sla.SlaPolicy("dm", 30, None)
    with pytest.raises(PermissionError):
        sla.set_policy(engine, ids["agent"], "dm", 5)
    with pytest.raises(InvalidInput, match="unknown channel"):
        sla.set_policy(engine, ids["manager"], "email", 5)
    with pytest.raises(InvalidInput, match="business hours"):
        sla.set_policy(engine, ids["manager"], "dm", 5, {"tz": "Mars/Olympus"})
    assert len(audit.list_events(engine, action="sla.set")) == 2
