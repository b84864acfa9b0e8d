"""PostgreSQL restarted during a run of Events API calls: 200 or a clean 503, nothing half-written.

    python -m drills.pg_restart [--seconds 30] [--restarts 3] [--keep]

The machine's PostgreSQL is shared, so the drill makes its own throwaway cluster (initdb into
a temp dir as the ``postgres`` user, trust auth, 127.0.0.1 on a free port), migrates a
database there, and serves it with gunicorn (2 workers, persistent connections as in
production). Four threads send calls of 5 events (new people) for --seconds while the cluster
is stopped (fast: clients cut off) and started again --restarts times. Every answer must be
200 (all events awarded) or 503 with a message; afterwards every IssueBatch has all its awards
(5) and the people of an answered-200 call all have theirs.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from drills.common import Drill, free_port, make_fixtures, post, report, wait_for

PER_CALL = 5


class Cluster:
    """A throwaway PostgreSQL cluster owned by the postgres user (initdb refuses root)."""

    def __init__(self, folder: Path):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise SystemExit("No PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = Path(bins[-1])
        self.data = folder / "pgdata"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        folder.chmod(0o755)
        self.data.mkdir()
        if self.as_user:
            shutil.chown(self.data, "postgres", "postgres")
        self.log = folder / "postgres.log"
        self.log.touch()
        if self.as_user:
            shutil.chown(self.log, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/issue9drills"

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.data} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    drill = Drill("pg_restart")
    cluster = Cluster(drill.tmp)
    drill.env["DATABASE_URL"] = cluster.url
    drill.env["DB_CONN_MAX_AGE"] = "60"
    try:
        cluster.start()
        run(drill, cluster, args)
    finally:
        drill.close(keep=True)  # the cluster's files: removed below, after it stopped
        if cluster.running():
            cluster.stop()
        if not args.keep:
            shutil.rmtree(drill.tmp, ignore_errors=True)


def run(drill: Drill, cluster: Cluster, args) -> None:
    drill.setup_django()
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from badges.models import Award, IssueBatch

    tag = f"drill-pg-{secrets.token_hex(3)}"
    space, badge, developer_key, token, _ = make_fixtures(tag)
    drill.start_redis()
    base = drill.start_server(workers=2)
    connection.close()
    headers = {
        "X-Api-Key": developer_key,
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }
    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0).isoformat()
    answers: list[tuple[int, int, bytes]] = []
    counter = iter(range(10**9))
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def sender() -> None:
        while time.monotonic() < stop:
            with lock:
                n = next(counter)
            body = json.dumps(
                [
                    {
                        "ActivityId": str(badge.public_id),
                        "ActivityTime": when,
                        "UserId": f"R-{n}-{j}",
                        "Email": f"r{n}.{j}@{tag}.drill",
                        "FirstName": "Restart",
                        "LastName": f"{n}-{j}",
                    }
                    for j in range(PER_CALL)
                ]
            ).encode()
            status, content = post(base + "/api/ActivityEvents", body, headers, timeout=30)
            with lock:
                answers.append((n, status, content))

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    downtime = []
    for _ in range(args.restarts):
        time.sleep(args.seconds / (args.restarts + 1))
        went = time.monotonic()
        cluster.stop()
        time.sleep(1.0)  # down long enough for calls to meet it
        cluster.start()
        downtime.append(time.monotonic() - went)
    for t in threads:
        t.join()

    statuses = Counter(status for _, status, _ in answers)
    bad_bodies = [
        (s, c[:200]) for _, s, c in answers if s == 503 and b"database is unavailable" not in c
    ]
    others = [(s, c[:300]) for _, s, c in answers if s not in (200, 503)]
    wait_for(lambda: connection.ensure_connection() is None, 30, "database")
    batches = IssueBatch.objects.filter(space=space).annotate(n=Count("awards"))
    half_written = [b.pk for b in batches if b.n != PER_CALL]
    awarded_people = set(
        Award.objects.filter(space=space).values_list("recipient__email", flat=True)
    )
    ok_calls = [n for n, s, _ in answers if s == 200]
    missing = sum(
        f"r{n}.{j}@{tag}.drill" not in awarded_people for n in ok_calls for j in range(PER_CALL)
    )
    failed_but_stored = sum(
        any(f"r{n}.{j}@{tag}.drill" in awarded_people for j in range(PER_CALL))
        for n, s, _ in answers
        if s != 200
    )
    figures = {
        "calls": len(answers),
        "http_statuses": dict(statuses),
        "restarts": args.restarts,
        "downtime_s": [round(d, 1) for d in downtime],
        "accepted_events": len(ok_calls) * PER_CALL,
        "stored_awards": Award.objects.filter(space=space).count(),
        "batches": batches.count(),
        "half_written_batches": len(half_written),
        "lost": missing,
        "not_200_but_stored": failed_but_stored,
    }
    broken = []
    if others:
        broken.append(f"answers other than 200/503: {others[:3]}")
    if bad_bodies:
        broken.append(f"503 without the message: {bad_bodies[:3]}")
    if half_written:
        broken.append(f"half-written batches: {half_written[:10]}")
    if missing:
        broken.append("an event answered 200 has no award")
    report(figures, broken)
    for status, content in others[:5]:
        print(f"  {status}: {content!r}")


if __name__ == "__main__":
    main()
