"""Benchmark the X API emulator: traffic generation and paging through 10,000 messages. Prints JSON."""

from __future__ import annotations

import json
import sys
import time

from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorConfig, EmulatorState, create_app


def _pages(
    client: TestClient, url: str, headers: dict[str, str], params: dict[str, object], token: str
) -> int:
    count, params = 0, dict(params)
    while True:
        body = client.get(url, headers=headers, params=params).json()
        count += body["meta"]["result_count"]
        nxt = body["meta"].get("next_token")
        if not nxt:
            return count
        params[token] = nxt


def main(messages: int = 10_000) -> None:
    state = EmulatorState(EmulatorConfig(speedup=1_000_000, mentions_window=10**9))
    out: dict[str, object] = {"messages": messages}
    with TestClient(create_app(state)) as c:
        h = {"Authorization": f"Bearer {state.token}"}
        t = time.perf_counter()
        c.post("/_emulator/traffic", json={"scenario": "airline", "messages": messages, "seed": 1})
        out["traffic_msgs_per_s"] = round(messages / (time.perf_counter() - t))
        fields = {
            "tweet.fields": "author_id,conversation_id,created_at,entities,referenced_tweets",
            "expansions": "author_id",
            "user.fields": "public_metrics,description,verified",
        }
        for name, url, params, token in (
            (
                "mentions",
                f"/2/users/{state.org.id}/mentions",
                {**fields, "max_results": 100},
                "pagination_token",
            ),
            (
                "search",
                "/2/tweets/search/recent",
                {
                    **fields,
                    "max_results": 100,
                    "query": "(#SkywardAir OR #FlySkyward OR Skyward) -is:retweet",
                },
                "next_token",
            ),
            (
                "dm_events",
                "/2/dm_events",
                {"max_results": 100, "dm_event.fields": "sender_id,dm_conversation_id"},
                "pagination_token",
            ),
        ):
            t = time.perf_counter()
            n = _pages(c, url, h, params, token)
            elapsed = time.perf_counter() - t
            out[f"{name}_items"] = n
            out[f"{name}_items_per_s"] = round(n / elapsed) if elapsed else None
    print(json.dumps(out))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
