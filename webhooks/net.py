"""Outgoing webhook requests that cannot be pointed at the platform's own network (SSRF).

A URL is accepted when it is ``https://`` and every address its host resolves to is public
(not loopback, private, link-local, shared, reserved, multicast or unspecified, IPv6 and
IPv4-mapped IPv6 alike). With ``DEBUG`` on (the embedded default) ``http(s)://127.0.0.1:<port>/``
and ``http(s)://localhost:<port>/`` are accepted too, so webhooks can be tried locally.

The check runs at registration and again at every delivery, *after* DNS resolution, and the
request connects to the very address that was checked (the host name is kept for the Host
header and for TLS: SNI and certificate verification), so a DNS answer that changes between
the check and the connection (rebinding) reaches nothing. Redirects are never followed; the
response is read up to ``MAX_RESPONSE_BYTES``.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
LOCAL_HOSTS = ("127.0.0.1", "localhost")


class RefusedUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path + query, as sent on the request line
    local: bool  # a DEBUG-only loopback target


def _debug() -> bool:
    return bool(settings.DEBUG)


def parse(url: str) -> Target:
    """The URL's parts, refused when its form is not allowed (no DNS)."""
    url = (url or "").strip()
    if len(url) > 2000:
        raise RefusedUrl("The URL has at most 2,000 characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedUrl("That is not a valid URL.") from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise RefusedUrl("The URL must start with https://.")
    if parts.username or parts.password:
        raise RefusedUrl("The URL may not carry a user name or password.")
    if parts.fragment:
        raise RefusedUrl("The URL may not have a #fragment.")
    local = _debug() and host in LOCAL_HOSTS and port is not None
    if parts.scheme != "https" and not local:
        if _debug():
            raise RefusedUrl(
                "The URL must start with https:// (or be http://127.0.0.1:<port>/ or "
                "http://localhost:<port>/ while DEBUG is on)."
            )
        raise RefusedUrl("The URL must start with https://.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, host, port or default, path, local)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_public(str(mapped))
        if ip.teredo:
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve(target: Target) -> list[str]:
    """Every address the host resolves to, all checked: one bad answer refuses the URL."""
    try:
        addresses = [str(ipaddress.ip_address(target.host.strip("[]")))]  # an IP literal
    except ValueError:
        try:
            infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise RefusedUrl(f"The host {target.host} does not resolve.") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise RefusedUrl(f"The host {target.host} does not resolve.")
    for address in addresses:
        if target.local:
            if not ipaddress.ip_address(address.split("%", 1)[0]).is_loopback:
                raise RefusedUrl(f"{target.host} does not resolve to this machine.")
        elif not is_public(address):
            if address == target.host.strip("[]"):
                raise RefusedUrl(f"{address} is not a public address.")
            raise RefusedUrl(
                f"The host {target.host} resolves to {address}, which is not a public address."
            )
    return addresses


def check(url: str) -> tuple[Target, list[str]]:
    """The URL's target and its checked addresses, or RefusedUrl."""
    target = parse(url)
    return target, resolve(target)


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: bytes
    duration_ms: int
    error: str = ""


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # SNI and certificate checks against the host name, over the checked address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` after checking it again (RefusedUrl raised before any
    connection); any network failure comes back as an Answer with ``error``."""
    target, addresses = check(url)
    address = addresses[0]
    timeout = getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", TIMEOUT_SECONDS)
    if target.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
            address, target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = _PinnedHTTPConnection(address, target.host, target.port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": "BadgePlatform-Webhooks/1",
            },
        )
        response = conn.getresponse()
        data = response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        kind = "Timed out" if isinstance(exc, TimeoutError | socket.timeout) else type(exc).__name__
        return Answer(None, b"", elapsed, f"{kind}: {exc}"[:500])
    finally:
        conn.close()
    return Answer(status, data, int((time.monotonic() - started) * 1000))
