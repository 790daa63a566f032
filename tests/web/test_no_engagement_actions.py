"""Likes, follows and quote posts were removed from X's self-serve API tiers (2026-04-20): no page,
route, API endpoint or connector method offers them (connectors/x/policy.py forbids them too)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from flockdesk.connectors.base import Connector
from flockdesk.settings import Settings
from flockdesk.web.app import create_app

SRC = Path(__file__).resolve().parents[2] / "src" / "flockdesk"
ENGAGEMENT = re.compile(
    r"\b(?:like|likes|liking|follow(?! up)|retweet|repost|quote[-_ ]?(?:post|tweet))\b", re.I
)


def _paths(routes: list[Any], prefix: str = "") -> list[str]:
    """Every route path, through mounts and sub-applications."""
    out = []
    for route in routes:
        path = prefix + getattr(route, "path", "")
        out.append(path)
        inner = (
            getattr(route, "routes", None)
            or getattr(getattr(route, "original_router", None), "routes", None)
            or getattr(getattr(route, "app", None), "routes", None)
        )
        if inner:
            out += _paths(list(inner), path)
    return out


def test_no_route_offers_a_like_a_follow_or_a_quote_post(settings: Settings, engine: Engine) -> None:
    paths = _paths(list(create_app(settings, engine).routes))
    assert "/c/{cid}/reply-on-x" in paths
    assert not [p for p in paths if ENGAGEMENT.search(p.replace("/", " ").replace("follow-up", ""))]


def test_no_page_has_a_button_for_them() -> None:
    for template in (SRC / "web" / "templates").glob("*.html"):
        for button in re.findall(r"<button[^>]*>(.*?)</button>", template.read_text(encoding="utf-8"), re.S):
            assert not ENGAGEMENT.search(button), f"{template.name}: {button.strip()}"


def test_no_connector_method_sends_them() -> None:
    methods = [m for m in dir(Connector) if not m.startswith("_")]
    assert not [m for m in methods if re.search(r"like|follow_user|retweet|repost|quote", m)]
