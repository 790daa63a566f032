"""Per-user and per-app request windows with X's 15-minute limits, shortened by a speed-up factor."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

WINDOW_S = 900.0

# endpoint key -> (per-user limit, per-app limit or None when app-only auth is not allowed)
LIMITS: dict[str, tuple[int, int | None]] = {
    "mentions": (300, 450),
    "search": (300, 450),
    "user_tweets": (900, 1500),
    "dm_events": (15, None),
    "post_tweet": (100, None),
    "post_dm": (15, None),
    "hide_reply": (50, None),
    "followers": (300, 300),
    "users_me": (75, None),
    "activity_subscriptions": (300, 300),
    "activity_subscription": (300, 300),
    "activity_stream": (450, 450),  # connects per 15 minutes
    "webhooks": (50, 50),
    "webhooks_replay": (50, 50),
    "removed": (50, None),
    # X Chat: X publishes no figures for these; generous enough for one desk polling its inbox
    "chat_conversations": (300, None),
    "chat_conversation": (300, None),
    "chat_events": (900, None),
    "chat_send": (300, None),
    "chat_keys": (100, None),
    "chat_read": (300, None),
    "chat_typing": (300, None),
    "public_keys": (300, None),
    "add_public_key": (10, None),
}


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix seconds

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class RateLimiter:
    """Fixed windows per (identity, endpoint). Not thread-safe by itself; the state's lock guards it."""

    def __init__(self, speedup: float = 1.0) -> None:
        self.speedup = speedup
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    @property
    def window_s(self) -> float:
        return WINDOW_S / max(self.speedup, 1e-9)

    def _limit(self, endpoint: str, app_only: bool) -> int:
        user, app = LIMITS[endpoint]
        return app if app_only and app is not None else user

    def hit(self, identity: str, endpoint: str, app_only: bool, now: float | None = None) -> Verdict:
        """Count one request and say whether it is allowed."""
        return self._check(identity, endpoint, app_only, consume=True, now=now)

    def peek(self, identity: str, endpoint: str, app_only: bool, now: float | None = None) -> Verdict:
        return self._check(identity, endpoint, app_only, consume=False, now=now)

    def _check(
        self, identity: str, endpoint: str, app_only: bool, consume: bool, now: float | None
    ) -> Verdict:
        now = time.time() if now is None else now
        limit = self._limit(endpoint, app_only)
        key = (identity, endpoint)
        start, count = self._windows.get(key, (now, 0))
        if now >= start + self.window_s:
            start, count = now, 0
        reset = math.ceil(start + self.window_s)
        if count >= limit:
            self._windows[key] = (start, count)
            return Verdict(False, limit, 0, reset)
        if consume:
            count += 1
            self._windows[key] = (start, count)
        return Verdict(True, limit, limit - count, reset)

    def reset_all(self) -> None:
        self._windows.clear()
