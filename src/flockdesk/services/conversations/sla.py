"""SLA policies: a first-response target per channel, optionally counted in business hours.

The inbox shows each waiting conversation's clock coloured by `clock()`: green while under 75 % of
the target, amber from 75 %, red once breached, grey when nobody is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.services.team import audit
from flockdesk.store.schema import sla_policies

DEFAULT_TARGETS: dict[str, int] = {"dm": 60, "mention": 60, "search": 240}
CHANNELS = tuple(DEFAULT_TARGETS)
WARNING_FRACTION = 0.75
COLORS = {"none": "grey", "ok": "green", "warning": "amber", "breached": "red"}
MAX_SPAN_DAYS = 370  # business-hours counting stops here; a year of waiting is breached anyway


@dataclass(frozen=True, slots=True)
class BusinessHours:
    tz: str
    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BusinessHours:
        try:
            tz = str(data.get("tz", "UTC"))
            ZoneInfo(tz)
            days = tuple(sorted({int(d) for d in data.get("days", [0, 1, 2, 3, 4])}))
            start = time.fromisoformat(str(data.get("start", "09:00")))
            end = time.fromisoformat(str(data.get("end", "17:00")))
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise InvalidInput(
                f"business hours {data!r} are not valid ({exc}); give tz like 'Europe/London', "
                "days as 0-6 (Monday=0), start/end as HH:MM"
            ) from exc
        if not days or any(d < 0 or d > 6 for d in days):
            raise InvalidInput("business hours need at least one day, each 0-6 (Monday=0)")
        if end <= start:
            raise InvalidInput("business hours must end after they start (e.g. start 09:00, end 17:00)")
        return cls(tz=tz, days=days, start=start, end=end)

    def to_json(self) -> dict[str, Any]:
        return {
            "tz": self.tz,
            "days": list(self.days),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }

    def minutes_between(self, a: datetime, b: datetime) -> float:
        """Business minutes in [a, b)."""
        if b <= a:
            return 0.0
        zone = ZoneInfo(self.tz)
        la, lb = as_utc(a).astimezone(zone), as_utc(b).astimezone(zone)
        day = la.date()
        last = min(lb.date(), day + timedelta(days=MAX_SPAN_DAYS))
        total = 0.0
        while day <= last:
            if day.weekday() in self.days:
                open_at = datetime.combine(day, self.start, zone)
                close_at = datetime.combine(day, self.end, zone)
                lo, hi = max(open_at, la), min(close_at, lb)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
            day += timedelta(days=1)
        return total


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    channel: str
    first_response_minutes: int
    business_hours: BusinessHours | None = None


@dataclass(frozen=True, slots=True)
class SlaClock:
    state: str  # none | ok | warning | breached
    waited_minutes: float
    target_minutes: int
    color: str


def default_policies() -> dict[str, SlaPolicy]:
    return {ch: SlaPolicy(ch, minutes) for ch, minutes in DEFAULT_TARGETS.items()}


def clock(
    waiting_since: datetime | None, channel: str, policies: dict[str, SlaPolicy], now: datetime | None = None
) -> SlaClock:
    policy = policies.get(channel) or SlaPolicy(channel, DEFAULT_TARGETS.get(channel, 60))
    if waiting_since is None:
        return SlaClock("none", 0.0, policy.first_response_minutes, COLORS["none"])
    now = as_utc(now) if now else utcnow()
    start = as_utc(waiting_since)
    if policy.business_hours is not None:
        waited = policy.business_hours.minutes_between(start, now)
    else:
        waited = max(0.0, (now - start).total_seconds() / 60)
    target = policy.first_response_minutes
    if waited >= target:
        state = "breached"
    elif waited >= WARNING_FRACTION * target:
        state = "warning"
    else:
        state = "ok"
    return SlaClock(state, round(waited, 1), target, COLORS[state])


def get_policies(engine: Engine) -> dict[str, SlaPolicy]:
    """The stored policies over the defaults."""
    with engine.connect() as conn:
        return get_policies_conn(conn)


def get_policies_conn(conn: Connection) -> dict[str, SlaPolicy]:
    policies = default_policies()
    for row in conn.execute(sa.select(sla_policies)).mappings():
        hours = BusinessHours.from_json(row["business_hours"]) if row["business_hours"] else None
        policies[row["channel"]] = SlaPolicy(row["channel"], int(row["first_response_minutes"]), hours)
    return policies


def set_policy(
    engine: Engine,
    user_id: int,
    channel: str,
    first_response_minutes: int,
    business_hours: BusinessHours | dict[str, Any] | None = None,
) -> SlaPolicy:
    """Create or replace one channel's policy (managers and admins)."""
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}: use one of {', '.join(CHANNELS)}")
    if not isinstance(first_response_minutes, int) or first_response_minutes <= 0:
        raise InvalidInput("the first-response target must be a whole number of minutes above 0")
    hours = BusinessHours.from_json(business_hours) if isinstance(business_hours, dict) else business_hours
    with engine.begin() as conn:
        actor = audit.manager_name(conn, user_id, "change SLA policies")
        values = {
            "first_response_minutes": first_response_minutes,
            "business_hours": hours.to_json() if hours else None,
        }
        done = conn.execute(sla_policies.update().where(sla_policies.c.channel == channel).values(**values))
        if done.rowcount == 0:
            conn.execute(sla_policies.insert().values(channel=channel, **values))
        audit.record(conn, user_id, actor, "sla.set", "sla_policy", channel, values)
    return SlaPolicy(channel, first_response_minutes, hours)
