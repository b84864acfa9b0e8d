"""A real HTTP receiver on loopback that verifies Standard Webhooks signatures with the
``standardwebhooks`` library and processes each ``webhook-id`` once, as a careful customer's
would. DEBUG is on so the platform accepts http://127.0.0.1:<port>/ (shared/API.md)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from badgeplatform.access import Access


@dataclass
class Receiver:
    url: str
    secrets: list[str] = field(default_factory=list)  # verified against each (any may pass)
    fail_first: int = 0  # answer 500 to this many requests first
    requests: list[dict] = field(default_factory=list)  # every request: headers, body, verdict
    processed: dict[str, dict] = field(default_factory=dict)  # webhook-id → event, once each
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verified_by(self, secret: str, request: dict) -> bool:
        try:
            Webhook(secret).verify(request["body"], request["headers"])
        except WebhookVerificationError:
            return False
        return True


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                request = {"headers": headers, "body": body, "path": self.path}
                receiver.requests.append(request)
                failing = len(receiver.requests) <= receiver.fail_first
                valid = any(receiver.verified_by(s, request) for s in receiver.secrets)
                request["valid"] = valid
                if not valid:
                    status = 400
                elif failing:
                    status = 500
                else:
                    status = 200
                    # Deduplicate on webhook-id: a redelivery is acknowledged, not processed.
                    receiver.processed.setdefault(headers["webhook-id"], json.loads(body))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"nope: try again")

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver(settings):
    settings.DEBUG = True
    receiver = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/badges"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin_access(space_a, admin_a):
    from badgeplatform.access import load_access

    access = load_access(space_a, admin_a)
    assert isinstance(access, Access)
    return access
