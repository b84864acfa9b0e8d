"""A fresh machine without Chromium: `make test` runs everything else and ends by saying,
loudly, that the browser tests were skipped and how to install Chromium; CI (REQUIRE_BROWSER=1)
fails instead. Run as the Makefile's browser pass runs, in a subprocess that finds no browser."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_browser_pass(**extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "REQUIRE_"))}
    env.update(CHROMIUM_PATH=str(ROOT / "no-such-chromium"), **extra)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "browser", "-p", "no:cacheprovider", "-q",
         "tests/browser/test_csp.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_without_chromium_the_browser_tests_skip_and_the_run_ends_with_a_loud_line():
    result = run_browser_pass()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-2:]
    assert "BROWSER TESTS SKIPPED" in last[0] and "Chromium not found" in last[0]
    assert "apt-get install -y chromium" in last[1]
    assert " passed" not in result.stdout and " skipped" in result.stdout


def test_require_browser_makes_a_missing_chromium_a_failure():
    result = run_browser_pass(REQUIRE_BROWSER="1")
    assert result.returncode != 0
    assert "REQUIRE_BROWSER=1" in result.stderr and "apt-get install -y chromium" in result.stderr
    assert "BROWSER TESTS SKIPPED" not in result.stdout


def test_ci_requires_the_browser():
    assert "export REQUIRE_BROWSER=1" in (ROOT / ".ci" / "run").read_text()
