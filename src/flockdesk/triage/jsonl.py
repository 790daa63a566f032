"""JSONL in, JSONL out: the streaming core of `flockdesk triage` and `flockdesk check-reply`.

One output line per input line, in order; a malformed line gives `{"id": ..., "error": "..."}` (id null
when it cannot be read) and the stream goes on. Blank lines are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

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


def check_reply_record(obj: Mapping[str, Any], lineno: int = 1) -> dict[str, Any]:
    mid = _message_id(obj, lineno)
    return {"id": mid, **check_reply(_text(obj, lineno)).to_dict()}


def process_lines(
    lines: Iterable[str | bytes], handler: Callable[[Mapping[str, Any], int], dict[str, Any]]
) -> Iterator[bytes]:
    """Yield one JSON line (bytes, newline-terminated) per non-blank input line."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        mid: Any = None
        try:
            mid, obj = _parse(line, lineno)
            if not isinstance(mid, (str, int)):
                mid = None
            out = handler(obj, lineno)
        except BadLine as exc:
            out = {"id": mid, "error": str(exc)}
        yield orjson.dumps(out) + b"\n"
