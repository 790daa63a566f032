"""Fault injection for read responses: deterministic given a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FAULT_KINDS = ("rate_limit", "server_error", "timeout", "malformed", "duplicate_page", "out_of_order")
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
    _rng: random.Random = field(default_factory=lambda: random.Random(0))

    def configure(self, rate: float, kinds: list[str] | None, seed: int | None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise FaultConfigError("rate must be between 0 and 1 (0 turns faults off)")
        chosen: list[str] = []
        for kind in kinds or list(FAULT_KINDS):
            name = ALIASES.get(str(kind), str(kind))
            if name not in FAULT_KINDS:
                raise FaultConfigError(f"unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS)}")
            chosen.append(name)
        self.rate = rate
        self.kinds = tuple(chosen)
        if seed is not None:
            self.seed = seed
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        """The fault for the next read response, or None. Call under the state's lock."""
        if self.rate <= 0 or not self.kinds:
            return None
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(self.kinds)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind

    def shuffle(self, items: list[object]) -> None:
        self._rng.shuffle(items)

    def describe(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "seed": self.seed,
            "injected": dict(self.injected),
        }
