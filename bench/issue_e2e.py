"""End-to-end issuing: from the API call to every email handed to SMTP, credentials signable.

    python -m bench.issue_e2e [--runs 3] [--calls 5] [--size 1000] [--worker-concurrency 2]

The production setup of README.md / docker-compose.yml on this machine: PostgreSQL
(``BENCH_DATABASE_URL``, default the local cluster's ``bench_perf``, created and migrated on
first use), Redis (cache ``BENCH_REDIS_URL`` db 9, broker db 10, flushed at start: use dbs no
one else uses), gunicorn with **one sync worker** (DEBUG off) and a Celery worker
(``celery -A badgeplatform worker --concurrency=2``, prefork, the default queue; and
docker-compose's ``signer``: the ``signing`` queue, one process, ``nice -n 10``), emails
through Django's SMTP backend to a **real SMTP server** run here (aiosmtpd, in a thread of
this process) that counts every message it is handed by (recipient, subject).

Each run posts ``--calls`` × ``--size`` events for new people (so every award has its badge
email and its person a verification email) to ``POST /api/ActivityEvents``, one call after the
other, and waits until every award is stored and every outbox row of the run has reached the
SMTP server. Each award's OB 3.0 credential must then be *signed or signable on first request
with the same bytes every time* (issue 15): 20 not yet signed by the signer are fetched twice
over HTTP (the first GET signs them; both must answer the same bytes); the run then waits for
the signer to sign the rest (reported, not part of the end-to-end time) and signs 50 stored
credentials again in this process, as a first request would, counting any that come out
different (``credentials_resigned_differently``, must be 0). It prints

- ``request_awards_per_s``: awards over the time the calls took (what the API accepts);
- ``e2e_awards_per_s``: awards over the time from the first call to the last email;
- ``all_presigned_s``: from the first call until the signer has stored every credential;
- ``emails_lost`` / ``emails_duplicated``: outbox rows never seen by the SMTP server / extra
  copies it saw (counted again 2 s after the end, for late duplicates);
- ``ratio_to_floor``: the end-to-end time over the floor's, measured in the same run.

The **floor** is the physical minimum of the same work: the same number of award rows
bulk-inserted (``bulk_create``, 1,000 per transaction) and the same number of minimal emails
sent over one SMTP connection (``smtplib``) to the same server. Floors and runs alternate
(F E F E … F): each run's ratio is over the mean of the floors either side of it, since the load
on a shared machine drifts. The last line is the median ``ratio_to_floor``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_perf")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
# Redis db numbers (flushed at start): BENCH_REDIS_DBS="cache,broker" when 9 and 10 are taken.
CACHE_DB, BROKER_DB = (int(n) for n in os.environ.get("BENCH_REDIS_DBS", "9,10").split(","))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


# --- the SMTP server -------------------------------------------------------------------------
class Sink:
    """aiosmtpd handler: counts (recipient, Message-ID) of every message handed to it (the
    outbox gives each row its own Message-ID, the same on every attempt)."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.per_domain: Counter = Counter()
        self.total = 0
        self.last = 0.0
        self.parser = BytesHeaderParser(policy=default_policy)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        headers = self.parser.parsebytes(envelope.original_content or envelope.content)
        message_id = str(headers["Message-ID"] or "").strip()
        for rcpt in envelope.rcpt_tos:
            self.counts[(rcpt.lower(), message_id)] += 1
            self.per_domain[rcpt.lower().rpartition("@")[2]] += 1
        self.total += len(envelope.rcpt_tos)
        self.last = time.perf_counter()
        return "250 OK"

    def seen(self, domain: str) -> int:
        return self.per_domain[domain]


def start_sink() -> tuple[Sink, object, int]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    return sink, controller, port


# --- the stack -------------------------------------------------------------------------------
class Stack:
    def __init__(self, smtp_port: int, concurrency: int):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
        self.procs: list[subprocess.Popen] = []
        self.roles: dict[str, subprocess.Popen] = {}  # by start()
        self.concurrency = concurrency
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "badgeplatform.settings",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": f"{REDIS}/{CACHE_DB}",
            "CELERY_BROKER_URL": f"{REDIS}/{BROKER_DB}",
            "CACHE_KEY_PREFIX": "bench-e2e",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            "API_RATE_LIMIT": "1000000",
            "VAR_DIR": str(self.tmp / "var"),
            "STATIC_ROOT": os.environ.get("BENCH_STATIC_ROOT", "/tmp/bench-e2e-static"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("PYTEST_XDIST_WORKER", None)

    def setup_django(self) -> None:
        os.environ.update(self.env)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        ensure_database()
        call_command("migrate", verbosity=0, interactive=False)
        if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
            call_command("collectstatic", verbosity=0, interactive=False)
        import redis

        for db in (CACHE_DB, BROKER_DB):  # ours alone (see the module's docstring)
            redis.Redis.from_url(f"{REDIS}/{db}").flushdb()

    def spawn(self, args: list[str], log: str) -> subprocess.Popen:
        out = open(self.tmp / log, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def start(self) -> str:
        """Start gunicorn, the worker and the signer (``self.roles``: their processes)."""
        port = free_port()
        web = self.spawn(
            [str(BIN / "gunicorn"), "badgeplatform.wsgi", "-b", f"127.0.0.1:{port}",
             "-w", "1", "--timeout", "120"],
            "gunicorn.log",
        )  # fmt: skip
        worker = self.spawn(
            [str(BIN / "celery"), "-A", "badgeplatform", "worker", "-P", "prefork",
             "-c", str(self.concurrency), "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "INFO"],
            "worker.log",
        )  # fmt: skip
        # docker-compose's `signer`: the signing queue, one process, low CPU priority.
        signer = self.spawn(  # nice execs celery: the same process
            ["nice", "-n", "10", str(BIN / "celery"), "-A", "badgeplatform", "worker",
             "-Q", "signing", "-P", "prefork", "-c", "1", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-l", "INFO", "-n", "signer@%h"],
            "signer.log",
        )  # fmt: skip
        self.roles = {"web": web, "worker": worker, "signer": signer}
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: urllib.request.urlopen(base + "/healthz", timeout=2), 60, "gunicorn")
        for log in ("worker.log", "signer.log"):
            wait_for(lambda log=log: b"ready." in (self.tmp / log).read_bytes(), 60, log)
        return base

    def close(self, keep: bool) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        if keep:
            print(f"kept {self.tmp}")
        else:
            import shutil

            shutil.rmtree(self.tmp, ignore_errors=True)


def ensure_database() -> None:
    """Create the benchmark's database if missing (never any other)."""
    from bench.pg import ensure_database as ensure

    ensure(DATABASE_URL)


# --- one end-to-end run ----------------------------------------------------------------------
def bodies(badge, domain: str, calls: int, size: int) -> list[bytes]:
    from datetime import timedelta

    from django.utils import timezone

    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0).isoformat()
    return [
        json.dumps(
            [
                {
                    "ActivityId": str(badge.public_id),
                    "ActivityTime": when,
                    "UserId": f"E-{c}-{j}-{domain}",
                    "Email": f"p{c}-{j}@{domain}",
                    "FirstName": "New",
                    "LastName": f"Person {c}-{j}",
                }
                for j in range(size)
            ]
        ).encode()
        for c in range(calls)
    ]


def post(url: str, body: bytes, headers: dict) -> float:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            payload = response.read()
    except urllib.error.HTTPError as exc:
        sys.exit(f"API answered {exc.code}: {exc.read()[:300]!r}")
    elapsed = time.perf_counter() - started
    statuses = {r["Status"] for r in json.loads(payload)["Results"]}
    if statuses != {"awarded"}:
        sys.exit(f"Expected every event awarded, got {statuses}")
    return elapsed


def e2e_run(base, key, token, badge, sink: Sink, run: int, calls: int, size: int) -> dict:
    from badgeplatform.models import OutboundEmail
    from badgeplatform.outbox import message_id
    from badges.models import Award, AwardCredential

    domain = f"r{run}-{secrets.token_hex(3)}.bench"
    payloads = bodies(badge, domain, calls, size)
    headers = {
        "X-API-Key": key,
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }
    awards = Award.objects.filter(recipient_email__endswith="@" + domain)
    credentials = AwardCredential.objects.filter(award__recipient_email__endswith="@" + domain)
    rows = OutboundEmail.objects.filter(to__endswith="@" + domain)
    total = calls * size

    started = time.perf_counter()
    request_seconds = sum(post(base + "/api/ActivityEvents", body, headers) for body in payloads)
    accepted = time.perf_counter()
    expected_emails = rows.count()
    emails_at = None
    deadline = time.monotonic() + 600
    while emails_at is None and time.monotonic() < deadline:
        if sink.seen(domain) >= expected_emails:
            emails_at = sink.last
        time.sleep(0.1)
    if emails_at is None:
        sys.exit(f"run {run}: not done in 600 s (emails {sink.seen(domain)}/{expected_emails})")
    # Every award is stored and every email handed over: the run is done end to end if every
    # credential is signable on first request with the same bytes every time. Checked on a
    # sample of those the signer has not reached yet: the first GET signs and stores, the
    # second must answer the same bytes (and later the re-signing check below must agree).
    presigned_at_end = credentials.count()
    unsigned = list(
        awards.filter(credential__isnull=True)
        .order_by("?")
        .values_list("public_id", flat=True)[:20]
    )
    first_requests = [get_credential(base, public_id) for public_id in unsigned]
    for public_id, body in zip(unsigned, first_requests, strict=True):
        if get_credential(base, public_id) != body:
            sys.exit(f"run {run}: credential {public_id} answered different bytes")
    # The signer finishes in the background (not part of the end-to-end time); the next
    # floor waits for it so that runs do not overlap.
    wait_for(lambda: credentials.count() >= total, 900, "the signer")
    signed_at = time.perf_counter()
    mismatches = resign_mismatches(credentials, 50)
    time.sleep(2)  # late duplicates (a redelivered task) would show by now
    expected = Counter((r.to.lower(), message_id(r)) for r in rows)
    seen = Counter({k: n for k, n in sink.counts.items() if k[0].endswith("@" + domain)})
    lost = sum(max(0, n - seen[k]) for k, n in expected.items())
    duplicated = sum(max(0, seen[k] - n) for k, n in expected.items())
    duplicated += sum(n for k, n in seen.items() if k not in expected)
    return {
        "awards": awards.count(),
        "emails": expected_emails,
        "request_s": request_seconds,
        "accepted_s": accepted - started,
        "emails_s": emails_at - started,
        "signed_s": signed_at - started,
        "presigned_at_end": presigned_at_end,
        "first_requests": len(first_requests),
        "resign_mismatches": mismatches,
        "e2e_s": emails_at - started,
        "lost": lost,
        "duplicated": duplicated,
        "unsent_rows": rows.exclude(status=OutboundEmail.Status.SENT).count(),
    }


def get_credential(base: str, public_id) -> bytes:
    request = urllib.request.Request(
        f"{base}/public/credentials/{public_id}", headers={"Accept": "application/ld+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def resign_mismatches(credentials, sample: int) -> int:
    """Stored credentials (by the signer or a first request) that signing again here, as a
    first request would, does not reproduce byte for byte."""
    from badges.models import Award
    from badges.openbadges import publish, status
    from badges.openbadges.keys import award_signer, issuer_keys

    mismatches = 0
    for stored in credentials.select_related("award").order_by("?")[:sample]:
        award = Award.objects.select_related("badge", "issuer_version__issuer").get(
            pk=stored.award_id
        )
        signer = award_signer(issuer_keys(award.issuer_version.issuer), award.issued_at)
        again = publish._sign(
            award, publish.badgeclass_version_for(award), status.entry_for(award), signer
        )
        mismatches += again != stored.credential or signer.key.pk != stored.signing_key_id
    return mismatches


# --- the floor -------------------------------------------------------------------------------
def floor_run(insert, smtp_port: int, sink: Sink, rows: int, emails: int, n: int) -> dict:
    domain = f"floor{n}-{secrets.token_hex(3)}.bench"
    started = time.perf_counter()
    for start in range(0, rows, 1000):
        insert(min(1000, rows - start))
    inserted = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", smtp_port)
    for i in range(emails):
        to = f"f{i}@{domain}"
        smtp.sendmail(
            "floor@bench.test",
            [to],
            f"From: floor@bench.test\r\nTo: {to}\r\nSubject: Floor {i}\r\n\r\nHello.\r\n",
        )
    smtp.quit()
    done = time.perf_counter()
    if sink.seen(domain) != emails:
        sys.exit(f"floor: the SMTP server saw {sink.seen(domain)} of {emails}")
    return {"insert_s": inserted - started, "smtp_s": done - inserted, "floor_s": done - started}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the logs' temp dir")
    args = parser.parse_args(argv)
    total = args.calls * args.size

    sink, controller, smtp_port = start_sink()
    stack = Stack(smtp_port, args.worker_concurrency)
    try:
        stack.setup_django()
        from bench.events import floor_inserter, setup

        tag = f"e2e-{secrets.token_hex(4)}"
        print(f"setting up: space {tag}, {total:,} floor recipients")
        space, badge, floor_badge, key, token, members = setup(tag, total)
        base = stack.start()
        insert = floor_inserter(space, floor_badge, members)
        # Warm up: gunicorn's first request loads the URLconf; the worker's first task imports.
        post(base + "/api/ActivityEvents", bodies(badge, f"warm-{tag}.bench", 1, 10)[0], {
            "X-API-Key": key, "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        })  # fmt: skip
        time.sleep(3)

        floors, runs = [], []
        emails = 2 * total  # each new person: the badge email and the verification email
        floors.append(floor_run(insert, smtp_port, sink, total, emails, 0))
        for r in range(args.runs):
            runs.append(e2e_run(base, key, token, badge, sink, r, args.calls, args.size))
            floors.append(floor_run(insert, smtp_port, sink, total, emails, r + 1))
            f = (floors[-2]["floor_s"] + floors[-1]["floor_s"]) / 2
            run = runs[-1]
            run["ratio"] = run["e2e_s"] / f
            print(
                f"run {r + 1}: {run['awards']:,} awards, {run['emails']:,} emails; "
                f"calls {run['request_s']:.2f} s, emails done {run['emails_s']:.2f} s "
                f"({run['presigned_at_end']:,} credentials pre-signed by then, "
                f"{run['first_requests']} signed by a first request), all pre-signed "
                f"{run['signed_s']:.2f} s, end to end {run['e2e_s']:.2f} s "
                f"({total / run['e2e_s']:.0f} awards/s); floor {f:.2f} s "
                f"(insert {floors[-1]['insert_s']:.2f} s + smtp {floors[-1]['smtp_s']:.2f} s); "
                f"ratio {run['ratio']:.2f}; lost {run['lost']}, duplicated {run['duplicated']}"
            )

        def med(values):
            return statistics.median(values)

        e2e_rates = [total / r["e2e_s"] for r in runs]
        request_rates = [total / r["request_s"] for r in runs]
        ratios = [r["ratio"] for r in runs]
        print(f"load_average={os.getloadavg()[0]:.1f}")
        print(f"runs={len(runs)}")
        print(f"request_awards_per_s={med(request_rates):.0f} (min {min(request_rates):.0f}, "
              f"max {max(request_rates):.0f})")  # fmt: skip
        print(f"e2e_awards_per_s={med(e2e_rates):.0f} (min {min(e2e_rates):.0f}, "
              f"max {max(e2e_rates):.0f})")  # fmt: skip
        print(f"floor_s={med([f['floor_s'] for f in floors]):.2f}")
        print(f"emails_lost={sum(r['lost'] for r in runs)}")
        print(f"emails_duplicated={sum(r['duplicated'] for r in runs)}")
        print(f"unsent_rows={sum(r['unsent_rows'] for r in runs)}")
        print(f"credentials_resigned_differently={sum(r['resign_mismatches'] for r in runs)}")
        print(f"all_presigned_s={med([r['signed_s'] for r in runs]):.2f}")
        print(f"ratio_to_floor={med(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")
    finally:
        stack.close(args.keep)
        controller.stop()


if __name__ == "__main__":
    main()
