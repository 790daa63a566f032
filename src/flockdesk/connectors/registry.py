"""Platform name -> connector factory. One line per platform, like an integrations registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ConnectorFactory = Callable[..., Any]


def _x_factory(base_url: str, access_token: str, **kwargs: Any) -> Any:
    from flockdesk.connectors.x.client import XClient

    return XClient(base_url, access_token, **kwargs)


_REGISTRY: dict[str, ConnectorFactory] = {"x": _x_factory}


def register(platform: str, factory: ConnectorFactory) -> None:
    """Add (or replace, e.g. in tests) the factory for a platform."""
    _REGISTRY[platform] = factory


def platforms() -> list[str]:
    return sorted(_REGISTRY)


def connector_for(platform: str, base_url: str, access_token: str, **kwargs: Any) -> Any:
    """A connector for `platform`; kwargs: org_user_id, timeout_s, on_call, ..."""
    try:
        factory = _REGISTRY[platform]
    except KeyError:
        raise ValueError(f"unknown platform {platform!r}; known: {', '.join(platforms())}") from None
    return factory(base_url, access_token, **kwargs)
