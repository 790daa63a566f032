"""Recent-search query language: tokenizer, parser and a compiled matcher over posts.

Supported: keywords, "exact phrase", #hashtag, @mention, $cashtag, from:, to:, url:, conversation_id:,
in_reply_to_tweet_id:, is:retweet|reply|quote|verified, has:hashtags|links|mentions|media|images,
lang:, OR, parentheses and `-` negation. Space is AND and binds tighter than OR; matching is case- and
accent-insensitive. A query made only of conjunction-required operators is refused, as X does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flockdesk.emulator.entities import fold
from flockdesk.emulator.model import Post

Matcher = Callable[[Post], bool]

MAX_QUERY_LENGTH = 4096
TOKEN_RE = re.compile(r'\s*(?:(\()|(\))|(-?"[^"]*")|([^\s()"]+))')
CONJUNCTION_REQUIRED = {"is", "has", "lang"}


class QueryError(ValueError):
    """The query cannot be parsed; the message says why."""


@dataclass
class _Node:
    match: Matcher
    standalone: bool  # contains a positive standalone operator


def _tokens(query: str) -> list[str]:
    pos, out = 0, []
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        m = TOKEN_RE.match(query, pos)
        if not m or m.end() == pos:
            raise QueryError(f"cannot read the query near position {pos}: {query[pos : pos + 20]!r}")
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return out


def _term(raw: str) -> _Node:
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"'):
            raise QueryError(f"unterminated phrase {raw!r}")
        phrase = fold(raw[1:-1]).strip()
        if not phrase:
            raise QueryError('an empty phrase "" matches nothing; remove it')
        return _Node(lambda p: phrase in p.folded, True)
    low = fold(raw)
    if low[0] in "#＃" and len(low) > 1:
        tag = low[1:]
        return _Node(lambda p: tag in p.hashtags, True)
    if low[0] == "@" and len(low) > 1:
        user = low[1:]
        return _Node(lambda p: user in p.mentions, True)
    if low[0] == "$" and len(low) > 1:
        cash = low[1:]
        return _Node(lambda p: ("$" + cash) in p.folded, True)
    if low in ("#", "@", "$"):
        raise QueryError(f"{raw!r} alone is not a search term; add the hashtag or username after it")
    if ":" in low and not low.startswith("http"):
        op, _, value = low.partition(":")
        return _operator(op, value, raw)
    word = low
    return _Node(lambda p: word in p.words or (" " not in word and word in p.folded.split()), True)


def _operator(op: str, value: str, raw: str) -> _Node:
    if not value:
        raise QueryError(f"operator {raw!r} needs a value")
    if op == "from":
        return _Node(lambda p: p.author_username == value.lstrip("@"), True)
    if op == "to":
        return _Node(lambda p: p.in_reply_to_username == value.lstrip("@"), True)
    if op == "url":
        return _Node(lambda p: value in p.folded, True)
    if op == "conversation_id":
        return _Node(lambda p: str(p.conversation_id) == value, True)
    if op == "in_reply_to_tweet_id":
        return _Node(lambda p: str(p.in_reply_to_tweet_id) == value, True)
    if op == "lang":
        return _Node(lambda p: value == "en", False)
    if op == "is":
        checks: dict[str, Matcher] = {
            "retweet": lambda p: p.retweeted_id is not None,
            "reply": lambda p: p.in_reply_to_tweet_id is not None,
            "quote": lambda p: p.quoted_id is not None,
            "verified": lambda p: p.author_verified,
            "nullcast": lambda p: False,
        }
        if value not in checks:
            raise QueryError(
                f"unknown operator value {raw!r}; use is:retweet, is:reply, is:quote or is:verified"
            )
        return _Node(checks[value], False)
    if op == "has":
        has: dict[str, Matcher] = {
            "hashtags": lambda p: bool(p.hashtags),
            "mentions": lambda p: bool(p.mentions),
            "links": lambda p: "urls" in p.entities,
            "media": lambda p: False,
            "images": lambda p: False,
        }
        if value not in has:
            raise QueryError(f"unknown operator value {raw!r}; use has:hashtags, has:links or has:mentions")
        return _Node(has[value], False)
    raise QueryError(f"unknown operator {op + ':'!r} in {raw!r}")


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> _Node:
        node = self.expr()
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek()!r}: check the parentheses")
        return node

    def expr(self) -> _Node:
        parts = [self.conj()]
        while self.peek() == "OR":
            self.pos += 1
            parts.append(self.conj())
        if len(parts) == 1:
            return parts[0]
        fns = [p.match for p in parts]
        return _Node(lambda p: any(f(p) for f in fns), all(x.standalone for x in parts))

    def conj(self) -> _Node:
        parts: list[_Node] = []
        while (tok := self.peek()) is not None and tok not in (")", "OR"):
            parts.append(self.unary())
        if not parts:
            raise QueryError("an empty group or a dangling OR: put a term on each side of OR and inside ()")
        if len(parts) == 1:
            return parts[0]
        fns = [p.match for p in parts]
        return _Node(lambda p: all(f(p) for f in fns), any(x.standalone for x in parts))

    def unary(self) -> _Node:
        tok = self.peek()
        assert tok is not None
        if tok.startswith("-") and len(tok) > 1:
            self.pos += 1
            inner = _term(tok[1:])
            fn = inner.match
            return _Node(lambda p: not fn(p), False)
        if tok == "-":
            raise QueryError("a lone '-' negates nothing; write -word or -is:retweet")
        return self.atom()

    def atom(self) -> _Node:
        tok = self.peek()
        assert tok is not None
        self.pos += 1
        if tok == "(":
            node = self.expr()
            if self.peek() != ")":
                raise QueryError("a '(' is never closed: add the matching ')'")
            self.pos += 1
            return node
        if tok == ")":
            raise QueryError("a ')' has no matching '('")
        return _term(tok)


def compile_query(query: str) -> Matcher:
    """Parse `query` into a predicate over posts; raises QueryError with a clear reason."""
    if not query or not query.strip():
        raise QueryError("the query is empty; give at least one keyword, #hashtag or @username")
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    node = _Parser(_tokens(query)).parse()
    if not node.standalone:
        raise QueryError(
            "the query has only conjunction-required operators (is:, has:, lang:) or negations; "
            "add a keyword, #hashtag or @username"
        )
    return node.match
