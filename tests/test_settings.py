"""The generated secret key: made once, atomically, owner-only."""

from __future__ import annotations

import multiprocessing
import secrets
import stat
from pathlib import Path
from typing import Any

import pytest

from flockdesk.settings import Settings, read_or_create_key

RACERS = 32


def _race(data_dir: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    try:
        results.put(Settings(data_dir=Path(data_dir)).resolved_secret_key())
    except Exception as exc:  # reported to the test, which fails on it
        results.put(f"error: {exc!r}")


@pytest.mark.parametrize("round_", range(4))
def test_processes_racing_to_create_the_key_all_read_the_same_key(tmp_path: Path, round_: int) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(RACERS)
    results = ctx.Queue()
    data_dir = tmp_path / "data"
    procs = [ctx.Process(target=_race, args=(str(data_dir), barrier, results)) for _ in range(RACERS)]
    for p in procs:
        p.start()
    keys = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    assert len(set(keys)) == 1, set(keys)
    key = keys[0]
    assert len(key) >= 32 and not key.startswith("error")
    path = data_dir / "secret.key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in data_dir.iterdir()] == ["secret.key"]  # no temporary files left behind


def test_a_reader_while_the_key_is_being_made_never_sees_it_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst interleaving, made deterministic: a second process asks for the key at the moment
    the first one generates it."""
    real_token = secrets.token_urlsafe
    calls = 0
    seen_by_other: list[str] = []

    def token(nbytes: int | None = None) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            seen_by_other.append(Settings(data_dir=tmp_path).resolved_secret_key())
        return real_token(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", token)
    key = Settings(data_dir=tmp_path).resolved_secret_key()
    assert key and seen_by_other == [key]


def test_an_empty_key_file_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("")
    with pytest.raises(RuntimeError, match="is empty.*delete the file"):
        read_or_create_key(path)
