"""Authentication, rate-limit headers and 429s."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from flockdesk.emulator.ratelimit import RateLimiter


def test_missing_or_invalid_token_is_401_problem(client: TestClient, state) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        r = client.get(f"/2/users/{state.org.id}/mentions", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["title"] == "Unauthorized"
        assert "x-rate-limit-reset" in r.headers


def test_app_bearer_reads_public_but_not_dms_or_me(client: TestClient, state, app_auth) -> None:
    assert client.get(f"/2/users/{state.org.id}/mentions", headers=app_auth).status_code == 200
    assert client.get("/2/tweets/search/recent", headers=app_auth, params={"query": "x"}).status_code == 200
    for url in ("/2/dm_events", "/2/users/me"):
        r = client.get(url, headers=app_auth)
        assert r.status_code == 403
        assert r.json()["type"].endswith("unsupported-authentication")
    r = client.post("/2/tweets", headers=app_auth, json={"text": "hi"})
    assert r.status_code == 403


def test_every_response_has_rate_limit_headers_counting_down(client: TestClient, auth, state) -> None:
    seen = []
    for _ in range(3):
        r = client.get(f"/2/users/{state.org.id}/mentions", headers=auth)
        assert int(r.headers["x-rate-limit-limit"]) == 300
        seen.append(int(r.headers["x-rate-limit-remaining"]))
        assert int(r.headers["x-rate-limit-reset"]) >= int(time.time())
    assert seen == [299, 298, 297]


def test_dm_reads_get_429_after_15_in_a_window_with_reset(client: TestClient, auth) -> None:
    statuses = [client.get("/2/dm_events", headers=auth).status_code for _ in range(16)]
    assert statuses == [200] * 15 + [429]
    r = client.get("/2/dm_events", headers=auth)
    assert r.status_code == 429
    assert r.headers["x-rate-limit-remaining"] == "0"
    assert int(r.headers["x-rate-limit-reset"]) >= int(time.time())
    assert r.json()["title"] == "Too Many Requests"


def test_window_resets_after_the_sped_up_window() -> None:
    lim = RateLimiter(speedup=900)  # 15 minutes -> 1 second
    verdicts = [lim.hit("u", "post_dm", False, now=1000.0) for _ in range(16)]
    assert [v.allowed for v in verdicts] == [True] * 15 + [False]
    assert verdicts[-1].reset == 1001
    assert lim.hit("u", "post_dm", False, now=1001.0).allowed
    assert lim.hit("other", "post_dm", False, now=1000.5).allowed  # per user
    app = RateLimiter(speedup=1)
    assert app.hit("app", "mentions", True, now=0).limit == 450
    assert app.hit("u", "mentions", False, now=0).limit == 300
