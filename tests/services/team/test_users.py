"""services.users and services.auth without HTTP: hashes at rest, sessions, throttle window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from flockdesk.domain.errors import UserError
from flockdesk.services.team import sessions as auth_svc
from flockdesk.services.team import users as users_svc
from flockdesk.store.schema import api_tokens, login_throttle, users, web_sessions


def test_secrets_are_stored_hashed_and_sessions_expire(engine) -> None:
    u = users_svc.create_user(engine, "sam", "a good password", "manager")
    with pytest.raises(UserError, match="taken"):
        users_svc.create_user(engine, "sam", "another password", "agent")
    token = users_svc.create_api_token(engine, u.id, "ci")
    cookie, sess = auth_svc.create_session(engine, u.id)
    with engine.connect() as conn:
        stored_pw = conn.execute(sa.select(users.c.password_hash)).scalar_one()
        stored_tok = conn.execute(sa.select(api_tokens.c.token_hash)).scalar_one()
        stored_sid = conn.execute(sa.select(web_sessions.c.id)).scalar_one()
    assert stored_pw.startswith("$argon2id$") and "a good password" not in stored_pw
    assert token not in stored_tok and cookie != stored_sid
    assert users_svc.user_for_token(engine, token).username == "sam"
    assert auth_svc.get_session(engine, cookie).user.role == "manager"
    assert sess.user.has_role("agent") and not sess.user.has_role("admin")
    with engine.begin() as conn:
        conn.execute(web_sessions.update().values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert auth_svc.get_session(engine, cookie) is None


def test_throttle_counts_per_username_and_address_and_expires(engine) -> None:
    users_svc.create_user(engine, "kim", "a good password", "agent")
    for _ in range(auth_svc.MAX_FAILURES):
        with pytest.raises(auth_svc.LoginFailed):
            auth_svc.login(engine, "kim", "wrong", "10.0.0.1")
    with pytest.raises(auth_svc.LoginThrottled) as exc:
        auth_svc.login(engine, "kim", "a good password", "10.0.0.1")
    assert 0 < exc.value.retry_after_s <= 15 * 60 + 1 and "Wait" in str(exc.value)
    assert auth_svc.login(engine, "kim", "a good password", "10.0.0.2").username == "kim"
    with engine.begin() as conn:  # the failures age out of the window
        conn.execute(login_throttle.update().values(window_start=datetime.now(UTC) - timedelta(minutes=16)))
    assert auth_svc.login(engine, "kim", "a good password", "10.0.0.1").username == "kim"
