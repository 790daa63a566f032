"""Which API base URLs the server may call on an admin's word (connecting an account, the OAuth token
exchange, token refresh).

An admin types the base URL, and the server then makes requests to it: without a rule that is a way to
make the server reach addresses only it can reach (a cloud metadata service, a database's HTTP port, an
admin interface on localhost). So a base URL must be https, without a user name or password in it,
and its host must resolve only to public addresses: no private, loopback, link-local, multicast,
reserved or unspecified IPv4/IPv6 address (IPv4-mapped IPv6 included). The one way around it is the
`allowed_api_hosts` setting: hosts listed there (e.g. the emulator on 127.0.0.1) may use http and any
address. The check runs when the URL is entered and again before each request the connect flow makes,
so a name that later resolves elsewhere is caught at the next request (not between resolving and
connecting: pin such hosts with the allow-list or a proxy if that matters).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

Resolver = Callable[..., list[tuple[Any, ...]]]


class ApiUrlRefused(ValueError):
    """The base URL may not be called; the message says why and what to do."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _allowed(host: str, port: int | None, allowed_hosts: Iterable[str]) -> bool:
    names = {h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()}
    return host in names or (port is not None and f"{host}:{port}" in names)


def check_api_url(
    url: str, allowed_hosts: Sequence[str] = (), *, resolve: Resolver = socket.getaddrinfo
) -> str:
    """The base URL, trimmed, when the server may call it; else ApiUrlRefused."""
    base = url.strip().rstrip("/")
    try:
        parts = urlsplit(base)
        port = parts.port
    except ValueError as exc:
        raise ApiUrlRefused(f"The API base URL is not a valid URL ({exc}).") from exc
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise ApiUrlRefused("The API base URL must start with https:// (e.g. https://api.x.com).")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ApiUrlRefused(
            "The API base URL must not carry a user name, password, query or fragment: "
            "use a plain https://host address."
        )
    if _allowed(host, port, allowed_hosts):
        return base
    hint = (
        " To use a host on your own network (such as the emulator on 127.0.0.1), "
        "add it to the allowed_api_hosts setting (FLOCKDESK_ALLOWED_API_HOSTS)."
    )
    if parts.scheme != "https":
        raise ApiUrlRefused(f"The API base URL must use https (e.g. https://api.x.com).{hint}")
    try:
        infos = resolve(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise ApiUrlRefused(f"The API host {host} cannot be resolved: check the address.") from exc
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or not all(_public(a) for a in addresses):
        raise ApiUrlRefused(
            f"The API host {host} is not a public internet address (private, loopback, link-local "
            f"or reserved), so the server will not call it.{hint}"
        )
    return base
