"""Kinds by content (issue 8, item 7): a post that tags the brand is a mention whichever source found it
first, a quote of a brand post is a quote, and a search hit stays a listening hit only when it does
neither. The message is stored once; its kind, its conversation's channel and so its SLA follow the
mention."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.x.parse import parse_tweet_page
from flockdesk.domain.types import InboundItem
from flockdesk.services.conversations import sla
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.store.schema import conversations, messages
from tests.services.ingest.builders import ORG, mentions, page, tweet


def search(*tweets: dict[str, Any]) -> list[InboundItem]:
    return parse_tweet_page(page(*tweets), channel="search", org_user_id=ORG).items


def _stored(engine: Engine, external_id: str) -> tuple[list[Any], Any]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(messages).where(messages.c.external_id == external_id)).all()
        conv = conn.execute(
            sa.select(conversations).where(conversations.c.id == rows[0].conversation_id)
        ).one()
    return rows, conv


def _tagged(tid: str) -> dict[str, Any]:
    t = tweet(tid, "7", "@acme my bag never arrived at gate 12")
    t["entities"] = {"mentions": [{"start": 0, "end": 5, "username": "acme", "id": ORG}]}
    return t


@pytest.mark.parametrize("order", ["search_first", "mentions_first"])
def test_a_post_tagging_the_brand_is_a_mention_whichever_source_saw_it_first(
    engine: Engine, account_id: int, order: str
) -> None:
    post = _tagged("5001")
    first, second = (search, mentions) if order == "search_first" else (mentions, search)
    ingestor = Ingestor(engine)
    ingestor.ingest_page(account_id, first(post))
    ingestor.ingest_page(account_id, second(post))
    rows, conv = _stored(engine, "5001")
    assert len(rows) == 1
    assert rows[0].kind == "mention" and rows[0].mentions_account is True
    assert conv.channel == "mention"
    assert sla.default_policies()[conv.channel].first_response_minutes == 60


def test_a_handle_in_the_text_is_a_mention_without_entities(engine: Engine, account_id: int) -> None:
    Ingestor(engine).ingest_page(account_id, search(tweet("5002", "7", "@ACME where is my refund")))
    rows, conv = _stored(engine, "5002")
    assert (rows[0].kind, conv.channel) == ("mention", "mention")


def test_a_listening_hit_that_does_not_tag_the_brand_stays_listening(engine: Engine, account_id: int) -> None:
    Ingestor(engine).ingest_page(
        account_id, search(tweet("5003", "7", "flying #acme today, email me at acme@example.com"))
    )
    rows, conv = _stored(engine, "5003")
    assert (rows[0].kind, rows[0].mentions_account, conv.channel) == ("search", False, "search")


def test_the_mentions_source_promotes_a_post_search_stored_first(engine: Engine, account_id: int) -> None:
    """Search's copy showed no tag (say, X left the entities out); the mentions timeline then returns the
    same post: it is not stored twice, and it and its conversation become a mention."""
    post = tweet("5004", "7", "the crew on flight 12 were great")
    ingestor = Ingestor(engine)
    ingestor.ingest_page(account_id, search(post))
    assert _stored(engine, "5004")[1].channel == "search"
    result = ingestor.ingest_page(account_id, mentions(post))
    rows, conv = _stored(engine, "5004")
    assert result.inserted == 0 and len(rows) == 1
    assert (rows[0].kind, rows[0].mentions_account, conv.channel) == ("mention", True, "mention")
    assert conv.id in result.conversation_ids


def test_a_mention_in_a_listening_thread_makes_it_a_mention_conversation(
    engine: Engine, account_id: int
) -> None:
    ingestor = Ingestor(engine)
    ingestor.ingest_page(account_id, search(tweet("5005", "7", "bad weather at the airport")))
    ingestor.ingest_page(
        account_id, mentions(tweet("5006", "8", "@acme any delays?", conv="5005", reply_to="5005"))
    )
    rows, conv = _stored(engine, "5006")
    assert rows[0].kind == "reply" and rows[0].mentions_account is True
    assert conv.channel == "mention"


def test_a_quote_of_a_brand_post_is_a_quote(engine: Engine, account_id: int) -> None:
    quote = tweet("5008", "7", "this is exactly what happened to me")
    quote["referenced_tweets"] = [{"type": "quoted", "id": "5007"}]
    body = page(quote)
    body["includes"]["tweets"] = [{"id": "5007", "author_id": ORG, "text": "We're on it"}]
    Ingestor(engine).ingest_page(account_id, parse_tweet_page(body, channel="search", org_user_id=ORG).items)
    rows, conv = _stored(engine, "5008")
    assert (rows[0].kind, rows[0].quoted_post_id, conv.channel) == ("quote", "5007", "mention")


def test_a_quote_of_someone_elses_post_stays_listening(engine: Engine, account_id: int) -> None:
    quote = tweet("5010", "7", "same here")
    quote["referenced_tweets"] = [{"type": "quoted", "id": "5009"}]
    Ingestor(engine).ingest_page(account_id, search(quote))
    rows, conv = _stored(engine, "5010")
    assert (rows[0].kind, conv.channel) == ("search", "search")
