"""Admin actions and logins leave exactly one audit event each, written by the services, with the
actor (the acting user, or "cli" for the command line) and the target."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from flockdesk.domain.errors import UserError
from flockdesk.emulator.server import EmulatorServer
from flockdesk.services.accounts import connected as accounts
from flockdesk.services.accounts import listening, sources
from flockdesk.services.team import audit
from flockdesk.services.team import sessions as auth_svc
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.audit import AuditEvent
from flockdesk.settings import Settings

PASSWORD = "a good password"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900) as server:
        yield server


class Trail:
    """The events recorded since the last call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen = 0

    def one(self, action: Callable[[], Any]) -> tuple[Any, AuditEvent]:
        result = action()
        new = [e for e in audit.list_events(self.engine, limit=1000) if e.id > self.seen]
        assert len(new) == 1, [(e.action, e.actor) for e in new]
        self.seen = new[0].id
        return result, new[0]


def _is(ev: AuditEvent, action: str, actor: str, actor_id: int | None, target: tuple[str, object]) -> None:
    assert (ev.action, ev.actor, ev.actor_user_id) == (action, actor, actor_id)
    assert (ev.target_type, ev.target_id) == (target[0], str(target[1]))


def test_user_and_token_actions_are_audited_with_actor_and_target(engine: Engine) -> None:
    trail = Trail(engine)
    root, ev = trail.one(lambda: users_svc.create_user(engine, "root", PASSWORD, "admin"))
    _is(ev, "user.create", "cli", None, ("user", root.id))
    bob, ev = trail.one(lambda: users_svc.create_user(engine, "bob", PASSWORD, "agent", actor_id=root.id))
    _is(ev, "user.create", "root", root.id, ("user", bob.id))
    assert ev.details == {"username": "bob", "role": "agent"}

    _, ev = trail.one(lambda: users_svc.set_role(engine, bob.id, "manager", actor_id=root.id))
    _is(ev, "user.role_change", "root", root.id, ("user", bob.id))
    assert ev.details is not None and (ev.details["from"], ev.details["to"]) == ("agent", "manager")
    _, ev = trail.one(lambda: users_svc.set_active(engine, bob.id, False, actor_id=root.id))
    _is(ev, "user.disable", "root", root.id, ("user", bob.id))
    _, ev = trail.one(lambda: users_svc.set_active(engine, bob.id, True))
    _is(ev, "user.enable", "cli", None, ("user", bob.id))

    token, ev = trail.one(lambda: users_svc.create_api_token(engine, bob.id, "reports"))
    token_id = users_svc.list_api_tokens(engine, bob.id)[0].id
    _is(ev, "api_token.create", "bob", bob.id, ("api_token", token_id))
    assert token not in str(ev.details)
    _, ev = trail.one(lambda: users_svc.revoke_api_token(engine, bob.id, token_id))
    _is(ev, "api_token.revoke", "bob", bob.id, ("api_token", token_id))

    _, ev = trail.one(lambda: auth_svc.reset_password(engine, bob.id, "new password!", actor_id=root.id))
    _is(ev, "user.password_reset", "root", root.id, ("user", bob.id))
    assert "new password!" not in str(ev.details)


def test_logins_are_audited_with_the_username_tried_and_the_address(engine: Engine) -> None:
    bob = users_svc.create_user(engine, "bob", PASSWORD, "agent")
    trail = Trail(engine)
    trail.seen = audit.list_events(engine, limit=1)[0].id
    _, ev = trail.one(lambda: auth_svc.login(engine, "bob", PASSWORD, "10.0.0.7"))
    _is(ev, "login.succeeded", "bob", bob.id, ("user", bob.id))
    assert ev.details == {"username": "bob", "remote_addr": "10.0.0.7"}

    def fail(username: str, password: str) -> None:
        with pytest.raises(auth_svc.LoginFailed):
            auth_svc.login(engine, username, password, "10.0.0.8")

    _, ev = trail.one(lambda: fail("bob", "the wrong password"))
    _is(ev, "login.failed", "anonymous", None, ("user", bob.id))
    assert ev.details == {"username": "bob", "remote_addr": "10.0.0.8"}
    assert "the wrong password" not in str(audit.list_events(engine))
    _, ev = trail.one(lambda: fail("nobody", "whatever it is"))
    assert (ev.action, ev.target_id, ev.details) == (
        "login.failed",
        None,
        {"username": "nobody", "remote_addr": "10.0.0.8"},
    )


def test_account_and_listening_actions_are_audited(
    engine: Engine, settings: Settings, emu: EmulatorServer
) -> None:
    root = users_svc.create_user(engine, "root", PASSWORD, "admin")
    trail = Trail(engine)
    trail.seen = audit.list_events(engine, limit=1)[0].id

    acct, ev = trail.one(
        lambda: accounts.add_account(
            engine, settings, base_url=emu.base_url, token=emu.token, actor_id=root.id
        )
    )
    _is(ev, "account.connect", "root", root.id, ("account", acct.id))
    assert emu.token not in str(ev.details)
    _, ev = trail.one(
        lambda: accounts.add_account(
            engine, settings, base_url=emu.base_url, token=emu.token, purpose="corporate"
        )
    )
    _is(ev, "account.update", "cli", None, ("account", acct.id))
    _, ev = trail.one(lambda: accounts.disconnect_account(engine, acct.id, actor_id=root.id))
    _is(ev, "account.disconnect", "root", root.id, ("account", acct.id))
    assert not accounts.get_account(engine, acct.id).active

    src, ev = trail.one(
        lambda: sources.add_search_source(
            engine, settings, "#acmehelp", account_id=acct.id, expected_posts_per_day=40, actor_id=root.id
        )
    )
    _is(ev, "source.add", "root", root.id, ("source", src.id))
    assert ev.details is not None and ev.details["query"] == "#acmehelp -is:retweet"
    _, ev = trail.one(lambda: listening.set_expected_volume(engine, src.id, 90, actor_id=root.id))
    _is(ev, "source.change", "root", root.id, ("source", src.id))
    assert ev.details == {"expected_posts_per_day": {"from": 40, "to": 90}}
    _, ev = trail.one(lambda: sources.set_enabled(engine, src.id, False))
    _is(ev, "source.change", "cli", None, ("source", src.id))
    _, ev = trail.one(lambda: sources.remove_source(engine, src.id, actor_id=root.id))
    _is(ev, "source.remove", "root", root.id, ("source", src.id))


def test_a_refused_action_records_nothing(engine: Engine) -> None:
    root = users_svc.create_user(engine, "root", PASSWORD, "admin")
    before = len(audit.list_events(engine))
    with pytest.raises(UserError, match="only active admin"):
        users_svc.set_role(engine, root.id, "agent")
    with pytest.raises(UserError, match="taken"):
        users_svc.create_user(engine, "root", PASSWORD, "agent", actor_id=root.id)
    with pytest.raises(UserError, match="no user"):
        users_svc.set_active(engine, 999, False, actor_id=root.id)
    assert len(audit.list_events(engine)) == before
