"""The connector against an API host that validates strictly: it spells each read for its configured
spec, and on a 400 that names a parameter it respells or drops it, reads again, and remembers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flockdesk.connectors.base import Degradation, DriftAware, PlatformRejected
from flockdesk.connectors.x.client import XClient
from flockdesk.emulator.server import EmulatorServer


@pytest.fixture
def emu(shared_dir: Path) -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900, timeout_s=1.0) as server:
        spec_dir = str(shared_dir / "reference" / "x-openapi")
        httpx.post(
            f"{server.base_url}/_emulator/config", json={"strict_spec": "2.167", "spec_dir": spec_dir}
        ).raise_for_status()
        yield server


def _inject(emu: EmulatorServer, **body: Any) -> dict[str, Any]:
    r = httpx.post(f"{emu.base_url}/_emulator/post", json=body, timeout=10)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def _statuses(emu: EmulatorServer) -> list[tuple[str, int]]:
    log = httpx.get(f"{emu.base_url}/_emulator/requests").json()["requests"]
    return [(r["endpoint"], r["status"]) for r in log]


def _client(emu: EmulatorServer, version: str) -> XClient:
    return XClient(emu.base_url, emu.token, org_user_id=emu.org_user["id"], api_version=version)


def test_the_right_spec_is_never_refused(emu: EmulatorServer) -> None:
    post = _inject(emu, author="maria_g", text=f"@{emu.org_user['username']} where is my bag?")
    client = _client(emu, "2.167")
    assert isinstance(client, DriftAware)
    items = client.fetch_mentions(emu.org_user["id"]).page.items
    assert [i.external_id for i in items] == [post["id"]] and items[0].author_id
    assert client.degradations("mentions") == []
    assert ("mentions", 400) not in _statuses(emu)


def test_the_wrong_spec_is_respelled_once_and_the_items_keep_what_they_need(emu: EmulatorServer) -> None:
    first = _inject(emu, author="maria_g", text=f"@{emu.org_user['username']} where is my bag?")
    client = _client(emu, "2.159")
    items = client.fetch_mentions(emu.org_user["id"]).page.items
    assert [i.external_id for i in items] == [first["id"]]
    assert items[0].author is not None and items[0].author.username == "maria_g"  # author_id by expansion
    learnt = client.degradations("mentions")
    assert learnt[0] == Degradation("tweet.fields", None, "post.fields", learnt[0].detail)
    assert "[tweet.fields]" in learnt[0].detail  # the platform's words are kept
    refused = _statuses(emu).count(("mentions", 400))
    assert refused == len(learnt)
    # a fresh client handed what was learnt asks right the first time
    again = _client(emu, "2.159")
    again.use_degradations("mentions", learnt)
    second = _inject(emu, author="maria_g", text=f"@{emu.org_user['username']} still waiting")
    assert second["id"] in [i.external_id for i in again.fetch_mentions(emu.org_user["id"]).page.items]
    assert _statuses(emu).count(("mentions", 400)) == refused


def test_a_refusal_of_something_it_cannot_change_is_raised(emu: EmulatorServer) -> None:
    client = _client(emu, "2.167")
    with pytest.raises(PlatformRejected) as caught:
        client.fetch_search("")  # an empty query: no spelling to change
    assert caught.value.status == 400 and client.degradations("search") == []
