"""Scenario files (JSON in `scenarios/`): the org account, a cast of authors, a crowd recipe, slot values
and message templates. Loading is cached; users get stable ids derived from their handle."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from flockdesk.emulator.model import User

KINDS = ("mention", "reply", "dm", "chat", "hashtag", "name", "retweet", "spam", "org_reply", "org_dm")
# X Chat traffic: chances per chat message of a key rotation first, of arriving garbled, of a new group
CHAT_DEFAULTS = {"rotate": 0.05, "garbled": 0.02, "group": 0.03, "answer": 0.7}


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    org: User
    hashtags: list[str]
    names: list[str]
    mix: dict[str, float]
    cast: list[dict[str, Any]]
    crowd: dict[str, Any]
    spammers: list[dict[str, Any]]
    slots: dict[str, list[str]]
    templates: dict[str, list[str]]
    tails: tuple[str, ...] = ()
    opt_outs: tuple[str, ...] = ()  # whole DMs that opt out of further messages ("stop", "abmelden")
    opt_out_templates: tuple[str, ...] = ()  # DM templates that are opt-outs (ground truth)
    not_opt_outs: tuple[str, ...] = ()  # slot values such a template may yield that are not opt-outs
    chat: tuple[tuple[str, float], ...] = tuple(CHAT_DEFAULTS.items())

    def chat_chance(self, key: str) -> float:
        return dict(self.chat).get(key, CHAT_DEFAULTS[key])

    def template(self, key: str) -> list[str]:
        return self.templates.get(key) or []


def stable_user_id(scenario: str, username: str) -> str:
    digest = hashlib.sha256(f"{scenario}:{username.lower()}".encode()).digest()
    return str(10**15 + int.from_bytes(digest[:8], "big") % (9 * 10**17))


USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


def user_from(scenario: str, raw: dict[str, Any]) -> User:
    if not USERNAME_RE.match(str(raw.get("username", ""))):
        raise ScenarioError(f"username {raw.get('username')!r} must be 1-15 letters, digits or _")
    return User(
        id=str(raw.get("id") or stable_user_id(scenario, raw["username"])),
        username=raw["username"],
        name=raw["name"],
        description=raw.get("description", ""),
        followers_count=int(raw.get("followers_count", 100)),
        following_count=int(raw.get("following_count", 150)),
        verified=bool(raw.get("verified", False)),
        created_at=raw.get("created_at", "2016-05-02T10:12:00.000Z"),
        location=raw.get("location"),
        role=raw.get("role", "customer"),
    )


def available() -> list[str]:
    files = resources.files("flockdesk.emulator").joinpath("scenarios")
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".json"))


@lru_cache(maxsize=16)
def load_scenario(name: str) -> Scenario:
    if name not in available():
        raise ScenarioError(f"unknown scenario {name!r}; choose from: {', '.join(available())}")
    path = resources.files("flockdesk.emulator").joinpath("scenarios", f"{name}.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    mix = {k: float(v) for k, v in raw["mix"].items()}
    unknown = set(mix) - set(KINDS)
    if unknown:
        raise ScenarioError(f"scenario {name!r} has unknown kinds in mix: {sorted(unknown)}")
    return Scenario(
        name=name,
        description=raw.get("description", ""),
        org=user_from(name, raw["org"]),
        hashtags=raw["hashtags"],
        names=raw["names"],
        mix=mix,
        cast=raw.get("cast", []),
        crowd=raw["crowd"],
        spammers=raw.get("spammers", []),
        slots=raw.get("slots", {}),
        templates=raw["templates"],
        tails=tuple(raw.get("tails", ())),
        opt_outs=tuple(raw.get("opt_outs", ())),
        opt_out_templates=tuple(raw.get("opt_out_templates", ())),
        not_opt_outs=tuple(raw.get("not_opt_outs", ())),
        chat=_chat_settings(name, raw.get("chat", {})),
    )


def _chat_settings(name: str, raw: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(raw, dict) or set(raw) - set(CHAT_DEFAULTS):
        raise ScenarioError(f"scenario {name!r}: `chat` takes chances for {sorted(CHAT_DEFAULTS)}")
    merged = {**CHAT_DEFAULTS, **{k: float(v) for k, v in raw.items()}}
    if not all(0.0 <= v <= 1.0 for v in merged.values()):
        raise ScenarioError(f"scenario {name!r}: `chat` chances must be between 0 and 1")
    return tuple(merged.items())
