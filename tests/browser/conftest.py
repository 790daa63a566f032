"""A whole Flockdesk in one process for Playwright: emulator, SQLite store, worker, web app on a free port."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.replies import saved as sr_svc
from flockdesk.services.team import users as users_svc
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ADMIN, PASSWORD = "ada", "correct horse battery"


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium to run the browser tests")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(pred: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Stack:
    url: str
    emu: Any
    engine: Any
    settings: Any

    def traffic(self, scenario: str, messages: int, seed: int = 1) -> None:
        r = httpx.post(
            f"{self.emu.base_url}/_emulator/traffic",
            json={"scenario": scenario, "messages": messages, "seed": seed},
            timeout=30,
        )
        r.raise_for_status()

    def inject(self, **body: Any) -> dict[str, Any]:
        r = httpx.post(f"{self.emu.base_url}/_emulator/post", json=body, timeout=10)
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def stack_overrides() -> dict[str, Any]:
    """Settings a test module changes for its stack (override this fixture there)."""
    return {}


@pytest.fixture
def stack(tmp_path: Path, stack_overrides: dict[str, Any]) -> Iterator[Stack]:
    _require_chromium()

    settings = Settings(
        data_dir=tmp_path / "data",
        secret_key="browser-test-key",
        poll_mentions_s=0.3,
        poll_dms_s=0.3,
        poll_search_s=0.3,
        http_timeout_s=2.0,
        allowed_api_hosts=["127.0.0.1"],  # the emulator
        **stack_overrides,
    )
    engine = make_engine(settings)
    upgrade(engine)
    admin = users_svc.create_user(engine, ADMIN, PASSWORD, "admin", name="Ada Lovelace")
    sr_svc.create(
        engine,
        admin.id,
        "Apology",
        "Hi {{contact.name}}, sorry about this! {{agent.first_name}} here: we're on it.",
    )
    with EmulatorServer(speedup=900.0) as emu:
        accounts_svc.add_account(engine, settings, base_url=emu.base_url, token=emu.token)
        stop = threading.Event()
        worker = Worker(
            engine, settings, stop=stop, options=WorkerOptions(idle_sleep_max_s=0.2, outbox_grace_s=0.0)
        )
        wthread = threading.Thread(target=worker.run, daemon=True)
        wthread.start()
        app = create_app(settings, engine)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        sthread = threading.Thread(target=server.run, daemon=True)
        sthread.start()
        wait_until(lambda: server.started, 15, "the web server to start")
        try:
            yield Stack(f"http://127.0.0.1:{port}", emu, engine, settings)
        finally:
            app.state.live.closed = True
            server.should_exit = True
            stop.set()
            sthread.join(timeout=15)
            wthread.join(timeout=15)
    engine.dispose()


@pytest.fixture
def page(stack: Stack) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        ctx = browser.new_context(viewport={"width": 1366, "height": 860})
        pg = ctx.new_page()
        pg.set_default_timeout(15_000)
        errors: list[str] = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.console_errors = errors  # type: ignore[attr-defined]
        try:
            yield pg
        finally:
            ctx.close()
            browser.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)
