"""Fault injection: deterministic given a seed.

Read faults (FAULT_KINDS) hit read endpoints. The write fault `lost_response` hits writes only and only
when asked for by name: the write is applied (the post or DM exists on the platform), then the answer
is lost (a 503 instead of the 201), as when a connection drops after X accepted the request.

Stream faults cut persistent activity streams: `stream_cut_after` ends every connection after that many
delivered events, `stream_drop_rate` ends it after any delivered event with that probability, and
`stream_drop_every_s` ends it that many seconds after it caught up with its backfill, with or without
traffic (X's operational disconnects). Backfilled events count for none of them, so a client that
reconnects with backfill always gets further.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FAULT_KINDS = ("rate_limit", "server_error", "timeout", "malformed", "duplicate_page", "out_of_order")
WRITE_FAULT_KINDS = ("lost_response",)
ALIASES = {
    "429": "rate_limit",
    "500": "server_error",
    "duplicate": "duplicate_page",
    "duplicated": "duplicate_page",
}


class FaultConfigError(ValueError):
    pass


@dataclass
class FaultInjector:
    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    stream_cut_after: int | None = None
    stream_drop_rate: float = 0.0
    stream_drop_every_s: float | None = None
    _rng: random.Random = field(default_factory=lambda: random.Random(0))

    def configure(self, rate: float, kinds: list[str] | None, seed: int | None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise FaultConfigError("rate must be between 0 and 1 (0 turns faults off)")
        chosen: list[str] = []
        for kind in kinds or list(FAULT_KINDS):
            name = ALIASES.get(str(kind), str(kind))
            if name not in FAULT_KINDS + WRITE_FAULT_KINDS:
                raise FaultConfigError(
                    f"unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS + WRITE_FAULT_KINDS)}"
                )
            chosen.append(name)
        self.rate = rate
        self.kinds = tuple(chosen)
        if seed is not None:
            self.seed = seed
        self._rng = random.Random(self.seed)

    def draw(self, *, write: bool = False) -> str | None:
        """The fault for the next read (or write) response, or None. Call under the state's lock."""
        kinds = [k for k in self.kinds if (k in WRITE_FAULT_KINDS) == write]
        if self.rate <= 0 or not kinds:
            return None
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(kinds)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind

    def configure_stream(self, cut_after: int | None, drop_rate: float, every_s: float | None = None) -> None:
        if cut_after is not None and cut_after < 1:
            raise FaultConfigError("stream_cut_after must be 1 or more (null turns it off)")
        if not 0.0 <= drop_rate <= 1.0:
            raise FaultConfigError("stream_drop_rate must be between 0 and 1 (0 turns it off)")
        if every_s is not None and not every_s > 0:
            raise FaultConfigError(
                "stream_drop_every_s must be a positive number of seconds (null turns it off)"
            )
        self.stream_cut_after = cut_after
        self.stream_drop_rate = drop_rate
        self.stream_drop_every_s = every_s

    def stream_cut(self, delivered: int) -> bool:
        """Whether a stream that has delivered `delivered` events on this connection is cut now."""
        cut = (self.stream_cut_after is not None and delivered >= self.stream_cut_after) or (
            self.stream_drop_rate > 0 and self._rng.random() < self.stream_drop_rate
        )
        if cut:
            self.injected["stream_cut"] = self.injected.get("stream_cut", 0) + 1
        return cut

    def stream_expired(self, live_for_s: float) -> bool:
        """Whether a connection that has been live (past its backfill) for `live_for_s` is dropped now."""
        expired = self.stream_drop_every_s is not None and live_for_s >= self.stream_drop_every_s
        if expired:
            self.injected["stream_cut"] = self.injected.get("stream_cut", 0) + 1
        return expired

    def shuffle(self, items: list[object]) -> None:
        self._rng.shuffle(items)

    def describe(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "seed": self.seed,
            "injected": dict(self.injected),
            "stream_cut_after": self.stream_cut_after,
            "stream_drop_rate": self.stream_drop_rate,
            "stream_drop_every_s": self.stream_drop_every_s,
        }
