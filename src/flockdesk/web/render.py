"""Jinja2 environment (autoescape always on) and the filters that render untrusted text inert."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from flockdesk.domain import languages

TEMPLATES_DIR = Path(__file__).parent / "templates"
URL_RE = re.compile(r"https?://[^\s<>\"'\u2000-\u206f\u3000]+", re.IGNORECASE)
# Bidi embedding/override/isolate controls: shown as visible markers so they cannot reorder the page.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], 0xFFFD)


def safe_href(url: object) -> str | None:
    """The URL if it is an absolute http(s) URL without credentials or control characters, else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > 2048 or any(unicodedata.category(c) in ("Cc", "Cf") for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return url


def clean(text: object, limit: int | None = None) -> str:
    """Plain text with bidi controls neutralised and an optional length cap (with an ellipsis)."""
    s = "" if text is None else str(text)
    s = s.translate(BIDI_CONTROLS)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "\u2026"
    return s


def untrusted(text: object, limit: int | None = None) -> Markup:
    """Escaped text in a bidi isolate: what a platform user wrote, shown inert."""
    return Markup('<bdi class="u">') + escape(clean(text, limit)) + Markup("</bdi>")


def link(url: object, label: object = None) -> Markup:
    href = safe_href(url)
    shown = clean(label if label is not None else url, 120)
    if href is None:
        return (
            Markup('<span class="badlink" title="link not shown: not an http(s) URL">')
            + escape(shown)
            + Markup("</span>")
        )
    return (
        Markup('<a href="')
        + escape(href)
        + Markup('" rel="noopener noreferrer nofollow" target="_blank">')
        + escape(shown)
        + Markup("</a>")
    )


def linkify(text: object, limit: int | None = None) -> Markup:
    """Message text escaped, with http(s) URLs as safe links that show the URL itself."""
    s = clean(text, limit)
    out = Markup("")
    pos = 0
    for m in URL_RE.finditer(s):
        out += escape(s[pos : m.start()])
        out += link(m.group(0))
        pos = m.end()
    out += escape(s[pos:])
    return Markup('<bdi class="u">') + out + Markup("</bdi>")


def ago(value: object, now: datetime | None = None) -> str:
    if not isinstance(value, datetime):
        return ""
    dt = value if value.tzinfo else value.replace(tzinfo=UTC)
    secs = max(0, int(((now or datetime.now(UTC)) - dt).total_seconds()))
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m"
    if secs < 86400:
        return f"{secs // 3600}h {secs % 3600 // 60}m"
    return f"{secs // 86400}d {secs % 86400 // 3600}h"


def when(value: object) -> str:
    if not isinstance(value, datetime):
        return ""
    dt = value if value.tzinfo else value.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(value: object) -> str:
    if not isinstance(value, datetime):
        return ""
    dt = value if value.tzinfo else value.replace(tzinfo=UTC)
    return dt.isoformat()


def compact(n: object) -> str:
    try:
        v = int(n)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "0"
    if v >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if v >= 10_000:
        return f"{v // 1000}k"
    return str(v)


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        untrusted=untrusted,
        linkify=linkify,
        link=link,
        ago=ago,
        when=when,
        iso=iso,
        compact=compact,
        clean=clean,
        safe_href=safe_href,
        lang_name=languages.name,
    )
    return Jinja2Templates(env=env)


def ctx(**kw: Any) -> dict[str, Any]:
    return kw
