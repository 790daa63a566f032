"""The xdk-based X connector against the emulator: fields, pagination, headers, errors, sends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from flockdesk.connectors import base
from flockdesk.connectors.base import CallRecord, EndpointPacing
from flockdesk.connectors.registry import connector_for
from flockdesk.connectors.x.client import XClient, _envelope_problem
from flockdesk.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900, mentions_window=100_000, timeout_s=1.0) as server:
        httpx.post(
            f"{server.base_url}/_emulator/traffic", json={"messages": 400, "seed": 3}
        ).raise_for_status()
        yield server


@pytest.fixture(autouse=True)
def no_faults(emu: EmulatorServer) -> Iterator[None]:
    yield
    httpx.post(f"{emu.base_url}/_emulator/faults", json={"rate": 0})


def _client(emu: EmulatorServer, calls: list[CallRecord], **kw: object) -> XClient:
    return XClient(
        emu.base_url,
        emu.token,
        org_user_id=emu.org_user["id"],
        on_call=calls.append,
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
        **kw,
    )  # type: ignore[arg-type]


def _faults(emu: EmulatorServer, kind: str) -> None:
    httpx.post(
        f"{emu.base_url}/_emulator/faults", json={"rate": 1.0, "kinds": [kind], "seed": 1}
    ).raise_for_status()


def test_it_implements_every_capability_protocol(emu: EmulatorServer) -> None:
    client = connector_for("x", emu.base_url, emu.token)
    for proto in (
        base.IdentityReader,
        base.MentionsReader,
        base.SearchReader,
        base.DMReader,
        base.OwnPostsReader,
        base.FollowersReader,
        base.PostSender,
        base.DMSender,
    ):
        assert isinstance(client, proto)


def test_mentions_pages_carry_authors_threads_and_rate_headers(emu: EmulatorServer) -> None:
    calls: list[CallRecord] = []
    client = _client(emu, calls)
    seen: list[str] = []
    token = None
    while True:
        fetched = client.fetch_mentions(emu.org_user["id"], pagination_token=token)
        seen += [i.external_id for i in fetched.page.items]
        assert fetched.rate is not None and fetched.rate.limit and fetched.rate.reset_at
        token = fetched.page.next_token
        if token is None:
            break
    assert len(seen) == len(set(seen)) > 100
    item = fetched.page.items[0] if fetched.page.items else None
    assert all(c.endpoint == "mentions" and c.status == 200 for c in calls)
    assert sum(c.items for c in calls) == len(seen)
    first = client.fetch_mentions(emu.org_user["id"]).page.items[0]
    assert first.author is not None and first.author.username and first.thread_id
    assert item is None or item.channel == "mention"
    newest = client.fetch_mentions(emu.org_user["id"], since_id=max(seen, key=int))
    assert newest.page.items == [] and newest.page.next_token is None


def test_dm_events_and_followers(emu: EmulatorServer) -> None:
    client = _client(emu, [])
    page = client.fetch_dm_events().page
    assert page.items and all(i.thread_kind == "dm" and "-" in i.thread_id for i in page.items)
    httpx.post(f"{emu.base_url}/_emulator/followers", json={"count": 5}).raise_for_status()
    followers = client.fetch_followers(emu.org_user["id"])
    assert len(followers.users) >= 5 and all(u.username for u in followers.users)


def test_malformed_body_is_reported_with_the_body_not_raised_as_a_crash(emu: EmulatorServer) -> None:
    calls: list[CallRecord] = []
    _faults(emu, "malformed")
    with pytest.raises(base.MalformedResponse) as info:
        _client(emu, calls).fetch_mentions(emu.org_user["id"])
    assert "not JSON" in info.value.detail and info.value.body.startswith("{")
    assert calls[-1].status == 200


def test_429_says_when_to_come_back(emu: EmulatorServer) -> None:
    _faults(emu, "rate_limit")
    with pytest.raises(base.RateLimited) as info:
        _client(emu, []).fetch_search("delay")
    assert info.value.reset_at is not None and info.value.endpoint == "search"


def test_server_errors_are_retried_a_bounded_number_of_times(emu: EmulatorServer) -> None:
    calls: list[CallRecord] = []
    _faults(emu, "server_error")
    with pytest.raises(base.TransientError, match="500"):
        _client(emu, calls, read_retries=2).fetch_dm_events()
    assert [c.status for c in calls] == [500, 500, 500]


def test_timeouts_come_from_settings_and_are_transient(emu: EmulatorServer) -> None:
    calls: list[CallRecord] = []
    _faults(emu, "timeout")
    with pytest.raises(base.TransientError):
        _client(emu, calls, timeout_s=0.2, read_retries=0).fetch_mentions(emu.org_user["id"])
    assert calls == [CallRecord("mentions", None, pacing=EndpointPacing(min_spacing_s=3.0))]  # 300 per 15 min


def test_a_bad_token_is_an_auth_error(emu: EmulatorServer) -> None:
    with pytest.raises(base.AuthError, match="401"):
        XClient(emu.base_url, "nope").get_me()


def test_reply_and_dm_are_sent_with_the_right_api(emu: EmulatorServer) -> None:
    calls: list[CallRecord] = []
    client = _client(emu, calls)
    mention = client.fetch_mentions(emu.org_user["id"]).page.items[0]
    reply = client.send_post(
        f"@{mention.author.username if mention.author else 'x'} we are on it", in_reply_to=mention.external_id
    )
    dm = client.fetch_dm_events().page.items[0]
    sent_dm = client.send_dm(dm.author_id, "Thanks, let me check that booking for you")
    assert sent_dm.thread_id == dm.thread_id
    sent = httpx.get(f"{emu.base_url}/_emulator/sent").json()["sent"]
    assert sent[-2]["id"] == reply.external_id and sent[-2]["in_reply_to_tweet_id"] == mention.external_id
    assert sent[-1]["kind"] == "dm" and sent[-1]["recipient_id"] == dm.author_id
    assert [c.endpoint for c in calls][-2:] == ["dm_events", "dm_create"]
    with pytest.raises(base.PlatformRejected):
        client.send_post("", in_reply_to=mention.external_id)


def test_own_posts_are_read_back_with_what_they_answer(emu: EmulatorServer) -> None:
    calls: list[CallRecord] = []
    client = _client(emu, calls)
    mention = client.fetch_mentions(emu.org_user["id"]).page.items[0]
    before = datetime.now(UTC) - timedelta(seconds=5)
    sent = client.send_post("Looking into it for you now", in_reply_to=mention.external_id)
    fetched = client.fetch_own_posts(emu.org_user["id"], since=before)
    mine = [i for i in fetched.page.items if i.external_id == sent.external_id]
    assert len(mine) == 1
    assert mine[0].author_id == emu.org_user["id"] and mine[0].in_reply_to_external_id == mention.external_id
    assert mine[0].text == "Looking into it for you now"
    assert all(i.created_at >= before - timedelta(seconds=1) for i in fetched.page.items)
    assert calls[-1].endpoint == "own_posts" and calls[-1].items == len(fetched.page.items)
    later = client.fetch_own_posts(emu.org_user["id"], since=datetime.now(UTC) + timedelta(days=1))
    assert later.page.items == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([1, 2], "not a JSON object"),
        ({"data": "oops"}, "data must be a list"),
        ({"data": [], "meta": []}, "meta must be an object"),
        ({"data": [], "meta": {"next_token": 5}}, "next_token"),
    ],
)
def test_envelopes_that_are_not_x_v2_are_named(body: object, problem: str) -> None:
    assert problem in (_envelope_problem(body) or "")
    assert _envelope_problem({"data": [], "meta": {"result_count": 0}}) is None


def test_one_client_used_from_two_threads_gives_each_call_its_own_answer(emu: EmulatorServer) -> None:
    # the worker polls through a client while the real-time stream's X Chat events read public keys
    # through the same one
    client = _client(emu, [])
    errors: list[str] = []
    org = emu.org_user["id"]

    def me() -> None:
        for _ in range(60):
            try:
                if client.get_me().external_id != org:
                    errors.append("users/me answered with another user")
            except base.ConnectorError as exc:
                errors.append(f"users/me: {exc.detail}")

    def search() -> None:
        for _ in range(60):
            try:
                page = client.fetch_search("#FlySkyward OR Skyward").page
                if page.dead or not page.items:
                    errors.append(f"search: {len(page.items)} posts, {[d.reason for d in page.dead][:1]}")
            except base.ConnectorError as exc:
                errors.append(f"search: {exc.detail}")

    threads = [threading.Thread(target=me), threading.Thread(target=search)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    client.close()
    assert errors == []


def test_a_list_read_answered_with_a_single_object_is_malformed_not_an_empty_last_page(
    emu: EmulatorServer,
) -> None:
    calls: list[CallRecord] = []
    client = _client(emu, calls)
    real_get = client._sdk.session.get

    def someone_elses_answer(url: str, params: object = None, headers: object = None) -> object:
        return real_get(f"{emu.base_url}/2/users/me", headers=headers)  # a single object under "data"

    client._sdk.session.get = someone_elses_answer  # type: ignore[method-assign]
    for read in (
        lambda: client.fetch_mentions(emu.org_user["id"], pagination_token="next"),
        lambda: client.fetch_search("refund", next_token="next"),
        lambda: client.fetch_dm_events(pagination_token="next"),
    ):
        with pytest.raises(base.MalformedResponse) as info:
            read()
        assert "single object where a list belongs" in info.value.detail
        assert '"username"' in info.value.body  # kept for the dead letter
