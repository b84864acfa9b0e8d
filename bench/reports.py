"""Benchmark: the Reports page against the bare SQL that produces the same numbers.

    DATABASE_URL=postgres://… python manage.py seed_scale --awards 1000000
    DATABASE_URL=postgres://… python -m bench.reports [--space scale] [--runs 9]

For each case — breakdown per day / per month × the whole tree / one faculty's subtree ×
the last 1 year / 3 years — it times, interleaved, run after run:

- view: a full GET of the Reports page through Django's test client (session, access,
  queries, the SVG chart, the data table, the per-badge summaries: the whole response);
- sql: the floor — hand-written SQL over a plain cursor giving the same numbers the page
  shows: the day/month counts and the per-badge counts (a breakdown lists each badge), with
  the same MPTT range join for a subtree; ``sql_series`` is the first of the two alone.

It prints each case's median milliseconds and the median of the paired ratios (each view run
against the mean of the floor runs just before and after it), checks that both give the same
numbers, and ends with ``worst_ratio_view_to_sql=<x>``. Run it on PostgreSQL; DEBUG is off as in
production (no query log, no template debugging).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="scale", help="slug of a space built by seed_scale")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per case (median)")
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "badgeplatform.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # as in production: no query log, no template debug

    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from badgeplatform.permissions import SPACE_ADMINISTRATOR
    from badges.models import Award
    from orgs.models import Organisation, Space
    from reporting.periods import Period, report_tz, today
    from reporting.queries import Selection, awards_in, badge_counts, ensure_statistics, series
    from users.models import Membership

    space = Space.objects.filter(slug=args.space).first()
    if space is None:
        print(f"No space {args.space!r}: run `manage.py seed_scale` first.", file=sys.stderr)
        return 2
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL — these figures say little", file=sys.stderr)
    ensure_statistics()
    admin = Membership.objects.filter(space=space, role__name=SPACE_ADMINISTRATOR).first().user
    root = space.root_organisation
    faculty = Organisation.objects.filter(space=space, level=1).order_by("lft").first()
    client = Client()
    client.force_login(admin)
    url = reverse("reporting:index", args=[space.slug])
    tz = report_tz().key
    end = today()
    n_awards = Award.objects.filter(space=space).count()
    in_faculty = Award.objects.filter(
        space=space,
        organisation__tree_id=faculty.tree_id,
        organisation__lft__gte=faculty.lft,
        organisation__rght__lte=faculty.rght,
    ).count()
    print(
        f"space {space.slug!r}: {n_awards:,} awards; subtree {faculty.name!r} holds "
        f"{in_faculty:,}; {connection.vendor} {getattr(connection, 'pg_version', '')}; "
        f"TIME_ZONE {tz}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )

    def floor_sql(unit: str, org: Organisation | None, period: Period):
        join = where = ""
        params: list = []
        if org is not None:
            join = "JOIN orgs_organisation o ON o.id = a.organisation_id "
            where = "AND o.tree_id = %s AND o.lft >= %s AND o.rght <= %s "
            params = [org.tree_id, org.lft, org.rght]
        base = (
            f"FROM badges_award a {join}WHERE a.space_id = %s AND a.issued_at >= %s "
            f"AND a.issued_at < %s {where}"
        )
        base_params = [space.pk, period.starts_at, period.ends_before, *params]
        series_sql = (
            f"SELECT date_trunc(%s, a.issued_at AT TIME ZONE %s) AS bucket, count(*) {base}"
            "GROUP BY 1"
        )
        badges_sql = f"SELECT a.badge_id, count(*) {base}GROUP BY 1"
        return (series_sql, [unit, tz, *base_params]), (badges_sql, base_params)

    def run_sql(statements) -> list:
        out = []
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                out.append(cursor.fetchall())
        return out

    def timed(fn) -> float:
        began = time.perf_counter()
        fn()
        return (time.perf_counter() - began) * 1000

    rows = []
    for unit in ("day", "month"):
        for scope, org in (("whole tree", None), (f"subtree {faculty.name}", faculty)):
            for years in (1, 3):
                period = Period(end - timedelta(days=365 * years - 1), end)
                params = {
                    "period": "custom",
                    "from": period.start.isoformat(),
                    "to": period.end.isoformat(),
                    "show": unit,
                    "org": (org or root).pk,
                }
                statements = floor_sql(unit, org, period)

                # Same numbers? The view's queries against the floor's, once, untimed.
                selection = Selection(((org or root),), True)
                awards = awards_in(space=space, selection=selection, period=period)
                view_series = {b: n for b, n in series(awards, period, unit) if n}
                sql_series, sql_badges = run_sql(statements)
                floor_series = {b.date(): n for b, n in sql_series}
                assert view_series == floor_series, f"series differ: {unit} {scope} {years}y"
                assert sorted(badge_counts(awards)) == sorted(sql_badges), "badge counts differ"

                def view(params=params):
                    response = client.get(url, params)
                    assert response.status_code == 200, response.status_code
                    assert b"chart-title" in response.content

                for _ in range(args.warmup):
                    view()
                    run_sql(statements)
                # Each view run sits between two floor runs, and its ratio is taken against
                # their mean: the machine's load drifts (other work on a shared host), and a
                # paired ratio cancels what a ratio of two separate medians would not.
                view_ms, sql_ms, series_ms, ratios = [], [], [], []
                for _ in range(args.runs):
                    before = timed(lambda s=statements: run_sql(s))
                    view_ms.append(timed(view))
                    after = timed(lambda s=statements: run_sql(s))
                    sql_ms += [before, after]
                    ratios.append(view_ms[-1] / ((before + after) / 2))
                    series_ms.append(timed(lambda s=statements: run_sql(s[:1])))
                v, s, s1, r = (statistics.median(x) for x in (view_ms, sql_ms, series_ms, ratios))
                rows.append((f"{unit:<5} {scope} {years}y", v, s, s1, r))
                print(
                    f"{rows[-1][0]:<40} view {v:7.1f} ms   sql {s:7.1f} ms   "
                    f"(sql_series {s1:6.1f} ms)   ratio {r:4.2f}",
                    flush=True,
                )
    worst = max(r[4] for r in rows)
    slowest = max(r[1] for r in rows)
    print(f"slowest_view_ms={slowest:.1f}")
    print(f"worst_ratio_view_to_sql={worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
