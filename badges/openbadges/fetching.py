"""Fetching documents a credential points at (keys, DID documents, status lists, hosted
assertions) without letting a visitor aim the server at anything it should not reach.

``fetch(url)`` first answers our own public URLs (under SITE_URL) locally, by calling the view
that serves them: no HTTP, the same bytes a verifier elsewhere would get. Any other URL goes
out only when ``VERIFY_FETCH_FOREIGN`` allows it, and then only if it is https on port 443 and
*every* address its host resolves to is a public one. The connection is made to the address
that was checked (the host name is kept for TLS: SNI and certificate), so a DNS answer that
changes between the check and the connection (rebinding) cannot slip a private address in.
Redirects are followed by hand, at most ``MAX_REDIRECTS``, each hop checked the same way;
timeouts are short and the body is cut at ``MAX_BYTES``.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.urls import Resolver404, resolve

MAX_BYTES = 512 * 1024
MAX_REDIRECTS = 3
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
ACCEPT = "application/ld+json, application/json;q=0.9, */*;q=0.1"
USER_AGENT = "BadgePlatform-Verifier/1.0"


class FetchError(Exception):
    """A document could not be fetched; the message is fit to show a visitor."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes
    local: bool = False


def is_ours(url: str) -> bool:
    return url.startswith(settings.SITE_URL + "/")


def _local(url: str) -> Fetched:
    """Our own public document, from the view that serves it (no network, no middleware)."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return Fetched(url, 404, b"", local=True)
    if getattr(match.func, "access_declaration", ("",))[0] != "public":
        # Only the public Open Badges documents are ever read this way.
        return Fetched(url, 404, b"", local=True)
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = parts.path
    request.GET = QueryDict(parts.query)
    request.META = {
        "HTTP_ACCEPT": "application/ld+json",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REQUEST_METHOD": "GET",
    }
    response = match.func(request, *match.args, **match.kwargs)
    if hasattr(response, "render"):
        response.render()
    return Fetched(url, response.status_code, bytes(response.content), local=True)


def _public_addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"The address {host} does not exist.") from exc
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise FetchError(
                f"{host} points at a private or reserved network address; it is not fetched."
            )
        addresses.append(str(address))
    if not addresses:
        raise FetchError(f"The address {host} does not exist.")
    return addresses


def _get_once(url: str) -> tuple[int, bytes, str | None]:
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise FetchError("Only https addresses are fetched.")
    host = parts.hostname
    if not host or parts.username or parts.password:
        raise FetchError("That address is not a plain https URL.")
    port = parts.port or 443
    if port != 443:
        raise FetchError("Only the standard https port (443) is fetched.")
    address = _public_addresses(host, port)[0]
    pool = urllib3.HTTPSConnectionPool(
        address,
        port=port,
        server_hostname=host,
        assert_hostname=host,
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        retries=False,
        maxsize=1,
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            "GET",
            path,
            headers={"Host": host, "Accept": ACCEPT, "User-Agent": USER_AGENT},
            redirect=False,
            preload_content=False,
            decode_content=True,
        )
        try:
            body = response.read(MAX_BYTES + 1)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"{host} could not be reached ({type(exc).__name__}).") from exc
    finally:
        pool.close()
    if len(body) > MAX_BYTES:
        raise FetchError(f"The document at {host} is larger than {MAX_BYTES // 1024} KB.")
    location = (
        response.headers.get("Location") if response.status in (301, 302, 303, 307, 308) else None
    )
    return response.status, body, location


def fetch(url: str) -> Fetched:
    """The document at ``url`` (ours locally; others over safe https). Raises FetchError."""
    url = url.split("#", 1)[0]
    if is_ours(url):
        return _local(url)
    if not settings.VERIFY_FETCH_FOREIGN:
        raise FetchError("This server does not fetch documents from other sites.")
    for _ in range(MAX_REDIRECTS + 1):
        status, body, location = _get_once(url)
        if location is None:
            return Fetched(url, status, body)
        url = urljoin(url, location)
        if is_ours(url):
            return _local(url)
    raise FetchError("Too many redirects.")
