"""Webhook delivery of activity events (`/2/webhooks`), as X's V2 Webhooks API does it.

- Registering (`POST /2/webhooks {"url"}`) and `PUT /2/webhooks/:id` run the CRC: a GET of the URL with
  `crc_token` that must answer `{"response_token": "sha256=<base64 HMAC-SHA256(secret, crc_token)>"}`,
  where the secret is the app's OAuth 2.0 client secret or its consumer secret (`consumer_secret`).
- Deliveries are POSTs of the stream's envelope, signed over the raw body:
  `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, body)>` and
  `x-twitter-webhooks-signature-oauth2` with the OAuth 2.0 client secret. A delivery that does not get
  a 2xx is retried `webhook_retries` times, `webhook_retry_s` apart (doubling).
- `POST /2/webhooks/replay {"webhook_id","from_date","to_date"}` (yyyymmddhhmm, UTC) delivers again every
  event delivered or attempted to that webhook in the window, with the same `event_uuid`.

X requires a public https URL without a port; the emulator also accepts http loopback URLs for tests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import orjson

from flockdesk.emulator import billing, xaa
from flockdesk.emulator.activity import ActivityEvent
from flockdesk.emulator.http import ApiError
from flockdesk.emulator.state import EmulatorState

if TYPE_CHECKING:
    from flockdesk.emulator.api import Ctx

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DATE_RE = re.compile(r"^[0-9]{12}$")
MAX_WEBHOOKS = 5
TIMEOUT_S = 10.0  # X waits up to 10 seconds for an answer


def signature(secret: str, data: bytes) -> str:
    """`sha256=<base64 HMAC-SHA256(secret, data)>`: X's webhook signature and CRC response token."""
    digest = hmac.new(secret.encode(), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


@dataclass
class Webhook:
    id: str
    url: str
    created_at: float
    valid: bool = False
    attempts: list[tuple[int, float]] = field(default_factory=list)  # (event seq, when), for replay

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "valid": self.valid, "created_at": xaa.iso(self.created_at)}


def _secrets(state: EmulatorState) -> list[str]:
    out = [state.config.consumer_secret]
    client = state.oauth.default_client if state.oauth is not None else None
    if client is not None and client.client_secret:
        out.append(client.client_secret)
    return out


def crc_check(state: EmulatorState, url: str) -> bool:
    """GET the URL with a fresh crc_token; True when it answers the right response_token."""
    token = secrets.token_urlsafe(24)
    try:
        r = httpx.get(url, params={"crc_token": token, "nonce": secrets.token_hex(8)}, timeout=TIMEOUT_S)
        answer = r.json().get("response_token") if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return False
    return answer in {signature(s, token.encode()) for s in _secrets(state)}


def _check_url(url: Any) -> str:
    if not isinstance(url, str) or not 1 <= len(url) <= 200:
        raise ApiError(400, "Invalid Request", "`url` is required: the https URL X should deliver to")
    parts = urlsplit(url)
    loopback = parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK
    if not loopback and (parts.scheme != "https" or parts.port is not None):
        raise ApiError(
            400,
            "Invalid Request",
            f"The webhook URL {url} must use https and no port (the emulator also takes loopback URLs).",
            "invalid-request",
        )
    return url


def _webhook(ctx: Ctx) -> Webhook:
    wid = ctx.path["webhook_id"]
    hook: Webhook | None = ctx.state.webhooks.get(wid)
    if hook is None:
        raise ApiError(
            404, "Not Found Error", f"Could not find webhook with id: [{wid}].", "resource-not-found"
        )
    return hook


async def create_webhook(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    state = ctx.state
    url = _check_url(ctx.body.get("url"))
    with state.lock:
        if len(state.webhooks) >= MAX_WEBHOOKS:
            raise ApiError(
                403,
                "Forbidden",
                f"Your app may hold {MAX_WEBHOOKS} webhooks; delete one first.",
                "client-forbidden",
            )
        if any(h.url == url for h in state.webhooks.values()):
            raise ApiError(409, "Conflict", f"A webhook for {url} exists already.", "duplicate")
    if not await asyncio.to_thread(crc_check, state, url):
        raise ApiError(
            400,
            "Invalid Request",
            f"The CRC check of {url} failed: answer GET ?crc_token=T with "
            '{"response_token": "sha256=" + base64(HMAC-SHA256(secret, T))}.',
            "invalid-request",
            reason="CrcValidationFailed",
        )
    with state.lock:
        hook = Webhook(str(state.ids.next()), url, time.time(), valid=True)
        state.webhooks[hook.id] = hook
        ensure_deliverer(state)
    return 200, {"data": hook.as_json()}


def list_webhooks(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    hooks = [h.as_json() for h in ctx.state.webhooks.values()]
    return 200, {"data": hooks, "meta": {"result_count": len(hooks)}}


def delete_webhook(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    hook = _webhook(ctx)
    del ctx.state.webhooks[hook.id]
    for sub in ctx.state.subscriptions.values():
        if sub.webhook_id == hook.id:
            sub.webhook_id = None
    return 200, {"data": {"deleted": True}}


async def validate_webhook(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    state = ctx.state
    with state.lock:
        hook = _webhook(ctx)
    valid = await asyncio.to_thread(crc_check, state, hook.url)
    with state.lock:
        hook.valid = valid
    return 200, {"data": {"valid": valid}}


def _date(body: dict[str, Any], key: str) -> float:
    raw = body.get(key)
    if not isinstance(raw, str) or not DATE_RE.match(raw):
        raise ApiError(
            400, "Invalid Request", f"`{key}` must be a UTC time as yyyymmddhhmm", "invalid-request"
        )
    try:
        return datetime.strptime(raw, "%Y%m%d%H%M").replace(tzinfo=UTC).timestamp()
    except ValueError as exc:
        raise ApiError(400, "Invalid Request", f"`{key}` {raw} is not a date", "invalid-request") from exc


def replay(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    state, body = ctx.state, ctx.body
    wid = body.get("webhook_id")
    hook = state.webhooks.get(wid) if isinstance(wid, str) else None
    if hook is None:
        raise ApiError(
            404, "Not Found Error", f"Could not find webhook with id: [{wid}].", "resource-not-found"
        )
    start, end = _date(body, "from_date"), _date(body, "to_date") + 59.999
    if end < start:
        raise ApiError(400, "Invalid Request", "`to_date` is before `from_date`", "invalid-request")
    if start < time.time() - 86400:
        raise ApiError(400, "Invalid Request", "Replay reaches back 24 hours at most.", "invalid-request")
    job_id = str(state.ids.next())
    deliverer = ensure_deliverer(state)
    deliverer.replays.append((hook.id, start, end))
    return 200, {"data": {"job_id": job_id, "created_at": xaa.iso(time.time())}}


class Deliverer(threading.Thread):
    """Posts new matching events to valid webhooks, with retries, and runs replay jobs."""

    def __init__(self, state: EmulatorState) -> None:
        super().__init__(name="x-api-emulator-webhooks", daemon=True)
        self.state = state
        self.cursor = state.activity.last_seq
        self.replays: list[tuple[str, float, float]] = []
        self.client = httpx.Client(timeout=TIMEOUT_S)

    def run(self) -> None:
        state = self.state
        while not state.closing.is_set():
            while self.replays:
                self._replay(*self.replays.pop(0))
            if not state.activity.wait(self.cursor, 0.1):
                continue
            for event in state.activity.since(self.cursor, 500):
                self.cursor = event.seq
                with state.lock:
                    targets = [
                        (sub, state.webhooks[sub.webhook_id])
                        for sub in xaa.matching(state, event)
                        if sub.webhook_id in state.webhooks and state.webhooks[sub.webhook_id].valid
                    ]
                for sub, hook in targets:
                    with state.lock:
                        hook.attempts.append((event.seq, time.time()))
                    self.deliver(hook, event, sub)
        self.client.close()

    def _replay(self, webhook_id: str, start: float, end: float) -> None:
        state = self.state
        with state.lock:
            hook = state.webhooks.get(webhook_id)
            seqs = sorted({seq for seq, _at in hook.attempts}) if hook is not None else []
        for seq in seqs:
            events = state.activity.since(seq - 1, 1)
            if hook is None or not events or not start <= events[0].at <= end:
                continue
            with state.lock:
                subs = [s for s in xaa.matching(state, events[0]) if s.webhook_id == hook.id]
            for sub in subs:
                self.deliver(hook, events[0], sub)

    def deliver(self, hook: Webhook, event: ActivityEvent, sub: xaa.Subscription) -> bool:
        state = self.state
        body = orjson.dumps(xaa.envelope(event, sub))
        client_secrets = _secrets(state)
        headers = {
            "content-type": "application/json",
            "x-twitter-webhooks-signature": signature(client_secrets[0], body),
        }
        if len(client_secrets) > 1:
            headers["x-twitter-webhooks-signature-oauth2"] = signature(client_secrets[1], body)
        pause = state.config.webhook_retry_s
        for attempt in range(state.config.webhook_retries + 1):
            if attempt:
                time.sleep(pause)
                pause *= 2
            try:
                ok = self.client.post(hook.url, content=body, headers=headers).is_success
            except httpx.HTTPError:
                ok = False
            if ok:
                with state.lock:
                    billing.charge_event(state.billing, event.seq, event.event_type, event.payload)
                return True
            if state.closing.is_set():
                break
        return False


def ensure_deliverer(state: EmulatorState) -> Deliverer:
    """The state's delivery thread, started when the first webhook appears (or after a restart)."""
    current = state.deliverer
    if not isinstance(current, Deliverer) or not current.is_alive():
        current = Deliverer(state)
        state.deliverer = current
        current.start()
    return current
