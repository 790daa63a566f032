"""Helpers shared by the emulator tests."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.testclient import TestClient


def inject(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/_emulator/post", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def inject_over_http(base_url: str, **body: Any) -> dict[str, Any]:
    """`inject` for an emulator running as a server (the worker and web tests talk to it over HTTP)."""
    r = httpx.post(f"{base_url}/_emulator/post", json=body)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def hidden_on_x(base_url: str, post_id: str) -> bool:
    """Whether the emulator's ground truth has the post hidden (the reply-hiding tests check X's side)."""
    posts = httpx.get(f"{base_url}/_emulator/truth").json()["posts"]
    return bool(next(p["hidden"] for p in posts if p["id"] == post_id))


def follow_pages(
    client: TestClient,
    url: str,
    headers: dict[str, str],
    params: dict[str, Any],
    token_param: str = "pagination_token",
) -> list[dict[str, Any]]:
    """Every page of a list endpoint, following meta.next_token to the end."""
    pages = []
    params = dict(params)
    for _ in range(1000):
        r = client.get(url, headers=headers, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body)
        token = body["meta"].get("next_token")
        if token is None:
            return pages
        params[token_param] = token
    raise AssertionError("pagination never ended")
