from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.services.conversations import actions as conversations
from flockdesk.services.conversations import inbox
from flockdesk.services.conversations.inbox import InboxFilters
from flockdesk.services.conversations.listing import InboxRow
from tests.services.seed import T0, account, contact, conversation, message, user


def _fill(engine: Engine, n: int = 23) -> dict[str, object]:
    acct = account(engine)
    other = account(engine, external_user_id="901", name="Acme Two")
    ids: list[int] = []
    for i in range(n):
        ct = contact(engine, username=f"user{i}")
        kind = "dm" if i % 3 == 0 else "public"
        channel = "dm" if kind == "dm" else ("search" if i % 3 == 1 else "mention")
        waiting = None if i % 5 == 0 else T0 - timedelta(minutes=i * 7)
        cid = conversation(
            engine,
            other if i == 4 else acct,
            ct,
            kind=kind,
            channel=channel,
            priority=round((i * 37 % 11) / 10, 1),
            waiting_since=waiting,
        )
        message(
            engine,
            cid,
            f"older text {i}",
            contact_id=ct,
            at=T0 - timedelta(hours=1),
            intent="question",
            sentiment="neutral",
        )
        message(
            engine,
            cid,
            f"latest text {i} {'refund' if i % 4 == 0 else 'hello'}",
            contact_id=ct,
            at=T0,
            intent="lead" if i % 4 == 1 else "complaint",
            sentiment="negative" if i % 2 else "positive",
            sensitive=["email"] if i % 6 == 0 else [],
            urgent=i % 7 == 0,
            influencer=i == 5,
        )
        ids.append(cid)
    return {"ids": ids, "other": other}


def _walk(engine: Engine, view: str, sort: str, limit: int, **kw: object) -> list[InboxRow]:
    rows: list[InboxRow] = []
    cursor = None
    while True:
        page = inbox.list_view(engine, view, sort=sort, limit=limit, cursor=cursor, now=T0, **kw)  # type: ignore[arg-type]
        rows += page.rows
        cursor = page.next_cursor
        if cursor is None:
            return rows


def test_priority_pages_cover_everything_once_in_order(engine: Engine) -> None:
    ids = _fill(engine)["ids"]
    rows = _walk(engine, "all", "priority", 5)
    assert sorted(r.conversation_id for r in rows) == sorted(ids)  # type: ignore[arg-type]
    keys = [(r.priority, r.conversation_id) for r in rows]
    assert keys == sorted(keys, reverse=True)


def test_waiting_sort_puts_longest_waiting_first_then_answered(engine: Engine) -> None:
    ids = _fill(engine)["ids"]
    rows = _walk(engine, "all", "waiting", 4)
    assert sorted(r.conversation_id for r in rows) == sorted(ids)  # type: ignore[arg-type]
    waiting = [r.waiting_since for r in rows if r.waiting_since is not None]
    assert waiting == sorted(waiting)
    first_answered = next(i for i, r in enumerate(rows) if r.waiting_since is None)
    assert all(r.waiting_since is None for r in rows[first_answered:])


def test_rows_carry_contact_snippet_sla_labels_and_tags(engine: Engine) -> None:
    ids = _fill(engine, 8)["ids"]
    agent = user(engine, "alice")
    conversations.add_tag(engine, ids[1], agent, "vip")  # type: ignore[index]
    conversations.assign(engine, ids[1], agent, agent)  # type: ignore[index]
    row = next(r for r in inbox.list_view(engine, "all", now=T0).rows if r.conversation_id == ids[1])  # type: ignore[index]
    assert (row.contact_username, row.tags, row.assignee_username) == ("user1", ["vip"], "alice")
    assert row.snippet == "latest text 1 hello"
    assert (row.intent, row.sentiment) == ("lead", "negative")
    assert (row.channel, row.sla.state, row.sla.color) == ("search", "ok", "green")

    def clock(i: int, minutes: int) -> tuple[str, int]:
        later = inbox.list_view(engine, "all", now=T0 + timedelta(minutes=minutes)).rows
        r = next(r for r in later if r.conversation_id == ids[i])  # type: ignore[index]
        return r.sla.state, r.sla.target_minutes

    assert clock(1, 200) == ("warning", 240)  # search: waited 207 of 240 minutes
    assert clock(3, 120) == ("breached", 60)  # dm: waited 141 of 60
    assert clock(0, 120)[0] == "none"  # answered: no clock


VIEW_MEMBERS = {
    "mentions": lambda i: i % 3 == 2,
    "dms": lambda i: i % 3 == 0,
    "listening": lambda i: i % 3 == 1,
    "leads": lambda i: i % 4 == 1,
    "influencers": lambda i: i == 5,
}


def test_views_select_their_conversations(engine: Engine) -> None:
    ids = _fill(engine, 12)["ids"]
    for view, expect in VIEW_MEMBERS.items():
        got = {r.conversation_id for r in _walk(engine, view, "priority", 50)}
        assert got == {cid for i, cid in enumerate(ids) if expect(i)}, view  # type: ignore[arg-type]


def test_filters_on_labels_account_and_tag(engine: Engine) -> None:
    data = _fill(engine, 12)
    ids: list[int] = data["ids"]  # type: ignore[assignment]
    agent = user(engine, "alice")
    conversations.add_tag(engine, ids[3], agent, "billing")

    def got(**f: object) -> set[int]:
        return {r.conversation_id for r in _walk(engine, "all", "priority", 50, filters=InboxFilters(**f))}  # type: ignore[arg-type]

    assert got(sentiment="negative") == {c for i, c in enumerate(ids) if i % 2}
    assert got(intent="lead", sentiment="negative") == {c for i, c in enumerate(ids) if i % 4 == 1}
    assert got(sensitive=True) == {c for i, c in enumerate(ids) if i % 6 == 0}
    assert got(sensitive=False) == {c for i, c in enumerate(ids) if i % 6}
    assert got(urgent=True) == {c for i, c in enumerate(ids) if i % 7 == 0}
    assert got(account_id=data["other"]) == {ids[4]}
    assert got(tag="Billing") == {ids[3]}
    assert got(channel="dm") == {c for i, c in enumerate(ids) if i % 3 == 0}
    assert got(intent="question") == set()  # the older message's label does not count


def test_unassigned_and_mine(engine: Engine) -> None:
    ids = _fill(engine, 6)["ids"]
    agent = user(engine, "alice")
    conversations.self_assign(engine, ids[2], agent)  # type: ignore[index]
    assert [r.conversation_id for r in inbox.list_view(engine, "mine", user_id=agent).rows] == [ids[2]]  # type: ignore[index]
    assert ids[2] not in {r.conversation_id for r in _walk(engine, "unassigned", "priority", 50)}  # type: ignore[index]


def test_bad_view_sort_limit_and_cursor_are_clear_errors(engine: Engine) -> None:
    _fill(engine, 3)
    with pytest.raises(InvalidInput, match="unknown view"):
        inbox.list_view(engine, "everything")
    with pytest.raises(InvalidInput, match="unknown sort"):
        inbox.list_view(engine, "all", sort="name")
    with pytest.raises(InvalidInput, match="page size"):
        inbox.list_view(engine, "all", limit=0)
    with pytest.raises(InvalidInput, match="cursor"):
        inbox.list_view(engine, "all", cursor="not-a-cursor")
    page = inbox.list_view(engine, "all", sort="priority", limit=1)
    with pytest.raises(InvalidInput, match="cursor"):
        inbox.list_view(engine, "all", sort="waiting", cursor=page.next_cursor)
    with pytest.raises(InvalidInput, match="Mine"):
        inbox.list_view(engine, "mine")


def test_search_finds_conversations_and_pages(engine: Engine) -> None:
    ids = _fill(engine, 20)["ids"]
    expected = {c for i, c in enumerate(ids) if i % 4 == 0}  # type: ignore[arg-type]
    found: list[int] = []
    cursor = None
    while True:
        page = inbox.search(engine, "REFUND", limit=2, cursor=cursor)
        found += [r.conversation_id for r in page.rows]
        assert all("refund" in (r.matched_text or "") for r in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(found) == sorted(expected) and len(found) == len(set(found))
    assert inbox.search(engine, "latest text 4").rows[0].conversation_id == ids[4]  # type: ignore[index]
    assert inbox.search(engine, 'refund" OR "hello').rows == []  # FTS syntax is text, not operators
    with pytest.raises(InvalidInput, match="at least one word"):
        inbox.search(engine, "  ?! ")


def test_search_sees_messages_added_later(engine: Engine) -> None:
    ids = _fill(engine, 2)["ids"]
    message(engine, ids[1], "zanzibar delivery", at=T0 + timedelta(hours=1))  # type: ignore[index]
    assert [r.conversation_id for r in inbox.search(engine, "Zanzibar").rows] == [ids[1]]  # type: ignore[index]


def test_search_lists_each_conversation_once_by_newest_match(engine: Engine) -> None:
    acct = account(engine)
    convs = [conversation(engine, acct, contact(engine)) for _ in range(4)]
    order = [0, 1, 0, 2, 3, 1, 0]  # messages in id order; the newest match of each: 0 > 1 > 3 > 2
    for n, i in enumerate(order):
        message(engine, convs[i], f"kiwi note {n}", at=T0 + timedelta(minutes=n))
        message(engine, convs[i], "unrelated words")
    for page_size in (1, 2, 3, 50):
        found: list[int] = []
        cursor = None
        while True:
            page = inbox.search(engine, "kiwi", limit=page_size, cursor=cursor)
            found += [r.conversation_id for r in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert found == [convs[0], convs[1], convs[3], convs[2]], page_size


def test_search_terms_are_letters_and_digits_only(engine: Engine) -> None:
    ids = _fill(engine, 2)["ids"]
    message(engine, ids[0], "ref order_id 50% off", at=T0 + timedelta(hours=1))  # type: ignore[index]
    assert [r.conversation_id for r in inbox.search(engine, "ORDER_ID").rows] == [ids[0]]  # type: ignore[index]
    assert [r.conversation_id for r in inbox.search(engine, "50%").rows] == [ids[0]]  # type: ignore[index]
    with pytest.raises(InvalidInput):
        inbox.search(engine, "%_")


def test_rows_carry_the_contacts_verified_mark(engine: Engine) -> None:
    acct = account(engine)
    marks = {}
    for name, verified in (("bluecheck", True), ("plain", False)):
        ct = contact(engine, username=name, verified=verified)
        cid = conversation(engine, acct, ct)
        message(engine, cid, f"hi from {name}", contact_id=ct)
        marks[cid] = verified
    rows = inbox.list_view(engine, "all", now=T0).rows
    assert {r.conversation_id: r.contact_verified for r in rows} == marks
