"""An inbox row shows the platform's verified mark next to a verified contact's handle, and only there."""

from __future__ import annotations

import re

from sqlalchemy import Engine

from .conftest import Browser
from .seed import account, contact, conversation, message


def test_verified_mark_only_on_verified_contacts(agent: Browser, engine: Engine) -> None:
    acct = account(engine)
    for username, verified in (("bluebird", True), ("plainjane", False)):
        ct = contact(engine, username=username, name=username.title(), verified=verified)
        message(engine, conversation(engine, acct, ct), ct, f"@acmecare hello from {username}")
    html = agent.client.get("/inbox/all").text
    handles = dict(re.findall(r'<span class="handle">@<bdi class="u">(\w+)</bdi>([^\n]*)', html))
    assert set(handles) >= {"bluebird", "plainjane"}
    assert 'aria-label="verified"' in handles["bluebird"]
    assert "verified" not in handles["plainjane"]
