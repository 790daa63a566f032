"""JSONL in, JSONL out: the streaming core of `flockdesk triage` and `flockdesk check-reply`.

One output line per input line, in order; a malformed line gives `{"id": ..., "error": "..."}` (id null
when it cannot be read) and the stream goes on, counted in `LineCounts` so the command can exit non-zero.
Blank lines are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from flockdesk.domain.rules import length_violation
from flockdesk.domain.vocabulary import CHANNELS
from flockdesk.triage.core import triage_message
from flockdesk.triage.reply_guard import check_reply


class BadLine(ValueError):
    """A line the user must fix; the message says how."""


def _parse(line: str | bytes, lineno: int) -> tuple[Any, dict[str, Any]]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadLine(
            f"line {lineno}: not valid JSON ({exc.args[0] if exc.args else exc}); "
            "write one JSON object per line"
        ) from None
    if not isinstance(obj, dict):
        raise BadLine(f'line {lineno}: expected a JSON object like {{"id": "1", "text": "..."}}')
    return obj.get("id"), obj


def _message_id(obj: Mapping[str, Any], lineno: int) -> Any:
    mid = obj.get("id")
    if mid is not None and not isinstance(mid, (str, int)):
        raise BadLine(f'line {lineno}: "id" must be a string')
    return mid


def _text(obj: Mapping[str, Any], lineno: int) -> str:
    text = obj.get("text")
    if not isinstance(text, str):
        raise BadLine(f'line {lineno}: "text" is missing or not a string')
    return text


def triage_record(obj: Mapping[str, Any], lineno: int = 1) -> dict[str, Any]:
    mid = _message_id(obj, lineno)
    text = _text(obj, lineno)
    channel = obj.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise BadLine(f'line {lineno}: "channel" must be one of {", ".join(CHANNELS)}')
    author = obj.get("author")
    if author is not None and not isinstance(author, dict):
        raise BadLine(
            f'line {lineno}: "author" must be an object with username, name, followers_count, '
            "verified, description"
        )
    waiting = obj.get("waiting_seconds", 0)
    if not isinstance(waiting, (int, float)) or isinstance(waiting, bool):
        waiting = 0
    result = triage_message(text, channel=channel, author=author, waiting_seconds=float(waiting))
    return {"id": mid, **result.to_dict()}


REPLY_KINDS = ("public", "dm")
ADVICE_DM_OK = "OK to send by DM."


def check_reply_record(obj: Mapping[str, Any], lineno: int = 1) -> dict[str, Any]:
    """The verdict on one draft: `ok` is false when the text is empty, too long for its kind, or (in
    public) asks for or repeats personal data. In a DM asking for details is the point, so only the
    length applies."""
    mid = _message_id(obj, lineno)
    text = _text(obj, lineno)
    kind = obj.get("kind", "public")
    if kind not in REPLY_KINDS:
        raise BadLine(f'line {lineno}: "kind" must be "public" or "dm" (default "public")')
    problem = length_violation(text, "dm" if kind == "dm" else "reply")
    if kind == "dm":
        verdict: dict[str, Any] = {
            "asks_for_sensitive": False,
            "contains_sensitive": [],
            "advice": ADVICE_DM_OK,
        }
        ok = problem is None
    else:
        guard = check_reply(text)
        verdict = guard.to_dict()
        ok = problem is None and not guard.asks_for_sensitive and not guard.contains_sensitive
    if problem is not None:
        verdict["advice"] = problem.message[0].upper() + problem.message[1:] + "."
    return {"id": mid, "kind": kind, "ok": ok, **verdict}


@dataclass(slots=True)
class LineCounts:
    """What a run read: lines answered and lines refused with an error."""

    done: int = 0
    failed: int = 0


def process_lines(
    lines: Iterable[str | bytes],
    handler: Callable[[Mapping[str, Any], int], dict[str, Any]],
    counts: LineCounts | None = None,
) -> Iterator[bytes]:
    """Yield one JSON line (bytes, newline-terminated) per non-blank input line."""
    counts = counts if counts is not None else LineCounts()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        mid: Any = None
        try:
            mid, obj = _parse(line, lineno)
            if not isinstance(mid, (str, int)):
                mid = None
            out = handler(obj, lineno)
            counts.done += 1
        except BadLine as exc:
            out = {"id": mid, "error": str(exc)}
            counts.failed += 1
        yield orjson.dumps(out) + b"\n"
