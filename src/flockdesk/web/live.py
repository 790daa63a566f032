"""Cheap change markers for live updates: the newest message, outbox row and audit event ids."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine

from flockdesk.services.conversations import lookups as web_lookups


class LiveHub:
    """Shares one store poll among every open event stream (at most one query set per interval)."""

    def __init__(self, engine: Engine, min_interval_s: float = 0.8) -> None:
        self.engine = engine
        self.min_interval_s = min_interval_s
        self._lock = threading.Lock()
        self._at = 0.0
        self._snap: dict[str, Any] = {}
        self.closed = False

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            if time.monotonic() - self._at < self.min_interval_s and self._snap:
                return dict(self._snap)
            snap = web_lookups.change_markers(self.engine)
            self._snap, self._at = snap, time.monotonic()
            return dict(snap)
