"""The login throttle: attempts are reserved in the store before the password is checked, per username
and address, per username from all addresses and per address."""

from __future__ import annotations

import threading

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from flockdesk.services.team import sessions as auth_svc
from flockdesk.services.team import users as users_svc

GOOD = "a good password"


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users_svc, "_HASHER", fast)
    monkeypatch.setattr(users_svc, "_DUMMY_HASH", fast.hash("dummy"))  # checked for unknown usernames


def test_concurrent_guesses_beyond_the_limit_are_refused_without_a_password_check(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    users_svc.create_user(engine, "kim", GOOD, "agent")
    total = 20
    state = threading.Condition()
    checked = refused = 0
    real_verify = users_svc.verify_password

    def verify(password_hash: str, password: str) -> bool:
        nonlocal checked
        with state:
            checked += 1
            state.notify_all()
            # Every guess waits here until all of them are either being checked or refused, so a
            # throttle that counted only finished checks would let every one of them through.
            state.wait_for(lambda: checked + refused >= total, timeout=60)
        return real_verify(password_hash, password)

    monkeypatch.setattr(users_svc, "verify_password", verify)
    outcomes: list[str] = []

    def guess() -> None:
        nonlocal refused
        try:
            auth_svc.login(engine, "kim", "wrong guess", "198.51.100.7")
        except auth_svc.LoginThrottled:
            with state:
                refused += 1
                state.notify_all()
            outcomes.append("throttled")
        except auth_svc.LoginFailed:
            outcomes.append("failed")

    threads = [threading.Thread(target=guess) for _ in range(total)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert checked == auth_svc.MAX_FAILURES
    assert sorted(outcomes) == ["failed"] * auth_svc.MAX_FAILURES + ["throttled"] * (
        total - auth_svc.MAX_FAILURES
    )
    with pytest.raises(auth_svc.LoginThrottled):  # the right password too, from that address
        auth_svc.login(engine, "kim", GOOD, "198.51.100.7")


def test_username_is_throttled_across_addresses_until_a_reset(engine: Engine) -> None:
    kim = users_svc.create_user(engine, "kim", GOOD, "agent")
    users_svc.create_user(engine, "lee", GOOD, "agent")
    for i in range(auth_svc.MAX_USER_FAILURES):  # one guess from each of many addresses
        with pytest.raises(auth_svc.LoginFailed):
            auth_svc.login(engine, "kim", "wrong", f"203.0.113.{i}")
    with pytest.raises(auth_svc.LoginThrottled) as exc:
        auth_svc.login(engine, "kim", GOOD, "192.0.2.50")
    assert 0 < exc.value.retry_after_s <= 15 * 60 + 1
    assert auth_svc.login(engine, "lee", GOOD, "192.0.2.50").username == "lee"  # others are not locked
    auth_svc.reset_password(engine, kim.id, "a new good password")
    assert auth_svc.login(engine, "kim", "a new good password", "192.0.2.50").username == "kim"


def test_address_is_throttled_across_usernames(engine: Engine) -> None:
    users_svc.create_user(engine, "kim", GOOD, "agent")
    for i in range(auth_svc.MAX_ADDRESS_FAILURES):
        with pytest.raises(auth_svc.LoginFailed):
            auth_svc.login(engine, f"nobody{i}", "wrong", "2001:db8:1:2::5")
    with pytest.raises(auth_svc.LoginThrottled):
        auth_svc.login(engine, "kim", GOOD, "2001:db8:1:2::99")  # the same /64
    assert auth_svc.login(engine, "kim", GOOD, "2001:db8:9::5").username == "kim"


def test_refused_attempts_and_good_passwords_count_nowhere(engine: Engine) -> None:
    users_svc.create_user(engine, "kim", GOOD, "agent")
    for _ in range(auth_svc.MAX_FAILURES):
        with pytest.raises(auth_svc.LoginFailed):
            auth_svc.login(engine, "kim", "wrong", "198.51.100.1")
    for _ in range(3 * auth_svc.MAX_USER_FAILURES):  # hammering a locked pair does not lock the user
        with pytest.raises(auth_svc.LoginThrottled):
            auth_svc.login(engine, "kim", "wrong", "198.51.100.1")
    for _ in range(3 * auth_svc.MAX_USER_FAILURES):  # nor do sign-ins with the right password
        assert auth_svc.login(engine, "kim", GOOD, "198.51.100.2").username == "kim"
    assert auth_svc.login(engine, "kim", GOOD, "198.51.100.3").username == "kim"
