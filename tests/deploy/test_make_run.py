"""`make run` with DEBUG=0 collects the static files itself (pages link their hashed names, so
without that every page was a 500), and `make run PORT=8080` serves on that port."""

import re
import shutil

import pytest

from tests.deploy.conftest import ROOT, base_env, free_port, request, spawn, stop, wait_for


@pytest.mark.skipif(shutil.which("make") is None, reason="make is what is tested")
def test_make_run_with_debug_off_collects_static_and_serves_on_port(tmp_path):
    port = free_port()
    env = base_env(
        DEBUG="0",
        SECRET_KEY="make-run-test",
        SECURE_SSL_REDIRECT="0",  # runserver speaks plain HTTP
        VAR_DIR=str(tmp_path / "var"),  # its SQLite database, outbox, media
        STATIC_ROOT=str(tmp_path / "static"),  # empty: `make run` must fill it
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "run.log"
    # -o: never reinstall the shared virtualenv from here (the stamp is the Makefile's).
    proc = spawn(["make", "-o", ".venv/.installed", "run", f"PORT={port}"], env, log)
    try:
        wait_for(lambda: request(port, "/healthz")[0] == 200, 120, "make run", proc, log)
        status, _, body = request(port, "/accounts/login/")
        assert status == 200
        css = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body)
        assert css and request(port, css[1].decode())[0] == 200
        assert (tmp_path / "static" / "staticfiles.json").is_file()
        output = log.read_text()
        # SITE_URL follows the port: the demo's links (and Open Badges ids) point at it.
        assert f"Demo space ready: http://127.0.0.1:{port}/s/demo/" in output
        assert f"Starting development server at http://127.0.0.1:{port}/" in output
    finally:
        stop(proc)


def test_make_run_serves_on_8000_by_default():
    assert "PORT ?= 8000" in (ROOT / "Makefile").read_text()
