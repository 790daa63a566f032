"""A local stand-in for an OpenAI-compatible chat completions API (`POST /v1/chat/completions`), for
tests and the demo of AI drafts: deterministic answers, and faults on request.

It answers from the request alone, so a test can predict every word: a summary request (the system
prompt asks to summarise) gets "Summary of N messages: ..." built from the transcript; a draft request
gets `reply` when one was set, else a fixed polite draft that invites the customer to DM.

Control (`POST /control`, JSON): `{"mode": "ok" | "error" | "slow" | "garbage" | "empty"}`,
`{"reply": "text"}` (null: back to the fixed draft), `{"delay_s": 5}` for the slow mode. Every request
received is kept in `requests` (GET /control/requests) so a test can read what Flockdesk sent.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from flockdesk.emulator.server import LoopbackServer

DEFAULT_DRAFT = (
    "Sorry to hear about this, and thanks for telling us. We're looking into it now: send us a DM "
    "and we'll sort it out with you there."
)
MODES = ("ok", "error", "slow", "garbage", "empty")


@dataclass
class ChatModelState:
    mode: str = "ok"
    reply: str | None = None
    delay_s: float = 5.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _answer(state: ChatModelState, body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    system = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    transcript = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
    if "summar" in system.lower():
        lines = [ln for ln in transcript.splitlines() if re.match(r"^(Customer|Team)\b", ln)]
        first = lines[0].split(":", 1)[-1].strip()[:80] if lines else ""
        return f"Summary of {len(lines)} messages: the customer wrote first about {first!r}."
    return state.reply if state.reply is not None else DEFAULT_DRAFT


def create_chat_model_app(state: ChatModelState) -> Starlette:
    async def completions(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": {"message": "body is not JSON"}}, status_code=400)
        with state.lock:
            state.requests.append({"body": body, "authorization": request.headers.get("authorization")})
            mode = state.mode
        if mode == "error":
            return JSONResponse({"error": {"message": "the model is overloaded"}}, status_code=500)
        if mode == "garbage":
            return PlainTextResponse("<html>502 upstream</html>", status_code=200)
        if mode == "slow":
            await asyncio.sleep(state.delay_s)
        content = "" if mode == "empty" else _answer(state, body)
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(state.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": str(body.get("model", "")),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        )

    async def control(request: Request) -> Response:
        body = await request.json()
        with state.lock:
            if "mode" in body:
                if body["mode"] not in MODES:
                    return JSONResponse({"error": f"mode must be one of {', '.join(MODES)}"}, status_code=400)
                state.mode = body["mode"]
            if "reply" in body:
                state.reply = body["reply"]
            if "delay_s" in body:
                state.delay_s = float(body["delay_s"])
            return JSONResponse({"mode": state.mode, "reply": state.reply})

    async def requests(request: Request) -> Response:
        with state.lock:
            return JSONResponse(list(state.requests))

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/control", control, methods=["POST"]),
            Route("/control/requests", requests, methods=["GET"]),
        ]
    )


class ChatModelServer(LoopbackServer):
    """`with ChatModelServer() as model: settings.ai_url = model.base_url`: on a free loopback port."""

    thread_name = "chat-model-stand-in"
    what = "the chat model stand-in"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = ChatModelState()
        super().__init__(create_chat_model_app(self.state), host=host, port=port)

    @property
    def base_url(self) -> str:
        """What FLOCKDESK_AI_URL is set to: the API root, `/chat/completions` is added to it."""
        return f"http://{self.host}:{self.port}/v1"

    def set(self, **control: Any) -> None:
        """Change the mode or the reply in process (what POST /control does)."""
        with self.state.lock:
            if control.get("mode", "ok") not in MODES:
                raise ValueError(f"mode must be one of {', '.join(MODES)}")
            for key, value in control.items():
                setattr(self.state, key, value)
