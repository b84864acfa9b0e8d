"""1EdTech's Open Badges 2.0 validator, run from the tests against a live server.

The ``openbadges`` package (openbadges-validator-core 1.1.2) pins PyLD 0.7.1 and jsonschema
2.6.0, which cannot share a virtualenv with this project, so it lives in .venv/ob2-validator
(``make`` builds it; so does the first test that needs it) and runs as a subprocess.
"""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
VALIDATOR_PYTHON = REPO / ".venv" / "ob2-validator" / "bin" / "python"
DRIVER = Path(__file__).with_name("driver.py")


def conformance_dir() -> Path:
    """The shared conformance data (found as tests.openbadges_reference finds it)."""
    import pytest

    from tests.openbadges_reference import CONFORMANCE, SKIP_REASON

    if not (CONFORMANCE / "ob2").is_dir():
        pytest.skip(SKIP_REASON)  # REQUIRE_CONFORMANCE=1 (CI) already failed on import
    return CONFORMANCE


def ensure_installed() -> None:
    if VALIDATOR_PYTHON.exists():
        return
    done = subprocess.run(
        ["make", "-C", str(REPO), ".venv/ob2-validator/.installed", f"PYTHON={sys.executable}"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"could not install the OB 2.0 validator:\n{done.stderr}"


def validate(badge_input: str, *, origin: str) -> dict:
    """The validator's result for a hosted assertion URL or a baked PNG's path:
    {"report": {"valid", "errorCount", "messages", …}, "graph": […], "fetched": […],
    "refused": [urls it tried to reach outside the live server]}."""
    ensure_installed()
    context = conformance_dir() / "ob2" / "openbadges-v2-context.json"
    done = subprocess.run(
        [str(VALIDATOR_PYTHON), str(DRIVER), "--origin", origin, "--context", str(context)]
        + [badge_input],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"the validator crashed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])
