"""Platform name -> its profile (rules, no token) and its connector factory (a network client).

Services look a platform up here by the account's `platform` string and never import a platform's
folder (tests/meta/test_layering.py). One line per platform in `_REGISTRY`, like an integrations
registry; tests add fakes with `register`.

A built-in platform's client is named by its dotted path and imported the first time a connector is
made, as entry points are: X's client pulls in the xdk SDK (about a second to import, and tens of
thousands of objects every garbage collection then walks), which the web process and `flockdesk
import` need only when they verify or call an account. Real-time rules are named the same way: X's
sit beside its stream client, which needs httpx.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from flockdesk.connectors.base import Connector, ConnectorFactory, PlatformProfile, RealtimeRules
from flockdesk.connectors.x.profile import PROFILE as X_PROFILE
from flockdesk.connectors.x.specs import DEFAULT_SPEC as X_DEFAULT_SPEC
from flockdesk.connectors.x.specs import SPECS as X_SPECS


@dataclass(frozen=True)
class Platform:
    profile: PlatformProfile
    # (base_url, access_token, **options) -> Connector, or "package.module:Name" of such a callable
    factory: ConnectorFactory | str


_REGISTRY: dict[str, Platform] = {"x": Platform(X_PROFILE, "flockdesk.connectors.x.client:XClient")}


# platforms with real-time delivery (a stream or webhooks); the others are polled only
_REALTIME: dict[str, RealtimeRules | str] = {"x": "flockdesk.connectors.x.activity:REALTIME"}


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


# API versions (OpenAPI specs) a platform's connector can speak, and the one it speaks by default; a
# platform without versions takes no `api_version`
_API_VERSIONS: dict[str, tuple[tuple[str, ...], str]] = {"x": (X_SPECS, X_DEFAULT_SPEC)}


def api_versions(name: str) -> tuple[tuple[str, ...], str | None]:
    """(the versions the platform's connector speaks, the default one); ((), None) when it has none."""
    return _API_VERSIONS.get(name, ((), None))


def realtime(name: str) -> RealtimeRules | None:
    """The platform's real-time rules, or None when it has none (it is polled only)."""
    rules = _REALTIME.get(name)
    if isinstance(rules, str):
        rules = _REALTIME[name] = _load(rules)
    return rules


def register(name: str, profile: PlatformProfile, factory: ConnectorFactory | str) -> None:
    """Add (or replace, e.g. in tests) a platform."""
    _REGISTRY[name] = Platform(profile, factory)


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def platforms() -> list[str]:
    return sorted(_REGISTRY)


def _get(name: str) -> Platform:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown platform {name!r}; known: {', '.join(platforms())}") from None


def profile(name: str) -> PlatformProfile:
    """The platform's rules: links, pricing, query rules, id order, handles, pacing, archives, tokens."""
    return _get(name).profile


def connector_for(platform: str, base_url: str, access_token: str, **kwargs: Any) -> Connector:
    """A connector for `platform`; kwargs: org_user_id, timeout_s, on_call, read_retries, ..."""
    factory = _get(platform).factory
    if isinstance(factory, str):
        factory = _load(factory)
        assert callable(factory)
    return factory(base_url, access_token, **kwargs)
