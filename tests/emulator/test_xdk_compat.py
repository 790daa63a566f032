"""xdk (the SDK the X connector uses) reads and writes against the emulator with its typed models."""

from __future__ import annotations

import httpx
from xdk import Client

from flockdesk.emulator import EmulatorServer


def test_xdk_client_reads_and_writes() -> None:
    with EmulatorServer(speedup=900) as emu:
        httpx.post(emu.base_url + "/_emulator/traffic", json={"messages": 120, "seed": 1})
        truth = httpx.get(emu.base_url + "/_emulator/truth").json()
        c = Client(base_url=emu.base_url, access_token=emu.token)
        pages = list(
            c.users.get_mentions(
                emu.org_user["id"],
                max_results=10,
                post_fields=["author_id", "conversation_id", "referenced_posts"],
                expansions=["author_id"],
                user_fields=["public_metrics", "verified", "description"],
            )
        )
        got = [p.id for page in pages for p in page.data]
        expected = [p["id"] for p in reversed(truth["posts"]) if p["mentions_org"] and not p["from_org"]]
        assert got == expected
        replies = [p for page in pages for p in page.data if p.referenced_posts]
        assert replies and all(r.referenced_posts[0].type == "replied_to" for r in replies)
        users = {u.id: u for page in pages for u in page.includes.users}
        assert all(
            users[p.author_id].public_metrics.followers_count >= 0 for page in pages for p in page.data
        )
        events = [e for page in c.direct_messages.get_events(max_results=100) for e in page.data]
        assert [e.id for e in events] == [d["id"] for d in reversed(truth["dms"])]
        created = c.posts.create(body={"text": "Hello from xdk", "reply": {"in_reply_to_tweet_id": got[0]}})
        assert created.data.id in {
            s["id"] for s in httpx.get(emu.base_url + "/_emulator/sent").json()["sent"]
        }
