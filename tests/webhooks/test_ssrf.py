"""Webhook URLs may not reach the platform's own network: checked at registration and again
at delivery after DNS resolution, connecting to the very address checked (DNS rebinding).
The resolver is replaced at the socket.getaddrinfo level; no real DNS is asked."""

from __future__ import annotations

import socket

import pytest

from badgeplatform.models import AuditEntry
from tests.factories import make_award
from webhooks import delivery, net
from webhooks.models import Attempt, Endpoint, Message
from webhooks.services import InvalidEndpoint, endpoint_create

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"
HOOK = "https://hooks.example.com/in"


class FakeDns:
    """socket.getaddrinfo answering from a table that the test can change."""

    def __init__(self, table: dict[str, list[str]]):
        self.table = table
        self.asked: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for address in self.table[host]:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if fam == socket.AF_INET6 else (address, port)
            out.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
        return out


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDns({"hooks.example.com": [PUBLIC]})
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def connections(monkeypatch):
    """Every connection attempt, refused (no test reaches the internet)."""
    seen = []

    def create_connection(address, timeout=None, *args, **kwargs):
        seen.append(address)
        raise ConnectionRefusedError("test network: refused")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return seen


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://hooks.example.com/x", "https://"),
        ("ftp://hooks.example.com/x", "https://"),
        ("https://127.0.0.1/x", "not a public address"),
        ("https://127.8.9.10:8443/x", "not a public address"),
        ("https://10.1.2.3/x", "not a public address"),
        ("https://172.16.0.1/x", "not a public address"),
        ("https://192.168.1.1/x", "not a public address"),
        ("https://100.64.0.1/x", "not a public address"),  # shared address space (CGNAT)
        ("https://169.254.169.254/latest/meta-data", "not a public address"),  # cloud metadata
        ("https://0.0.0.0/x", "not a public address"),
        ("https://224.0.0.1/x", "not a public address"),  # multicast
        ("https://240.0.0.1/x", "not a public address"),  # reserved
        ("https://[::1]/x", "not a public address"),
        ("https://[fe80::1]/x", "not a public address"),
        ("https://[fc00::1]/x", "not a public address"),
        ("https://[ff02::1]/x", "not a public address"),
        ("https://[::ffff:127.0.0.1]/x", "not a public address"),  # IPv4-mapped loopback
        ("https://[::ffff:10.0.0.1]/x", "not a public address"),
        ("https://[2002:a00:1::]/x", "not a public address"),  # 6to4 of 10.0.0.1
        ("https://localhost:8443/x", "does not resolve"),  # (not in the fake DNS)
        ("https://internal.example.com/x", "not a public address"),
        ("https://mixed.example.com/x", "not a public address"),  # one bad answer of two
        ("https://nowhere.example.com/x", "does not resolve"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https:///x", "https://"),
        ("not a url", "https://"),
    ],
)
def test_registration_refuses_urls_that_are_not_public_https(dns, admin_access, url, why):
    dns.table["internal.example.com"] = ["10.0.0.7"]
    dns.table["mixed.example.com"] = [PUBLIC, "192.168.0.10"]
    with pytest.raises(InvalidEndpoint, match=why):
        endpoint_create(access=admin_access, url=url, events=["award.issued"])
    assert not Endpoint.objects.exists()
    assert not AuditEntry.objects.filter(action="webhook.create").exists()


def test_a_public_https_url_is_accepted(dns, admin_access):
    made = endpoint_create(
        access=admin_access, url="https://hooks.example.com/in", events=["award.issued"]
    )
    assert made.endpoint.url == "https://hooks.example.com/in"
    assert dns.asked == ["hooks.example.com"], "checked after resolving, at registration"


def test_loopback_http_is_accepted_only_with_debug_and_a_port(settings, admin_access):
    settings.DEBUG = False
    for url in ("http://127.0.0.1:8001/hook", "http://localhost:8001/hook"):
        with pytest.raises(InvalidEndpoint, match="https://"):
            endpoint_create(access=admin_access, url=url, events=["award.issued"])
    settings.DEBUG = True
    with pytest.raises(InvalidEndpoint):
        endpoint_create(access=admin_access, url="http://127.0.0.1/hook", events=["award.issued"])
    with pytest.raises(InvalidEndpoint):
        endpoint_create(access=admin_access, url="http://10.0.0.1:80/", events=["award.issued"])
    for url in ("http://127.0.0.1:8001/hook", "http://localhost:8001/hook"):
        endpoint_create(access=admin_access, url=url, events=["award.issued"])
    assert Endpoint.objects.count() == 2


def test_debug_localhost_must_resolve_to_loopback(settings, dns, admin_access):
    settings.DEBUG = True
    dns.table["localhost"] = [PUBLIC]  # a poisoned hosts file, say
    with pytest.raises(InvalidEndpoint, match="this machine"):
        endpoint_create(access=admin_access, url="http://localhost:8001/", events=["award.issued"])


def test_delivery_checks_again_after_dns_changed_and_connects_nowhere(
    dns, connections, admin_access, space_a
):
    endpoint_create(
        access=admin_access, url="https://hooks.example.com/in", events=["award.issued"]
    )
    make_award(space_a)
    # The name now points inside (DNS rebinding, or a record changed since registration).
    dns.table["hooks.example.com"] = ["127.0.0.1"]
    assert delivery.drain() == 0
    assert connections == [], "nothing was connected to"
    attempt = Attempt.objects.get()
    assert not attempt.ok and attempt.status_code is None
    assert "Refused" in attempt.error and "127.0.0.1" in attempt.error
    assert Message.objects.get().status == Message.Status.PENDING  # retried later, checked again
    dns.table["hooks.example.com"] = ["::ffff:169.254.169.254"]
    Message.objects.update(next_attempt_at=None)
    delivery.drain()
    assert connections == []
    assert Attempt.objects.count() == 2


def test_delivery_connects_to_the_address_it_checked(dns, connections, admin_access, space_a):
    """One resolution per attempt, and the socket goes to that answer's address: a resolver
    that would answer differently a moment later is never asked again."""
    endpoint_create(
        access=admin_access, url="https://hooks.example.com/in", events=["award.issued"]
    )
    make_award(space_a)
    dns.asked.clear()
    delivery.drain()
    assert dns.asked == ["hooks.example.com"]
    assert connections == [(PUBLIC, 443)]
    attempt = Attempt.objects.get()
    assert "ConnectionRefusedError" in attempt.error


def test_redirects_are_not_followed_and_answers_are_capped(settings, admin_access, space_a):
    """A receiver answering 302 to an internal address is a failure, not a hop; a huge answer
    is read only up to the cap."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    settings.DEBUG = True
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hits.append(self.path)
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * (net.MAX_RESPONSE_BYTES * 4))

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        answer = net.post(f"http://127.0.0.1:{port}/redirect", b"{}", {})
        assert answer.status == 302 and hits == ["/redirect"]
        answer = net.post(f"http://127.0.0.1:{port}/big", b"{}", {})
        assert answer.status == 200 and len(answer.body) == net.MAX_RESPONSE_BYTES
    finally:
        server.shutdown()
        server.server_close()


def test_a_receiver_that_never_answers_times_out(settings, admin_access):
    import socket as s

    settings.DEBUG = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    listener = s.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        answer = net.post(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}", {})
    finally:
        listener.close()
    assert answer.status is None and "Timed out" in answer.error
    assert answer.duration_ms < 3000
