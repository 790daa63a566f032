"""X search query rules: a listening query is validated and normalised before it is stored.

Whitespace is collapsed, retweets are excluded by default (`-is:retweet`), at most 512 characters
(X's self-serve limit, x-api.md), and a query with nothing to match (empty, a lone `#` or `@`, only
operators) is refused.
"""

from __future__ import annotations

import re

from flockdesk.connectors.base import InvalidQuery

MAX_QUERY_LEN = 512
NO_RETWEETS = "-is:retweet"

# Operators that need a standalone term beside them (x-api.md: "Conjunction-required").
_CONJUNCTION_ONLY = re.compile(r"^-?(is|has|lang|place_country|sample):\S*$", re.IGNORECASE)
_TOKEN = re.compile(r'"[^"]*"|\S+')


def _is_standalone(token: str) -> bool:
    """A term that matches posts by itself (keyword, phrase, #tag, @user, from:x ...)."""
    word = token.strip("()")
    if not word or word.upper() == "OR" or word.startswith("-"):
        return False
    if word.startswith('"'):
        return len(word.strip('"').strip()) > 0
    if _CONJUNCTION_ONLY.match(word):
        return False
    if word[0] in "#@$":
        return len(word) > 1 and bool(re.match(r"\w", word[1:]))
    return bool(re.search(r"\w", word))


def _one_group(text: str) -> bool:
    """True when the whole query is one parenthesised group, e.g. "(#a OR #b)"."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def normalise_query(query: str, *, include_reposts: bool = False) -> str:
    """The query as stored and sent to X, or InvalidQuery saying what is wrong."""
    text = " ".join((query or "").split())
    if not text:
        raise InvalidQuery('the query is empty: give a keyword, #hashtag, @name or "phrase" to listen for')
    if text.count('"') % 2:
        raise InvalidQuery('the query has an unclosed double quote: close the "phrase"')
    if text.count("(") != text.count(")"):
        raise InvalidQuery("the query's parentheses do not balance")
    tokens = _TOKEN.findall(text)
    if not any(_is_standalone(t) for t in tokens):
        raise InvalidQuery(
            f"the query {text!r} has nothing to match: a lone # or @ or only operators is not enough; "
            'add a keyword, #hashtag, @name or "phrase"'
        )
    lowered = {t.lower() for t in tokens}
    if not include_reposts and NO_RETWEETS not in lowered and "is:retweet" not in lowered:
        if any(t.upper() == "OR" for t in tokens) and not _one_group(text):
            text = f"({text})"
        text = f"{text} {NO_RETWEETS}"
    if len(text) > MAX_QUERY_LEN:
        raise InvalidQuery(f"the query is {len(text)} characters; X allows {MAX_QUERY_LEN}: shorten it")
    return text


def without_mentions_of(query: str, username: str) -> str:
    """`query` AND NOT `@username`: posts that tag the account come through its mentions timeline, an
    owned read at $0.001 instead of a post read at $0.005 (x-2026.md section 4). Unchanged when the
    query already excludes them or the result would pass X's length limit."""
    handle = username.lstrip("@")
    exclusion = f"-@{handle}"
    tokens = _TOKEN.findall(query)
    if not handle or exclusion.lower() in {t.lower() for t in tokens}:
        return query
    text = query
    if _top_level_or(tokens):
        text = f"({text})"  # space (AND) binds tighter than OR: keep the exclusion on the whole query
    text = f"{text} {exclusion}"
    return text if len(text) <= MAX_QUERY_LEN else query


def _top_level_or(tokens: list[str]) -> bool:
    """True when an OR stands outside every parenthesis (phrases are single tokens)."""
    depth = 0
    for token in tokens:
        if token.startswith('"'):
            continue
        if token.upper() == "OR" and depth == 0:
            return True
        depth += token.count("(") - token.count(")")
    return False
