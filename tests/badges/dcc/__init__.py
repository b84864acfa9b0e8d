"""The Digital Credentials Consortium's verifier (``@digitalcredentials/verifier-core``, the
one the Learner Credential Wallet uses), run with node on our credentials, offline.

The npm packages are pinned exactly in tests/js/dcc/package.json + package-lock.json and
installed by ``make`` (``npm ci``; so does the first test that needs them). The harness,
tests/js/dcc/verify.mjs, reads a credential on stdin and prints the verifier's answer as JSON;
its document loader serves contexts from the DCC's bundle and from files, and our documents
(issuer profile, key documents, status lists) from the test's live server, and refuses
anything else, so a run never reaches the internet.

No node: the tests fail when REQUIRE_NODE=1 (CI sets it) and are skipped, with the reason
printed, otherwise.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from tests.openbadges_reference import SCHEMAS

REPO = Path(__file__).resolve().parents[3]
HARNESS = REPO / "tests" / "js" / "dcc"
STAMP = HARNESS / "node_modules" / ".installed"
ACHIEVEMENT_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
NO_NODE = "node and npm are needed for the DCC verifier tests (tests/js/dcc)"


def node() -> str:
    """The node executable; fails under REQUIRE_NODE=1, skips loudly otherwise."""
    found = shutil.which("node")
    if found and shutil.which("npm"):
        return found
    if os.environ.get("REQUIRE_NODE") == "1":
        pytest.fail(NO_NODE + " and REQUIRE_NODE=1")
    # Loudly: in the warnings summary of every run, not only under -rs.
    warnings.warn(f"SKIPPED: {NO_NODE} (set REQUIRE_NODE=1 to fail instead)", stacklevel=2)
    pytest.skip(NO_NODE)


def ensure_installed() -> None:
    """``npm ci`` once (the Makefile's stamp target), under a lock: xdist workers share it."""
    if STAMP.exists():
        return
    with open(REPO / ".venv" / ".dcc-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.exists():
            return
        done = subprocess.run(
            ["make", "-C", str(REPO), "tests/js/dcc/node_modules/.installed"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"could not install the DCC verifier:\n{done.stderr}"


def verify(credential: dict | bytes | str, *, server: str) -> dict:
    """The DCC verifier's answer for ``credential`` (``{"result", "served", "refused"}``):
    documents under ``server`` come from it, the OB 3.0 schema from the conformance copy."""
    executable = node()
    ensure_installed()
    if isinstance(credential, dict):
        credential = json.dumps(credential)
    done = subprocess.run(
        [
            executable,
            str(HARNESS / "verify.mjs"),
            "--server",
            server,
            "--document",
            f"{ACHIEVEMENT_SCHEMA_URL}={SCHEMAS / 'ob_v3p0_achievementcredential_schema.json'}",
        ],
        input=credential if isinstance(credential, bytes) else credential.encode(),
        capture_output=True,
        cwd=HARNESS,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def steps(answer: dict) -> dict[str, dict]:
    """The verifier's log by step id."""
    return {entry["id"]: entry for entry in answer["result"].get("log", [])}
