"""Registering this install's webhook with X (V2 Webhooks API, `/2/webhooks`, app-only bearer token),
so that activity subscriptions can deliver to it instead of the persistent stream.

- `GET /2/webhooks` lists the app's webhooks (`{"data": [{"id", "url", "valid", "created_at"}]}`);
- `POST /2/webhooks {"url"}` registers one; X first sends the URL a CRC challenge
  (`GET ?crc_token=`), which `/webhooks/x` answers (web/webhooks.py), and refuses with a 400 when the
  answer is wrong;
- `PUT /2/webhooks/:id` runs the CRC again and marks the webhook valid or not.

Registration is idempotent: an existing webhook for the same URL is reused (validated again when X
marked it invalid), never registered twice; a 409 (a race with another worker) lists again.

Moving an existing subscription to the webhook (`PUT /2/activity/subscriptions/:id`) is here too.

Plain httpx, as the stream (connectors/x/activity.py): these calls use the app's bearer token, not an
account's user token, so they do not belong to the per-account xdk client.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from flockdesk.connectors.base import (
    AuthError,
    ConnectorError,
    PlatformRejected,
    RateLimited,
    TransientError,
    WebhookRegistration,
)
from flockdesk.connectors.x.limits import read_headers

# X waits up to 10 s for the CRC answer before it answers the POST itself
CRC_TIMEOUT_S = 20.0


def _problem(resp: httpx.Response) -> str:
    """The platform's own words: problem+json `detail` (or the first error's message), else the
    status line."""
    try:
        obj = orjson.loads(resp.content[:4000])
    except orjson.JSONDecodeError:
        return resp.reason_phrase
    if isinstance(obj, dict):
        if isinstance(obj.get("detail"), str):
            return str(obj["detail"])
        errors = obj.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            msg = errors[0].get("message") or errors[0].get("detail")
            if isinstance(msg, str):
                return msg
        if isinstance(obj.get("title"), str):
            return str(obj["title"])
    return resp.reason_phrase


def _raise_for(resp: httpx.Response, what: str) -> None:
    if resp.is_success:
        return
    detail = f"{what}: {resp.status_code} {_problem(resp)}"
    if resp.status_code == 429:
        rate = read_headers(resp.headers)
        raise RateLimited("webhooks", rate.reset_at if rate else None, detail)
    if resp.status_code in (401, 403):
        raise AuthError(detail)
    if 400 <= resp.status_code < 500:
        raise PlatformRejected(resp.status_code, detail)
    raise TransientError(detail, maybe_applied=True)


def _hook(obj: Any) -> WebhookRegistration | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not isinstance(obj.get("url"), str):
        return None
    return WebhookRegistration(str(obj["id"]), str(obj["url"]), bool(obj.get("valid", False)))


class WebhookClient:
    """The app's webhooks on one API base URL."""

    def __init__(self, base_url: str, bearer_token: str, *, timeout_s: float = CRC_TIMEOUT_S) -> None:
        self.base = base_url.rstrip("/") + "/2/webhooks"
        self._client = httpx.Client(
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {bearer_token}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def call(self, method: str, url: str, what: str, **kw: Any) -> Any:
        try:
            resp = self._client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise TransientError(f"{what}: {type(exc).__name__}", maybe_applied=method != "GET") from exc
        _raise_for(resp, what)
        try:
            return orjson.loads(resp.content) if resp.content else {}
        except orjson.JSONDecodeError as exc:
            raise ConnectorError(f"{what}: the answer is not JSON") from exc

    def list(self) -> list[WebhookRegistration]:
        body = self.call("GET", self.base, "GET /2/webhooks")
        data = body.get("data") if isinstance(body, dict) else None
        return [h for h in (_hook(o) for o in (data if isinstance(data, list) else [])) if h is not None]

    def create(self, url: str) -> WebhookRegistration:
        body = self.call("POST", self.base, "POST /2/webhooks", json={"url": url})
        hook = _hook(body.get("data") if isinstance(body, dict) else None)
        if hook is None:
            raise ConnectorError("POST /2/webhooks: the answer holds no webhook")
        return hook

    def validate(self, webhook_id: str) -> bool:
        body = self.call("PUT", f"{self.base}/{webhook_id}", f"PUT /2/webhooks/{webhook_id}")
        data = body.get("data") if isinstance(body, dict) else None
        return bool(data.get("valid")) if isinstance(data, dict) else False


def move_subscription(base_url: str, bearer_token: str, subscription_id: str, webhook_id: str | None) -> None:
    """`PUT /2/activity/subscriptions/:id {"webhook_id"}`: X takes the app's bearer token for it (xdk
    refuses to send it with a user token)."""
    client = WebhookClient(base_url, bearer_token)
    try:
        client.call(
            "PUT",
            f"{base_url.rstrip('/')}/2/activity/subscriptions/{subscription_id}",
            f"PUT /2/activity/subscriptions/{subscription_id}",
            json={"webhook_id": webhook_id},
        )
    finally:
        client.close()


def ensure_webhook(base_url: str, bearer_token: str, url: str) -> tuple[WebhookRegistration, bool]:
    """The app's webhook for `url`, registered when missing and validated again when X marked it
    invalid; returns it and whether it was registered now. A failed CRC raises PlatformRejected with
    X's words."""
    client = WebhookClient(base_url, bearer_token)
    try:
        found = next((h for h in client.list() if h.url == url), None)
        if found is None:
            try:
                return client.create(url), True
            except PlatformRejected as exc:
                if exc.status != 409:
                    raise
                found = next((h for h in client.list() if h.url == url), None)  # another worker won
                if found is None:
                    raise
        if not found.valid:
            if not client.validate(found.webhook_id):
                raise PlatformRejected(
                    400,
                    f"PUT /2/webhooks/{found.webhook_id}: X's CRC check of {url} failed: it must answer "
                    "GET ?crc_token= with the response token made with the app's consumer secret",
                )
            found = WebhookRegistration(found.webhook_id, found.url, True)
        return found, False
    finally:
        client.close()
