"""Benchmark: latency of the public Open Badges URLs against a bare JSON view (the floor).

    python -m bench.public [-n 300] [--warmup 30] [--services]

Starts a real server (gunicorn, one sync worker, DEBUG off) on 127.0.0.1: by default with a
fresh SQLite database in a temporary folder and the local-memory cache (the embedded default);
with ``--services`` on PostgreSQL (``BENCH_DATABASE_URL``, default the local cluster's
``bench_perf``) and Redis (``BENCH_REDIS_URL`` db 11, flushed first: use a db no one else
uses), as in production. It seeds one space, a designer-drawn badge and ``warmup + n`` awards,
and times, interleaved round by round so drift hits all alike, one GET of each of:

- floor: a bare JSON view doing one indexed query (an award by its public id; only in this
  benchmark's URLconf, bench.urls_public),
- assertion_cached: the hosted OB 2.0 assertion JSON of one award, asked again and again,
- assertion_uncached: the assertion of a different award each round (never asked before:
  its revocation state and document are not cached),
- badge_current: the current BadgeClass (``/public/badges/<id>``),
- badge_version: the BadgeClass version the awards carry,
- issuer: the issuer profile version (``/public/issuers/<version>``),
- credential: the signed OB 3.0 credential (signed when seeded),
- baked_png: the baked PNG.

Every request opens a new connection (the sync worker closes it), so each figure includes
connecting; the floor pays the same. Prints the medians and each kind's ratio to the floor;
the last line is ``worst_ratio_to_floor=<x>`` (target <= 1.3).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, accept: str) -> tuple[int, int, float]:
    """(status, body bytes, seconds) of one GET on a new connection."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Accept": accept})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    return response.status, len(body), elapsed


def seed() -> None:
    """Run inside the benchmark's environment: one award; prints its public paths as JSON."""
    import django

    django.setup()
    import secrets

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from badgeplatform.access import Access
    from badges.issuing import RecipientInput, awards_issue
    from badges.models import Badge, Graphic
    from issuers.services import issuer_create
    from users.models import User
    from users.services import space_create

    tag = secrets.token_hex(4)
    rounds = int(os.environ.get("BENCH_AWARDS", "1"))
    admin = User.objects.create(username=f"bench-{tag}", email=f"bench@{tag}.example.test")
    space = space_create(name="Bench University", slug=f"bench-{tag}", admin=admin)
    issuer = issuer_create(
        access=Access.system(space),
        space=space,
        organisation=space.root_organisation,
        actor=None,
        name="Bench University",
        website="https://bench.example.test",
        email="badges@bench.example.test",
    )
    from badges.designer import SHAPES, Design, render_badge  # a real, designer-drawn graphic

    design = Design(
        shape=SHAPES[0], background="#1F6FEB", border="#0B3D91", text_color="#FFFFFF",
        line1="BENCH", line2="2026",
    )  # fmt: skip
    png = render_badge(design, size=400)
    graphic = Graphic(space=space, name="Bench", source=Graphic.Source.UPLOAD)
    graphic.image.save("bench.png", ContentFile(png), save=False)
    graphic.save()
    badge = Badge.objects.create(
        space=space,
        organisation=space.root_organisation,
        name="Benchmarking Basics",
        description="Measures before optimising.",
        language="en",
        issuer=issuer,
        graphic=graphic,
        criteria_text="Run the benchmark twice and explain the difference.",
        state=Badge.State.PUBLISHED,
        published_at=timezone.now(),
        expiry_amount=2,
        expiry_unit=Badge.ExpiryUnit.YEARS,
    )
    _, outcomes = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        recipients=[
            RecipientInput(
                email=f"learner{n}@{tag}.example.test", first_name="Lee", last_name="Ner"
            )
            for n in range(rounds + 1)
        ],
        notify=False,
    )
    award = outcomes[0].award
    from badges.models import Award
    from badges.openbadges.publish import badgeclass_version_for, sign_awards

    award.refresh_from_db()
    version = badgeclass_version_for(award)
    sign_awards(
        list(Award.objects.select_related("badge", "issuer_version__issuer").filter(pk=award.pk))
    )
    print(
        json.dumps(
            {
                "floor": f"/bench/floor/{award.public_id}",
                "assertion": f"/public/assertions/{award.public_id}",
                "fresh": [f"/public/assertions/{o.award.public_id}" for o in outcomes[1:]],
                "badge_current": f"/public/badges/{badge.public_id}",
                "badge": f"/public/badges/{badge.public_id}/v/{version.digest}",
                "issuer": f"/public/issuers/{award.issuer_version.public_id}",
                "credential": f"/public/credentials/{award.public_id}",
                "image": f"/public/assertions/{award.public_id}/image.png",
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=300, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=30, help="untimed rounds first")
    parser.add_argument(
        "--services", action="store_true", help="PostgreSQL + Redis instead of SQLite + memory"
    )
    args = parser.parse_args()

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-public-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings_public",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-secret",
            "SECURE_SSL_REDIRECT": "0",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "VAR_DIR": tmp,
            "STATIC_ROOT": f"{tmp}/static",
            "LOG_LEVEL": "WARNING",
            "BENCH_AWARDS": str(args.warmup + args.requests),
        }
        for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PYTEST_XDIST_WORKER"):
            env.pop(name, None)  # the embedded default: SQLite, local memory cache
        if args.services:
            redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379") + "/11"
            env["DATABASE_URL"] = os.environ.get(
                "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_perf"
            )
            from bench.pg import ensure_database

            ensure_database(env["DATABASE_URL"])
            env["REDIS_URL"] = redis_url
            env["CELERY_BROKER_URL"] = redis_url
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True
        )
        # DEBUG off: the web process starts only with the static files' manifest.
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=REPO,
            env=env,
            check=True,
        )
        seeded = subprocess.run(
            [python, "-c", "from bench.public import seed; seed()"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        paths = json.loads(seeded.stdout.strip().splitlines()[-1])
        server = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "badgeplatform.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],  # fmt: skip
            cwd=REPO,
            env=env,
        )
        try:
            for _ in range(100):
                try:
                    if get(port, "/healthz", "application/json")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the server did not start")
            run(port, paths, args)
        finally:
            server.terminate()
            server.wait(timeout=10)


def run(port: int, paths: dict, args) -> None:
    json_ld = "application/ld+json"
    targets = {
        "floor": (paths["floor"], "application/json"),
        "assertion_cached": (paths["assertion"], json_ld),
        "assertion_uncached": (None, json_ld),
        "badge_current": (paths["badge_current"], json_ld),
        "badge_version": (paths["badge"], json_ld),
        "issuer": (paths["issuer"], json_ld),
        "credential": (paths["credential"], json_ld),
        "baked_png": (paths["image"], "image/png"),
    }
    times: dict[str, list[float]] = {name: [] for name in targets}
    sizes: dict[str, int] = {}
    for round_number in range(args.warmup + args.requests):
        for name, (path, accept) in targets.items():
            path = path or paths["fresh"][round_number]
            status, size, elapsed = get(port, path, accept)
            if status != 200:
                raise SystemExit(f"{name}: GET {path} answered {status}")
            sizes[name] = size
            if round_number >= args.warmup:
                times[name].append(elapsed)
    stack = "PostgreSQL + Redis" if args.services else "SQLite, local-memory cache"
    print(
        f"python {sys.version.split()[0]}, gunicorn 1 sync worker, {stack}; "
        f"{args.requests} rounds after {args.warmup} warm-up rounds; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(
            f"{name:15s} median {medians[name] * 1000:6.3f} ms  p90 {p90 * 1000:6.3f} ms  "
            f"({sizes[name]} bytes)"
        )
    ratios = {name: medians[name] / medians["floor"] for name in targets if name != "floor"}
    for name, ratio in ratios.items():
        print(f"ratio_{name}_to_floor={ratio:.3f}")
    print(f"worst_ratio_to_floor={max(ratios.values()):.3f}")


if __name__ == "__main__":
    main()
