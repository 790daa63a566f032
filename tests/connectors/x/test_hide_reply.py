"""XClient.hide_reply against the emulator: the call, its accounting and the platform's refusal."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from flockdesk.connectors import base
from flockdesk.connectors.base import AuthError, CallRecord
from flockdesk.connectors.x.client import XClient
from flockdesk.emulator.server import EmulatorServer


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900) as server:
        yield server


def _inject(emu: EmulatorServer, **body: object) -> str:
    r = httpx.post(f"{emu.base_url}/_emulator/post", json=body)
    r.raise_for_status()
    return str(r.json()["id"])


def test_hide_and_unhide_and_refusal(emu: EmulatorServer) -> None:
    calls: list[CallRecord] = []
    client = XClient(emu.base_url, emu.token, org_user_id=emu.org_user["id"], on_call=calls.append)
    assert isinstance(client, base.ReplyModerator)
    root = _inject(emu, from_org=True, text="Gate change for SK101")
    reply = _inject(emu, author="maria", text="my passport no is X1234567", in_reply_to=root)
    assert client.hide_reply(reply) is True
    assert client.hide_reply(reply, hidden=False) is False
    assert [(c.endpoint, c.status) for c in calls] == [("hide_reply", 200), ("hide_reply", 200)]
    stranger_root = _inject(emu, author="bob", text="hello world")
    stranger_reply = _inject(emu, author="maria", text="hi bob", in_reply_to=stranger_root)
    with pytest.raises(AuthError, match="conversations you started"):
        client.hide_reply(stranger_reply)
