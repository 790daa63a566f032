"""Run the emulator in a background thread (tests, the demo) with uvicorn on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

from flockdesk.emulator.app import create_app
from flockdesk.emulator.state import EmulatorConfig, EmulatorState


class LoopbackServer:
    """A Starlette app served by uvicorn in a daemon thread on a (free, by default) loopback port; a
    context manager. The emulator and the chat model stand-in are both one."""

    thread_name = "loopback-server"
    what = "the server"

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _starting(self) -> None:
        """Called before the server thread starts (the emulator clears its closing flag)."""

    def _stopping(self) -> None:
        """Called before the server is told to exit (the emulator ends its open streams)."""

    def start(self, timeout: float = 10.0) -> Self:
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._starting()
        self._server = server
        self._thread = threading.Thread(target=server.run, name=self.thread_name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.what} did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        if self.port == 0:
            self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._stopping()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class EmulatorServer(LoopbackServer):
    """`with EmulatorServer(speedup=900) as emu: httpx.get(emu.base_url + "/2/users/me", ...)`."""

    thread_name = "x-api-emulator"
    what = "the X API emulator"

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **overrides: Any,
    ) -> None:
        cfg = config or EmulatorConfig()
        for key, value in overrides.items():
            if not hasattr(cfg, key):
                raise TypeError(f"unknown emulator setting {key!r}")
            setattr(cfg, key, value)
        self.state = EmulatorState(cfg)
        super().__init__(create_app(self.state), host=host, port=port)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def app_bearer(self) -> str:
        return self.state.app_bearer

    @property
    def org_user(self) -> dict[str, str]:
        return {"id": self.state.org.id, "username": self.state.org.username, "name": self.state.org.name}

    @property
    def oauth_client(self) -> dict[str, str | None]:
        client = self.state.oauth.default_client
        return {"client_id": client.client_id, "client_secret": client.client_secret}

    def _starting(self) -> None:
        self.state.closing.clear()

    def _stopping(self) -> None:
        self.state.closing.set()
