"""docker-compose.yml works as written: its services' commands, run through the image's
entrypoint with .env.example's settings, start and answer; the web health check passes over
plain HTTP with the probe's own Host; the proxy in front lets web scale.

No Docker engine here (nor in CI): the commands are read from the compose file and run as
processes against a temporary SQLite database. Docker-only addresses (postgres, redis, the
/app paths) are pointed at local equivalents; everything else is the file's."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.conftest import ROOT, base_env, free_port, request, spawn, stop, wait_for

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
SITE_HOST = "badges.example.com"  # .env.example's ALLOWED_HOSTS


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME} and ${NAME:-default}, from .env (here: .env.example)."""

    def one(match: re.Match) -> str:
        name, default = match["name"], match["default"]
        found = variables.get(name, "")
        return found if found or default is None else default

    return re.sub(r"\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}", one, str(value))


def command(service: str) -> list[str]:
    """What the service runs: the image's entrypoint, then the service's command."""
    return [str(ENTRYPOINT), *shlex.split(SERVICES[service]["command"])]


def test_the_compose_file_is_consistent():
    app = COMPOSE["x-app"]
    assert app["build"] == "." and app["env_file"] == ".env"
    for name in ("migrate", "web", "worker", "signer", "beat"):
        assert SERVICES[name]["image"] == app["image"], name
    # One published port, on the proxy: `--scale web=3` would otherwise bind 8000 three times.
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    source, target = proxy["volumes"][0].split(":")[:2]
    assert (ROOT / source).is_file() and target == "/etc/nginx/conf.d/default.conf"
    assert "http://web:8000" in (ROOT / source).read_text()
    # Credential signing has its own queue (CELERY_TASK_ROUTES), consumed by `signer` only: it
    # never waits behind the email chunks `worker` sends from the default queue.
    from django.conf import settings

    queue = settings.CELERY_TASK_ROUTES["badges.openbadges.tasks.sign_credentials"]["queue"]
    assert f"-Q {queue}" in SERVICES["signer"]["command"]
    assert "-Q" not in SERVICES["worker"]["command"]
    # A safety net only (bounded caches keep a worker process far below: bench.memory): a pool
    # process past ~300 MB after a task is replaced.
    for name in ("worker", "signer"):
        assert "--max-memory-per-child=300000" in SERVICES[name]["command"].split(), name
    # The order of start-up: migrations complete before web, worker and beat start.
    for name in ("web", "worker", "signer", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    for name in ("postgres", "redis"):
        assert SERVICES["migrate"]["depends_on"][name]["condition"] == "service_healthy"
        assert "healthcheck" in SERVICES[name]
    named = set(COMPOSE["volumes"])
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in named, volume


def test_the_image_starts_through_the_entrypoint_and_keeps_secrets_out():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert os.access(ENTRYPOINT, os.X_OK)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".env", ".venv", ".git", "var/", "staticfiles/"):
        assert path in ignored, path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """The environment the app containers get (env_file + x-app's environment, interpolated),
    with the Docker-only addresses pointed here; then the `migrate` service, through the
    entrypoint, which also collects the static files into the empty STATIC_ROOT."""
    tmp = tmp_path_factory.mktemp("compose")
    dotenv = env_example()
    env = dict(dotenv)
    env.update({k: interpolate(v, dotenv) for k, v in COMPOSE["x-app"]["environment"].items()})
    assert env["DEBUG"] == "0" and env["DATABASE_URL"].startswith("postgres://badges:")
    env.pop("REDIS_URL")  # no Redis needed here: locmem cache, an in-memory broker below
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp / "media"),
        VAR_DIR=str(tmp / "var"),
        STATIC_ROOT=str(tmp / "static"),
        CELERY_BROKER_URL="memory://",
        WEB_CONCURRENCY="1",
    )
    env = base_env(**env)
    migrate = subprocess.run(
        command("migrate"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    assert "running collectstatic" in migrate.stderr
    assert (tmp / "static" / "staticfiles.json").is_file()
    return tmp, env


@pytest.fixture(scope="module")
def web(deployment):
    """The `web` service's command, on a free port (gunicorn.conf.py's GUNICORN_BIND)."""
    tmp, env = deployment
    port = free_port()
    log = tmp / "web.log"
    proc = spawn(command("web"), {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, log)
    try:
        wait_for(lambda: request(port, "/healthz")[0] == 200, 60, "gunicorn", proc, log)
        yield port
    finally:
        stop(proc)


def test_the_web_healthcheck_command_passes(web, deployment):
    _, env = deployment
    check = SERVICES["web"]["healthcheck"]["test"]
    assert check[0] == "CMD" and "http://127.0.0.1:8000/healthz" in check[-1]
    assert "0.0.0.0:8000" in (ROOT / "gunicorn.conf.py").read_text()  # what it probes
    probe = [part.replace("127.0.0.1:8000", f"127.0.0.1:{web}") for part in check[1:]]
    result = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr[-2000:]


def test_web_serves_pages_and_static_files_with_debug_off(web):
    status, headers, _ = request(web, "/accounts/login/", {"Host": SITE_HOST})
    assert status == 301 and headers["Location"] == f"https://{SITE_HOST}/accounts/login/"
    status, _, body = request(
        web, "/accounts/login/", {"Host": SITE_HOST, "X-Forwarded-Proto": "https"}
    )
    assert status == 200
    css = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body)
    assert css, "the page links the hashed stylesheet from the manifest"
    status, headers, _ = request(
        web, css[1].decode(), {"Host": SITE_HOST, "X-Forwarded-Proto": "https"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize(
    "service,ready",
    [("worker", b" ready."), ("signer", b" ready."), ("beat", b"beat: Starting")],
)
def test_the_worker_and_beat_commands_start(deployment, service, ready):
    tmp, env = deployment
    args = [a.replace("/tmp/celerybeat-schedule", str(tmp / "beat")) for a in command(service)]
    log = tmp / f"{service}.log"
    proc = spawn(args, env, log)
    try:
        wait_for(lambda: ready in log.read_bytes(), 60, service, proc, log)
    finally:
        stop(proc)


def test_web_refuses_to_start_without_the_static_manifest(deployment, tmp_path):
    """Straight to gunicorn (not through the entrypoint, which would collect): no manifest, no
    start, and the reason in its output, instead of a 500 on every page."""
    _, env = deployment
    port = free_port()
    result = subprocess.run(
        shlex.split(SERVICES["web"]["command"]),
        cwd=ROOT,
        env={**env, "STATIC_ROOT": str(tmp_path), "GUNICORN_BIND": f"127.0.0.1:{port}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "static files' manifest" in result.stderr and "collectstatic" in result.stderr


def test_the_deploy_check_names_a_missing_manifest(deployment, tmp_path):
    _, env = deployment
    result = subprocess.run(
        ["python", "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={**env, "STATIC_ROOT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "badgeplatform.E001" in result.stderr and "collectstatic" in result.stderr


def nginx_binary() -> str | None:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None and os.environ.get("REQUIRE_NGINX") == "1":
        pytest.fail("REQUIRE_NGINX=1 but nginx is not installed: `apt-get install -y nginx-light`")
    return found


@pytest.fixture
def proxy(web, tmp_path):
    """nginx with docker/nginx.conf as the proxy service mounts it; `web` (Docker's DNS) is
    the gunicorn above, and it listens on a free port instead of 80."""
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (`apt-get install -y nginx-light`); CI installs it")
    port = free_port()
    site = (ROOT / "docker" / "nginx.conf").read_text()
    assert "listen 80;" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("http://web:8000", f"http://127.0.0.1:{web}")
    (tmp_path / "default.conf").write_text(site)
    main = f"""
        daemon off; worker_processes 1; pid {tmp_path}/nginx.pid; error_log stderr;
        events {{ worker_connections 64; }}
        http {{
            access_log off;
            client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
            include {tmp_path}/default.conf;
        }}
    """
    (tmp_path / "nginx.conf").write_text(main)
    log = tmp_path / "nginx.log"
    args = [binary, "-p", str(tmp_path), "-e", "stderr", "-c", str(tmp_path / "nginx.conf")]
    if os.geteuid() == 0:
        args += ["-g", "user root;"]  # its workers read the temporary directory we made
    proc = spawn(args, base_env(), log)
    try:
        wait_for(lambda: request(port, "/healthz")[0] == 200, 30, "nginx", proc, log)
        yield port
    finally:
        stop(proc)


def test_the_proxy_passes_host_and_scheme_and_refuses_big_bodies(proxy):
    status, headers, _ = request(proxy, "/accounts/login/", {"Host": SITE_HOST})
    assert status == 301 and headers["Location"] == f"https://{SITE_HOST}/accounts/login/"
    # Behind a TLS-terminating balancer: its X-Forwarded-Proto reaches the app.
    status, _, body = request(
        proxy, "/accounts/login/", {"Host": SITE_HOST, "X-Forwarded-Proto": "https"}
    )
    assert status == 200 and b"/static/css/app." in body
    # Bigger than client_max_body_size (24m, = MAX_REQUEST_BODY): refused by nginx itself.
    status, headers, _ = request(
        proxy, "/accounts/login/", {"Host": SITE_HOST, "Content-Length": str(25 * 1024 * 1024)},
        method="POST",
    )  # fmt: skip
    assert status == 413 and headers.get("Server", "").startswith("nginx")
