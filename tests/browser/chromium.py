"""The words of a run without Chromium, shared by tests/browser/conftest.py (which skips the
browser tests) and tests/conftest.py (which says so loudly at the end of the run)."""

NO_CHROMIUM = "Chromium not found (CHROMIUM_PATH, `chromium` on PATH, /usr/bin/chromium)"
INSTALL_CHROMIUM = "install it with `apt-get install -y chromium`, or set CHROMIUM_PATH"
