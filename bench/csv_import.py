"""Benchmark: a recipients CSV of 100,000 rows imported into an issue list, against a floor.

    python -m bench.csv_import [--rows 100000] [--keep]

On PostgreSQL (``BENCH_DATABASE_URL``, default the local cluster's ``bench_csv``, created and
migrated on first use), this writes a 100,000-row CSV (email, names, external id, time; one
row in ten with a piece of evidence) to a temporary file and imports it exactly as the issue
page does: ``CsvUploadForm`` then ``badges.batches.draft_add_csv`` (streamed: read, checked,
written 1,000 rows at a time; the checks across the list at the end). A quarter of the rows
name members of the space by their external id, so the look-ups find people too.

The floor, measured in the same run on the same file: plain ``csv.reader`` over it plus one
COPY of the same rows (position, the six values) into a temporary table — reading the file
and storing its rows with nothing checked. Printed: time and rows/s of both, the import's
peak Python memory (tracemalloc, in a second import: tracing slows Python down, so the timed
import runs untraced), the process's RSS growth over the timed import (and how far it raised
the process's peak RSS), the file's size, the
checks done when the list is issued (every row checked again, in a transaction rolled back),
and as the last line ``ratio_to_floor=<x>`` (import time over floor time).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_csv")
MB = 1024 * 1024


def setup_django() -> None:
    from bench.pg import ensure_database

    ensure_database(DATABASE_URL)
    os.environ["DATABASE_URL"] = DATABASE_URL
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "PYTEST_XDIST_WORKER"):
        os.environ.pop(name, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "badgeplatform.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def write_csv(path: Path, rows: int, tag: str) -> int:
    """The file, written in pieces (the generator's memory stays small too)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Email,First name,Last name,External id,Achievement time,EvidenceUrl\r\n")
        for start in range(0, rows, 5000):
            part = []
            for i in range(start, min(start + 5000, rows)):
                ext = f"M-{i}" if i % 4 == 0 else f"S-{i:06d}"
                evidence = f"https://lms.example.org/{tag}/submissions/{i}" if i % 10 == 0 else ""
                part.append(
                    f"learner{i}@{tag}.bench.example,Firstname{i},Lastname{i},{ext},"
                    f"2026-05-01 09:30,{evidence}\r\n"
                )
            out.write("".join(part))
    return path.stat().st_size


def setup_space(tag: str, members: int):
    from django.db import transaction

    from bench.events import _badge
    from users.memberships import members_join_space_bulk
    from users.models import User
    from users.services import space_create

    with transaction.atomic():
        admin = User.objects.create(username=f"{tag}-admin", email=f"admin@{tag}.bench")
        space = space_create(name=f"Bench {tag}", slug=tag, admin=admin)
        badge = _badge(space, "Imported")
        people = User.objects.bulk_create(
            User(
                username=f"{tag}-m{i}",
                email=f"learner{i}@{tag}.bench.example",
                first_name=f"Firstname{i}",
                last_name=f"Lastname{i}",
                password="!",
            )
            for i in range(0, members * 4, 4)
        )
        members_join_space_bulk(
            space=space,
            joining={u.pk: (space.root_organisation, f"M-{i * 4}") for i, u in enumerate(people)},
        )
    return space, badge, admin


def floor(path: Path) -> tuple[float, int]:
    """csv.reader over the file + COPY of its rows into a temporary table."""
    from django.db import connection, transaction

    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_floor (position int, email text, first_name text, "
            "last_name text, external_id text, achieved_at text, evidence text) ON COMMIT DROP"
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        count = 0
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            for cells in reader:
                writer.writerow([count, *cells])
                count += 1
                if count % 5000 == 0:  # COPY in pieces: the floor streams too
                    buffer.seek(0)
                    cursor.cursor.copy_expert("COPY bench_floor FROM STDIN WITH CSV", buffer)
                    buffer.seek(0)
                    buffer.truncate()
        buffer.seek(0)
        cursor.cursor.copy_expert("COPY bench_floor FROM STDIN WITH CSV", buffer)
        cursor.execute("SELECT count(*) FROM bench_floor")
        assert cursor.fetchone()[0] == count
    return time.perf_counter() - start, count


def upload_of(path: Path):
    from django.core.files.uploadedfile import UploadedFile

    # What Django hands the view for a large upload: a file on disk, with its size and name.
    return UploadedFile(
        path.open("rb"), name="cohort.csv", content_type="text/csv", size=path.stat().st_size
    )


def import_once(path: Path, badge, admin, access):
    from badges import batches
    from badges.issuing_forms import CsvUploadForm

    upload = upload_of(path)
    try:
        form = CsvUploadForm(data={"tz": "UTC"}, files={"file": upload})
        assert form.is_valid(), form.errors
        return batches.draft_add_csv(
            badge=badge, actor=admin, upload=form.cleaned_data["file"], tz=ZoneInfo("UTC"),
            access=access,
        )  # fmt: skip
    finally:
        upload.close()


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench space afterwards")
    args = parser.parse_args(argv)
    setup_django()

    from django.db import connection, transaction

    from badgeplatform.access import load_access
    from badges import batches
    from badges.models import IssueBatchRow

    tag = f"csv-{secrets.token_hex(3)}"
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.csv"
        size = write_csv(path, args.rows, tag)
        members = args.rows // 4
        print(f"file: {args.rows:,} rows, {size / MB:.1f} MB; {members:,} rows name members")
        space, badge, admin = setup_space(tag, members)
        access = load_access(space, admin)
        try:
            floor_s, count = floor(path)
            assert count == args.rows

            rss_before, peak_before = rss_now_mb(), rss_peak_mb()
            start = time.perf_counter()
            change = import_once(path, badge, admin, access)
            import_s = time.perf_counter() - start
            rss_growth = rss_now_mb() - rss_before
            # The process's peak RSS, if the import raised it (setup may have gone higher).
            peak_growth = rss_peak_mb() - peak_before
            assert change.added == args.rows, change
            problems = change.with_problems

            # What issuing does first: every row checked again (then rolled back).
            start = time.perf_counter()
            with transaction.atomic():
                batches._batch_confirm(batch=change.batch, achieved_at=None, reach=None)
                transaction.set_rollback(True)
            confirm_s = time.perf_counter() - start

            # The preview: its counts and a page of rows, problems first.
            start = time.perf_counter()
            counts = batches.list_counts(change.batch)
            page = list(
                IssueBatchRow.objects.filter(batch=change.batch).order_by("-problem", "position")[
                    :25
                ]
            )
            preview_ms = (time.perf_counter() - start) * 1000
            assert counts.rows == args.rows and len(page) == 25

            change.batch.delete()
            tracemalloc.start()
            traced = import_once(path, badge, admin, access)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert traced.added == args.rows
        finally:
            if not args.keep:
                cleanup(space)

    print(f"floor (csv.reader + COPY)   {floor_s:7.2f} s  {args.rows / floor_s:10,.0f} rows/s")
    print(f"import (form + service)     {import_s:7.2f} s  {args.rows / import_s:10,.0f} rows/s")
    print(f"  rows with problems: {problems:,}; ready: {counts.ready:,}")
    print(f"issue-time re-check         {confirm_s:7.2f} s  {args.rows / confirm_s:10,.0f} rows/s")
    print(f"preview (counts + 1 page)   {preview_ms:7.1f} ms")
    print(f"peak_tracemalloc_mb={peak / MB:.2f}")
    print(f"rss_growth_mb={rss_growth:.1f} (peak rss raised by {peak_growth:.1f} MB)")
    print(f"file_mb={size / MB:.1f}")
    print(f"import_rows_per_s={args.rows / import_s:.0f}")
    print(f"ratio_to_floor={import_s / floor_s:.2f}")


def cleanup(space) -> None:
    from django.contrib.auth import get_user_model

    from bench.events import cleanup as events_cleanup

    events_cleanup(space, space.slug)  # its users are <slug>-… with addresses @<slug>.bench…
    get_user_model().objects.filter(username__startswith=f"{space.slug}-").delete()


if __name__ == "__main__":
    main()
