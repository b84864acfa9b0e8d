"""Start the test OpenID provider (tests/sso/oidc_provider, django-oauth-toolkit) in its own
process on a free loopback port, with an RSA signing key made here."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "badge-platform"
CLIENT_SECRET = "campus-client-secret"  # noqa: S105 - the test provider's client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OidcProvider:
    def __init__(self, workdir: Path, *, redirect_uris: list[str], people: list[dict]):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        env = {
            **os.environ,
            "OIDC_PROVIDER_DB": str(workdir / "oidc-provider.sqlite3"),
            "OIDC_PROVIDER_RSA_KEY": pem,
            "OIDC_PROVIDER_PEOPLE": json.dumps(people),
            "OIDC_PROVIDER_CLIENT": json.dumps(
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": redirect_uris,
                }
            ),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.pop("DATABASE_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sso.oidc_provider.serve", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=open(workdir / "oidc-provider.log", "w"),  # noqa: SIM115 - closed with it
        )
        deadline = time.monotonic() + 60
        line = self.process.stdout.readline().decode()
        if "READY" not in line or time.monotonic() > deadline:
            self.stop()
            log = (workdir / "oidc-provider.log").read_text()
            raise RuntimeError(f"the test OpenID provider did not start: {line!r}\n{log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
