"""The local stand-in for an OpenAI-compatible chat API: deterministic completions, faults on request,
and a record of what it was sent."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from flockdesk.emulator.chat_model import DEFAULT_DRAFT, ChatModelServer


@pytest.fixture(scope="module")
def server() -> Iterator[ChatModelServer]:
    with ChatModelServer() as s:
        yield s


@pytest.fixture(autouse=True)
def _reset(server: ChatModelServer) -> None:
    server.set(mode="ok", reply=None)
    server.state.requests.clear()


def _ask(
    server: ChatModelServer, system: str = "Draft a reply.", user: str = "Customer: hi"
) -> httpx.Response:
    body = {
        "model": "m",
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
    }
    return httpx.post(server.base_url + "/chat/completions", json=body, headers={"Authorization": "Bearer k"})


def _content(resp: httpx.Response) -> str:
    return str(resp.json()["choices"][0]["message"]["content"])


def test_draft_and_summary_are_deterministic(server: ChatModelServer) -> None:
    assert _content(_ask(server)) == DEFAULT_DRAFT
    thread = "Customer: my bag is lost\nTeam: sorry!\nCustomer: any news?"
    assert _content(_ask(server, "Summarise this thread", thread)) == (
        "Summary of 3 messages: the customer wrote first about 'my bag is lost'."
    )
    assert [r["authorization"] for r in server.state.requests] == ["Bearer k", "Bearer k"]


def test_control_over_http_sets_the_reply_and_the_faults(server: ChatModelServer) -> None:
    root = server.base_url.removesuffix("/v1")
    assert httpx.post(root + "/control", json={"reply": "Hello there"}).status_code == 200
    assert _content(_ask(server)) == "Hello there"
    httpx.post(root + "/control", json={"mode": "error"})
    assert _ask(server).status_code == 500
    httpx.post(root + "/control", json={"mode": "garbage"})
    assert _ask(server).text.startswith("<html>")
    httpx.post(root + "/control", json={"mode": "empty"})
    assert _content(_ask(server)) == ""
    assert httpx.post(root + "/control", json={"mode": "sideways"}).status_code == 400
    assert len(httpx.get(root + "/control/requests").json()) == 4


def test_slow_mode_waits(server: ChatModelServer) -> None:
    server.set(mode="slow", delay_s=1.0)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(server.base_url + "/chat/completions", json={"messages": []}, timeout=0.2)
