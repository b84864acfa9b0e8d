"""Benchmark: the Reports page against the bare rollup SQL that produces the same numbers.

    DATABASE_URL=postgres://… python manage.py seed_scale --slug scale --awards 1000000
    DATABASE_URL=postgres://… python manage.py seed_scale --slug scale10m --awards 10000000
    DATABASE_URL=postgres://… python -m bench.reports --space scale --space scale10m [--runs 15]

With several spaces (1M and 10M awards) it also prints, per case, the p95 at each size and
``cost_ratio_<last>_to_<first>=`` (p95 of the largest over the smallest).

For each case — breakdown per day / per month × the whole tree / one faculty's subtree ×
the last 1 year / 3 years — it times, interleaved, run after run:

- view: a full GET of the Reports page through Django's test client (session, access,
  queries, the SVG chart, the data table, the per-badge summaries: the whole response);
- sql: the floor — hand-written SQL over a plain cursor on the rollup tables giving the same
  numbers the page shows: the day/month counts and the per-badge counts (a breakdown lists
  each badge), with the same MPTT range join for a subtree; ``sql_series`` is the first alone.

- page_sql: every statement the page itself sends (session, access, organisations offered,
  series, engagement, per-badge and per-organisation counts, the page's badges), captured
  once and replayed on a bare cursor. ``sql`` is a floor for the numbers alone, which a
  breakdown page cannot reach: it legitimately runs ~12 queries, and their round trips alone
  exceed 1.5x the two rollup queries. view / page_sql is what Python and templates add.

It prints each case's median milliseconds and the median of the paired ratios (each view run
against the mean of the floor runs just before and after it), checks that both give the same
numbers, and ends with ``worst_ratio_view_to_rollup_sql=<x>`` (view over ``sql``, the first
definition, kept) and ``worst_ratio_view_to_sql=<x>`` (view over ``page_sql``). Run it on
PostgreSQL; DEBUG is off as in production (no query log, no template debugging).
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
    parser.add_argument(
        "--space", action="append", help="slug of a space built by seed_scale (repeatable)"
    )
    parser.add_argument("--runs", type=int, default=15, help="timed runs per case (median)")
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "badgeplatform.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # as in production: no query log, no template debug

    from django.db import connection

    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL — these figures say little", file=sys.stderr)
    results = {}
    for slug in args.space or ["scale"]:
        rows = bench_space(slug, args)
        if rows is None:
            return 2
        results[slug] = rows
    every = [r for rows in results.values() for r in rows]
    worst = max(r[4] for r in every)
    slowest = max(r[1] for r in every)
    print(f"slowest_view_ms={slowest:.1f}")
    for slug, rows in results.items():
        whole = max(r[5] for r in rows if r[0].endswith("whole tree 3y"))
        breakdown = max(r[5] for r in rows if r[0].endswith("whole tree 3y breakdown"))
        print(f"{slug}: p95_whole_tree_3y_ms={whole:.1f} p95_breakdown_3y_ms={breakdown:.1f}")
    if len(results) > 1:
        first, last = list(results)[0], list(results)[-1]
        ratios = [b[5] / a[5] for a, b in zip(results[first], results[last], strict=True)]
        for a, r in zip(results[first], ratios, strict=True):
            print(f"  {a[0]:<40} p95 {last}/{first} = {r:.2f}")
        print(f"cost_ratio_{last}_to_{first}={max(ratios):.2f} (worst case)")
    # The first definition (kept): the floor is the rollup SQL for the numbers alone.
    print(f"worst_ratio_view_to_rollup_sql={worst:.2f}")
    # The page against every query it sends, replayed on a bare cursor (see the docstring).
    print(f"worst_ratio_view_to_sql={max(r[6] for r in every):.2f}")
    return 0


def bench_space(slug: str, args) -> list | None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from badgeplatform.permissions import SPACE_ADMINISTRATOR
    from badges.models import Award
    from orgs.models import Organisation, Space
    from reporting.periods import Period, report_tz, today
    from reporting.queries import Counted, Selection, badge_counts, series, split_period
    from users.models import Membership

    space = Space.objects.filter(slug=slug).first()
    if space is None:
        print(f"No space {slug!r}: run `manage.py seed_scale --slug {slug}` first.",
              file=sys.stderr)  # fmt: skip
        return None
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
        """The rollup SQL: day rows (the space's own table for the whole tree, the
        per-organisation one for a subtree), and per badge the whole months' rows plus the
        partial months' days."""
        join = where = ""
        params: list = []
        if org is not None:
            join = "JOIN orgs_organisation o ON o.id = r.organisation_id "
            where = "AND o.tree_id = %s AND o.lft >= %s AND o.rght <= %s "
            params = [org.tree_id, org.lft, org.rght]
        if org is None:
            series_sql = (
                "SELECT date_trunc(%s, day)::date, sum(issued) FROM "
                "reporting_spacedailyawardcount WHERE space_id = %s AND day >= %s AND day <= %s "
                "GROUP BY 1"
            )
            series_params = [unit, space.pk, period.start, period.end]
        else:
            # The per-organisation day rows (no badge), as the page reads them since
            # reporting_orgdailyawardcount exists (the floor read the per-badge rows before).
            series_sql = (
                "SELECT date_trunc(%s, day)::date, sum(issued) FROM "
                f"reporting_orgdailyawardcount r {join}WHERE r.space_id = %s AND day >= %s "
                f"AND day <= %s {where}GROUP BY 1"
            )
            series_params = [unit, space.pk, period.start, period.end, *params]
        months, edges = split_period(period.start, period.end)
        parts, part_params = [], []
        if months:
            parts.append(
                f"SELECT r.badge_id, r.issued FROM reporting_monthlyawardcount r {join}"
                f"WHERE r.space_id = %s AND r.month >= %s AND r.month <= %s {where}"
            )
            part_params += [space.pk, *months, *params]
        for first, last in edges:
            parts.append(
                f"SELECT r.badge_id, r.issued FROM reporting_dailyawardcount r {join}"
                f"WHERE r.space_id = %s AND r.day >= %s AND r.day <= %s {where}"
            )
            part_params += [space.pk, first, last, *params]
        badges_sql = f"SELECT badge_id, sum(issued) FROM ({' UNION ALL '.join(parts)}) u GROUP BY 1"
        return (series_sql, series_params), (badges_sql, part_params)

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

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM reporting_dailyawardcount WHERE space_id = %s), "
            "(SELECT count(*) FROM reporting_monthlyawardcount WHERE space_id = %s)",
            [space.pk, space.pk],
        )
        n_rollup, n_monthly = cursor.fetchone()
    print(f"  rollup rows: {n_rollup:,} daily, {n_monthly:,} monthly", flush=True)

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20, method="inclusive")[18]

    rows = []
    for unit in ("day", "month"):
        for scope, org in (("whole tree", None), (f"subtree {faculty.name}", faculty)):
            for years in (1, 3):
                period = Period(end - timedelta(days=365 * years - 1), end)
                statements = floor_sql(unit, org, period)

                # Same numbers? The view's queries against the floor's, once, untimed.
                selection = Selection(((org or root),), True)
                counted = Counted(space, selection, period)
                view_series = {b: n for b, n in series(counted, period, unit) if n}
                sql_series, sql_badges = run_sql(statements)
                floor_series = {b: n for b, n in sql_series if n}
                assert view_series == floor_series, f"series differ: {unit} {scope} {years}y"
                assert sorted(badge_counts(counted)) == sorted(
                    (b, n) for b, n in sql_badges if n
                ), "badge counts differ"

                for breakdown in ("", "1"):
                    params = {
                        "period": "custom",
                        "from": period.start.isoformat(),
                        "to": period.end.isoformat(),
                        "show": unit,
                        "org": (org or root).pk,
                        "breakdown": breakdown,
                    }

                    def view(params=params):
                        response = client.get(url, params)
                        assert response.status_code == 200, response.status_code
                        assert b"chart-title" in response.content

                    for _ in range(args.warmup):
                        view()
                        run_sql(statements)
                    # Every statement the page sends (session, access, organisations
                    # offered, series, engagement, counts per badge and organisation, the
                    # page's badges), captured once and replayed on a bare cursor: the page's
                    # own SQL, so view / page_sql is what Python and templates add.
                    with CaptureQueriesContext(connection) as captured:
                        view()
                    page_sql = [(q["sql"], None) for q in captured.captured_queries]
                    run_sql(page_sql)
                    # Each view run sits between two floor runs, and its ratio is taken
                    # against their mean: the machine's load drifts (other work on a shared
                    # host), and a paired ratio cancels what separate medians would not.
                    view_ms, sql_ms, series_ms, ratios, page_ms, page_ratios = (
                        [] for _ in "123456"
                    )
                    for _ in range(args.runs):
                        before = timed(lambda s=statements: run_sql(s))
                        page_before = timed(lambda s=page_sql: run_sql(s))
                        view_ms.append(timed(view))
                        page_after = timed(lambda s=page_sql: run_sql(s))
                        after = timed(lambda s=statements: run_sql(s))
                        sql_ms += [before, after]
                        page_ms += [page_before, page_after]
                        ratios.append(view_ms[-1] / ((before + after) / 2))
                        page_ratios.append(view_ms[-1] / ((page_before + page_after) / 2))
                        series_ms.append(timed(lambda s=statements: run_sql(s[:1])))
                    v, s, s1, r, pg, pr = (
                        statistics.median(x)
                        for x in (view_ms, sql_ms, series_ms, ratios, page_ms, page_ratios)
                    )
                    label = f"{unit:<5} {scope} {years}y" + (" breakdown" if breakdown else "")
                    rows.append((label, v, s, s1, r, p95(view_ms), pr))
                    print(
                        f"{label:<50} view {v:6.1f} ms (p95 {rows[-1][5]:6.1f})   "
                        f"sql {s:6.1f} ms   (sql_series {s1:5.1f} ms)   ratio {r:4.2f}   "
                        f"page_sql {pg:6.1f} ms ({len(page_sql)} queries)   ratio {pr:4.2f}",
                        flush=True,
                    )
    return rows


if __name__ == "__main__":
    sys.exit(main())
