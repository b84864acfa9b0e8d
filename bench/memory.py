"""Memory of the production processes across 100,000 awards (issue 15: "a worker stays under
300 MB RSS across 100,000 awards").

    BENCH_DATABASE_URL=… BENCH_REDIS_DBS=cache,broker \\
        python -m bench.memory [--calls 100] [--size 1000] [--worker-concurrency 2]

Starts the stack of ``bench.issue_e2e`` (gunicorn with one sync worker, the Celery worker
``--concurrency=2``, the nice'd signer on the ``signing`` queue; PostgreSQL, Redis and an
aiosmtpd SMTP server in this process counting every message by (recipient, Message-ID)),
posts ``--calls`` × ``--size`` events for new people to ``POST /api/ActivityEvents`` one call
after the other, and waits until every email of the run has been handed to the SMTP server
and every credential is signed. Meanwhile it reads the resident set size (RSS, and PSS, from
``/proc/<pid>/smaps_rollup``) of every process of the stack every ``--every`` seconds:
gunicorn's master and worker, the Celery worker's main process and prefork children, the
signer's.

Each sample is tagged with the progress of the work that process does: awards accepted by the
API (gunicorn), awards whose emails have all reached the SMTP server (worker: emails / 2, each
new person gets the badge email and the verification email), credentials stored (signer). It
prints, per process, its maximum RSS, its RSS per tenth of the run (max of the samples in each
tenth: a leak climbs tenth after tenth) and the growth between the first and the last 10,000
awards (max RSS while progress was in the last 10,000 minus max while in the first 10,000),
then ``stack_pss_max_mb=`` (the most the processes used together), ``max_rss_growth_mb=``,
``emails_lost=`` / ``emails_duplicated=``, the load average and, last,
``max_worker_rss_mb=`` (the largest RSS any process reached; target < 300). ``--samples FILE``
writes every sample as CSV. A process that exits (a pool process replaced) shows as its own
row. The workers run without docker-compose's ``--max-memory-per-child`` safety net, so that
replacing a pool process cannot hide what the code itself keeps.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.issue_e2e import Sink, Stack, bodies, post, start_sink, wait_for

LIMIT_MB = 300


def memory_mb(pid: int) -> tuple[float, float] | None:
    """(RSS, PSS) of ``pid`` in MB, None once it has exited. RSS counts the pages a prefork
    child still shares with its parent in full; PSS divides shared pages among the processes
    sharing them, so the PSS of all processes adds up to what the stack really uses."""
    try:
        fields = dict(
            line.split(":", 1)
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
        )
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields["Rss"].split()[0]) / 1024, int(fields["Pss"].split()[0]) / 1024


def children(pid: int) -> list[int]:
    pids: list[int] = []
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


@dataclass
class Series:
    role: str
    pid: int
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (t, RSS MB, progress)

    @property
    def max_mb(self) -> float:
        return max(mb for _, mb, _ in self.samples)

    def window_max(self, low: int, high: int) -> float | None:
        inside = [mb for _, mb, p in self.samples if low <= p <= high]
        return max(inside) if inside else None


class Sampler(threading.Thread):
    """Reads every process of the stack every ``every`` seconds; ``progress[role_prefix]``
    (a callable) says how many awards that kind of process has done so far."""

    def __init__(self, roots: dict[str, int], progress: dict[str, object], every: float):
        super().__init__(daemon=True)
        self.roots, self.progress, self.every = roots, progress, every
        self.series: dict[tuple[str, int], Series] = {}
        self.total_pss: list[float] = []  # per round: the PSS of every process, summed
        self.stopped = threading.Event()
        self.started_at = time.perf_counter()

    def processes(self) -> list[tuple[str, int]]:
        found = []
        for name, root in self.roots.items():
            found.append((f"{name}-main", root))
            found += [(f"{name}-child", pid) for pid in children(root)]
        return found

    def sample(self) -> None:
        progress = {name: int(read()) for name, read in self.progress.items()}
        now = time.perf_counter() - self.started_at
        pss_sum = 0.0
        for role, pid in self.processes():
            mb = memory_mb(pid)
            if mb is None:
                continue
            key = (role, pid)
            if key not in self.series:
                self.series[key] = Series(role, pid)
            self.series[key].samples.append((now, mb[0], progress[role.partition("-")[0]]))
            pss_sum += mb[1]
        self.total_pss.append(pss_sum)

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.sample()


def report(series: list[Series], total: int, window: int) -> tuple[float, float]:
    tenth = total // 10
    print(f"{'process':<14}{'pid':>8}{'max MB':>9}{'first':>8}{'last':>8}{'growth':>8}  "
          f"max MB per tenth of the run")  # fmt: skip
    worst_growth = 0.0
    for s in sorted(series, key=lambda s: (s.role, s.pid)):
        first = s.window_max(0, window)
        last = s.window_max(total - window, total)
        growth = None if first is None or last is None else last - first
        if growth is not None:
            worst_growth = max(worst_growth, growth)
        tenths = [s.window_max(i * tenth, (i + 1) * tenth) for i in range(10)]

        def fmt(v):
            return "-" if v is None else f"{v:.0f}"

        print(
            f"{s.role:<14}{s.pid:>8}{s.max_mb:>9.1f}{fmt(first):>8}{fmt(last):>8}"
            f"{'-' if growth is None else f'{growth:+.1f}':>8}  {' '.join(map(fmt, tenths))}"
        )
    return max(s.max_mb for s in series), worst_growth


def count_emails(rows, sink: Sink, domain: str) -> tuple[int, int]:
    """(lost, duplicated): rows the SMTP server never saw, extra copies it saw."""
    from badgeplatform.outbox import message_id

    expected = Counter((r.to.lower(), message_id(r)) for r in rows.iterator(chunk_size=5000))
    seen = Counter({k: n for k, n in sink.counts.items() if k[0].endswith("@" + domain)})
    lost = sum(max(0, n - seen[k]) for k, n in expected.items())
    duplicated = sum(max(0, seen[k] - n) for k, n in expected.items())
    duplicated += sum(n for k, n in seen.items() if k not in expected)
    return lost, duplicated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--samples", type=Path, help="write every sample to this CSV")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after (s)")
    parser.add_argument("--keep", action="store_true", help="keep the logs' temp dir")
    args = parser.parse_args(argv)
    total = args.calls * args.size
    window = min(10_000, total // 10)
    load_before = os.getloadavg()

    sink, controller, smtp_port = start_sink()
    stack = Stack(smtp_port, args.worker_concurrency)
    sampler = None
    try:
        stack.setup_django()
        from django.db import connections

        from badgeplatform.models import OutboundEmail
        from badges.models import Award, AwardCredential
        from bench.events import setup

        tag = f"mem-{secrets.token_hex(4)}"
        domain = f"{tag}.bench"
        print(f"setting up: space {tag}; {args.calls} calls x {args.size:,} events")
        _, badge, _, key, token, _ = setup(tag, 0)
        base = stack.start()
        headers = {
            "X-API-Key": key,
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        payloads = bodies(badge, domain, args.calls, args.size)
        credentials_before = AwardCredential.objects.count()
        accepted = [0]

        def signed() -> int:
            try:
                return AwardCredential.objects.count() - credentials_before
            finally:
                connections.close_all()  # the sampler's thread: no connection left open

        sampler = Sampler(
            {role: proc.pid for role, proc in stack.roles.items()},
            {
                "web": lambda: accepted[0],
                "worker": lambda: sink.seen(domain) // 2,
                "signer": signed,
            },
            args.every,
        )
        sampler.start()
        started = time.perf_counter()
        for body in payloads:
            post(base + "/api/ActivityEvents", body, headers)
            accepted[0] += args.size
        calls_s = time.perf_counter() - started
        print(f"calls done in {calls_s:.1f} s ({total / calls_s:.0f} awards/s accepted)")

        rows = OutboundEmail.objects.filter(to__endswith="@" + domain)
        credentials = AwardCredential.objects.filter(award__recipient_email__endswith="@" + domain)
        expected_emails = rows.count()
        wait_for(lambda: sink.seen(domain) >= expected_emails, args.timeout, "every email")
        emails_s = sink.last - started
        wait_for(lambda: credentials.count() >= total, args.timeout, "every credential")
        signed_s = time.perf_counter() - started
        time.sleep(2)  # late duplicates, and a last sample of the idle processes
        sampler.stopped.set()
        sampler.join()
        lost, duplicated = count_emails(rows, sink, domain)
        unsent = rows.exclude(status=OutboundEmail.Status.SENT).count()
        awards = Award.objects.filter(recipient_email__endswith="@" + domain).count()

        print(
            f"{awards:,} awards, {expected_emails:,} emails handed over in {emails_s:.0f} s, "
            f"{total:,} credentials signed in {signed_s:.0f} s "
            f"({len(next(iter(sampler.series.values())).samples):,} samples per process)"
        )
        if args.samples:
            with args.samples.open("w", newline="") as f:
                out = csv.writer(f)
                out.writerow(["role", "pid", "t_s", "rss_mb", "progress"])
                for s in sampler.series.values():
                    out.writerows([s.role, s.pid, f"{t:.2f}", f"{mb:.1f}", p]
                                  for t, mb, p in s.samples)  # fmt: skip
        worst, growth = report(list(sampler.series.values()), total, window)
        load_after = os.getloadavg()
        print(f"load_average={load_before[0]:.1f} at start, {load_after[0]:.1f} at end "
              f"(15 min {load_after[2]:.1f})")  # fmt: skip
        print(f"awards={awards}")
        print(f"emails_lost={lost}")
        print(f"emails_duplicated={duplicated}")
        print(f"unsent_rows={unsent}")
        print(f"stack_pss_max_mb={max(sampler.total_pss):.1f} (all processes together)")
        print(f"max_rss_growth_mb={growth:.1f} (last {window:,} awards over the first {window:,})")
        print(f"max_worker_rss_mb={worst:.1f} (limit {LIMIT_MB})")
        if worst > LIMIT_MB or lost or duplicated:
            sys.exit(1)
    finally:
        if sampler is not None:
            sampler.stopped.set()
        stack.close(args.keep)
        controller.stop()


if __name__ == "__main__":
    main()
