"""Reports: the number of badges issued for chosen organisations over a period.

Every page reads the same GET choices (see forms.py). The organisations offered are those the
reader holds "view reports" on (their subtrees, as MPTT ranges); asking for any other id is
refused with 403, and the awards query carries the reader's ranges as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from badgeplatform.access import space_view
from badgeplatform.htmx import INVALID_FORM_STATUS, render_invalid
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from badges.models import Award, Badge
from reporting.charts import Chart, build_chart
from reporting.engagement import engagement_report
from reporting.exports import csv_response, csv_streaming_response
from reporting.forms import SHOW_CHOICES, ReportChoices, ReportForm
from reporting.periods import DAY, PRESETS, bucket_label, fmt_date, report_tz, today
from reporting.queries import (
    Counted,
    OrgNode,
    Selection,
    awards_in,
    badge_counts,
    cumulative,
    first_award_date,
    org_counts,
    report_organisations,
    series,
)

BADGES_PER_PAGE = 20
RECIPIENTS_PER_PAGE = 25
REFUSED = "You may report only on the organisations offered on the Reports page."


@dataclass
class Report:
    """One request's report choices, resolved and checked."""

    form: ReportForm
    offered: list[OrgNode]
    choices: ReportChoices | None = None
    selection: Selection | None = None
    awards: QuerySet[Award] | None = None  # the recipients pages list these
    counted: Counted | None = None  # what the Reports page counts (the rollups)
    chosen_ids: set[int] = field(default_factory=set)

    @property
    def valid(self) -> bool:
        return self.awards is not None

    @property
    def selection_label(self) -> str:
        if self.selection is None:
            return ""
        roots = self.selection.roots()
        if not roots:
            return "no organisation"
        names = [o.name for o in roots[:3]]
        more = f" and {len(roots) - 3} more" if len(roots) > 3 else ""
        label = ", ".join(names) + more
        if self.selection.include_sub:
            label += " (with sub-organisations)"
        return label

    @property
    def picker_markup(self) -> SafeString:
        """The checkbox tree: one <li> per organisation the reader may report on, indented
        by depth. Built here: an administrator's picker lists every organisation of the
        space, and a template loop over hundreds of them is a visible share of the page."""
        base = min((o.level for o in self.offered), default=0)
        return mark_safe(  # noqa: S308 - escaped names, integers
            "".join(
                f'<li class="depth-{min(o.level - base, 6)}"><label><input type="checkbox" '
                f'name="org" value="{o.pk}"{" checked" if o.pk in self.chosen_ids else ""}> '
                f"<span>{escape(o.name)}</span></label></li>"
                for o in self.offered
            )
        )


def _top_level(orgs: list[OrgNode]) -> list[OrgNode]:
    ids = {o.pk for o in orgs}
    return [o for o in orgs if o.parent_id not in ids]


def load_report(request: HttpRequest) -> Report:
    """Read and check the choices. One query for the organisations offered (plus one for the
    date of the first award when the period is "all time")."""
    space, access = request.space, request.access
    offered = report_organisations(space, access.organisations_q(Perm.VIEW_REPORTS))
    form = ReportForm(request.GET, today=today(), first_award=lambda: first_award_date(space))
    report = Report(form=form, offered=offered)
    if not form.is_valid():
        report.chosen_ids = {int(v) for v in request.GET.getlist("org") if v.isdigit()}
        return report
    choices = form.choices
    by_id = {o.pk: o for o in offered}
    if any(pk not in by_id for pk in choices.org_ids):
        raise PermissionDenied(REFUSED)
    chosen = [by_id[pk] for pk in choices.org_ids] if choices.org_ids else _top_level(offered)
    report.choices = choices
    report.chosen_ids = {o.pk for o in chosen}
    report.selection = Selection(tuple(chosen), choices.include_sub)
    scope_q = access.organisations_q(Perm.VIEW_REPORTS, prefix="organisation__")
    report.awards = awards_in(
        space=space, selection=report.selection, period=choices.period, scope_q=scope_q
    )
    report.counted = Counted(space, report.selection, choices.period, scope_q)
    return report


def get_badge_for(request: HttpRequest, badge_id: str | None) -> Badge:
    """The badge a recipients page is about, if the reader may report on it: a badge of an
    organisation they report on, or one with awards counted there (awards count under the
    organisation they were issued in). Any other badge is "not found", like a missing one:
    its name is not the reader's to see. One query."""
    if not badge_id or not badge_id.isdigit() or len(badge_id) > 18:
        raise Http404("No such badge")
    reach = request.access.organisations_q(Perm.VIEW_REPORTS, "organisation__")
    counted_here = Exists(Award.objects.filter(reach, badge=OuterRef("pk")))
    badge = (
        Badge.objects.for_space(request.space)
        .select_related("graphic", "organisation")
        .filter(pk=int(badge_id))
        .filter(reach | Q(counted_here))
        .first()
    )
    if badge is None:
        raise Http404("No such badge")
    return badge


def table_rows_markup(rows: list[tuple], unit: str) -> SafeString:
    """The data table's body, built here for the same reason as Chart.bars_markup: up to
    1,500 rows would cost the template engine more than the query that counted them."""
    return mark_safe(  # noqa: S308 - escaped labels and formatted integers only
        "".join(
            f'<tr><th scope="row">{escape(bucket_label(b, unit))}</th><td>{n:,}</td>'
            f"<td>{c:,}</td></tr>"
            for b, n, c in rows
        )
    )


def _chart_for(report: Report, rows: list[tuple], total: int) -> Chart:
    choices = report.choices
    unit = choices.unit
    period = choices.period
    title = f"Badges issued per {unit}" if choices.bars else "Badges issued, cumulative"
    busiest = max(rows, key=lambda r: r[1], default=None)
    desc = (
        f"{total:,} badges issued from {fmt_date(period.start)} to {fmt_date(period.end)} in "
        f"{report.selection_label}."
    )
    if busiest and busiest[1]:
        desc += f" Busiest {unit}: {bucket_label(busiest[0], unit)}, with {busiest[1]:,}."
    if not choices.bars:
        desc += " The line rises by the number issued each " + unit + "."
    return build_chart(
        buckets=[r[0] for r in rows],
        values=[r[2] if not choices.bars else r[1] for r in rows],
        unit=unit,
        cumulative=not choices.bars,
        title=title,
        desc=desc,
    )


def _badge_summaries(request: HttpRequest, report: Report) -> tuple[Page | None, list[dict]]:
    """One summary per badge in the report, most issued first, a page at a time: one
    aggregate query, then one query for the page's badges (with graphic and organisation)."""
    counts = badge_counts(report.counted)
    if not counts:
        return None, []
    page = paginate(request, counts, BADGES_PER_PAGE)
    badges = (
        Badge.objects.for_space(request.space)
        .select_related("graphic", "organisation")
        .only("name", "organisation__name", "graphic__image")  # what a summary shows
    )
    by_id = badges.in_bulk([badge_id for badge_id, _ in page.object_list])
    base = reverse("reporting:recipients", args=[request.space.slug])
    query = report.choices.query()
    summaries = [
        {
            "badge": by_id[badge_id],
            "count": n,
            "count_fmt": f"{n:,}",
            "recipients_url": f"{base}?{query}&badge={badge_id}",
        }
        for badge_id, n in page.object_list
        if badge_id in by_id
    ]
    return page, summaries


def _page_context(request: HttpRequest, report: Report) -> dict:
    form = report.form
    shown_from, shown_to = form.shown_dates()
    slug = request.space.slug
    ctx = {
        "report": report,
        "form": form,
        "presets": list(PRESETS.items()),
        "show_choices": SHOW_CHOICES,
        "current_preset": form.cleaned_data.get("preset", ""),
        "current_show": (report.choices.show if report.choices else request.GET.get("show")),
        "shown_from": shown_from,
        "shown_to": shown_to,
        "include_sub": form.include_sub,
        "show_breakdown": (
            report.choices.breakdown if report.choices else request.GET.get("breakdown") == "1"
        ),
        "timezone": report_tz().key,
        "report_url": reverse("reporting:index", args=[slug]),
    }
    if not report.valid:
        return ctx
    choices = report.choices
    unit = choices.unit
    counted = series(report.counted, choices.period, unit)
    running = cumulative([n for _, n in counted])
    rows = [(b, n, c) for (b, n), c in zip(counted, running, strict=True)]
    total = running[-1] if running else 0
    ctx.update(
        {
            "choices": choices,
            "unit": unit,
            "series": rows,  # (bucket date, issued, cumulative)
            "table_rows": table_rows_markup(rows, unit),
            "total": total,
            "total_fmt": f"{total:,}",
            "chart": _chart_for(report, rows, total),
            "export_url": reverse("reporting:export", args=[slug]) + "?" + choices.query(),
            "daily": unit == DAY,
            "engagement": engagement_report(
                space=request.space,
                selection=report.selection,
                period=choices.period,
                scope_q=request.access.organisations_q(Perm.VIEW_REPORTS, "organisation__"),
            ),
        }
    )
    if choices.breakdown:
        page, summaries = _badge_summaries(request, report)
        ctx["badge_page"] = page
        ctx["summaries"] = summaries
        ctx["org_rows"] = organisation_breakdown(report)
    return ctx


def organisation_breakdown(report: Report) -> list[dict]:
    """ "Show breakdown", per organisation: each chosen organisation's own awards and, with
    sub-organisations, one row per organisation directly beneath it (its whole branch), in
    tree order. One query (awards grouped by organisation); the tree is the picker's, already
    in memory, so each counted organisation is placed by its MPTT range."""
    counts = org_counts(report.counted)
    selection = report.selection
    if not selection.include_sub:
        return [_row(o.name, counts.get(o.pk, 0)) for o in selection.roots()]
    nodes = {o.pk: o for o in report.offered}
    rows: list[dict] = []
    for root in selection.roots():
        children = [o for o in report.offered if o.parent_id == root.pk]
        rows.append(_row(root.name, counts.get(root.pk, 0), note="itself" if children else ""))
        for child in children:
            n = sum(
                c
                for pk, c in counts.items()
                if (o := nodes.get(pk)) is not None
                and o.tree_id == child.tree_id
                and child.lft <= o.lft <= child.rght
            )
            has_kids = child.rght - child.lft > 1
            rows.append(_row(child.name, n, note="and beneath" if has_kids else "", branch=True))
    return rows


def _row(name: str, count: int, *, note: str = "", branch: bool = False) -> dict:
    return {"name": name, "count": count, "count_fmt": f"{count:,}", "note": note, "branch": branch}


@space_view(Perm.VIEW_REPORTS)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The Reports page. With htmx (a choice changed) only the results are sent back."""
    report = load_report(request)
    ctx = _page_context(request, report)
    template = "reporting/report.html#results" if request.htmx else "reporting/report.html"
    status = 200 if report.valid else INVALID_FORM_STATUS
    return TemplateResponse(request, template, ctx, status=status)


@space_view(Perm.VIEW_REPORTS)
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The chart's numbers as CSV: one row per day or month."""
    report = load_report(request)
    if not report.valid:
        return render_invalid(request, "reporting/report.html", _page_context(request, report))
    choices = report.choices
    unit = choices.unit
    counted = series(report.counted, choices.period, unit)
    running = cumulative([n for _, n in counted])
    period = choices.period
    filename = f"badges-issued-{period.start}-to-{period.end}-per-{unit}.csv"
    header = ["Date" if unit == DAY else "Month", "Badges issued", "Cumulative total"]
    rows = (
        (b.isoformat() if unit == DAY else f"{b:%Y-%m}", n, c)
        for (b, n), c in zip(counted, running, strict=True)
    )
    return csv_response(filename, header, rows)


def _recipient_awards(report: Report, badge: Badge) -> QuerySet[Award]:
    return (
        report.awards.filter(badge=badge)
        .select_related("recipient", "organisation")
        .order_by("-issued_at", "-pk")
    )


@space_view(Perm.VIEW_REPORTS)
@require_GET
def recipients(request: HttpRequest) -> HttpResponse:
    """Who received one badge within the report's organisations and period, newest first."""
    badge = get_badge_for(request, request.GET.get("badge"))
    report = load_report(request)
    ctx = {"badge": badge, "report": report, "timezone": report_tz().key}
    template = "reporting/recipients.html#list" if request.htmx else "reporting/recipients.html"
    if not report.valid:
        ctx["errors"] = report.form.errors
        return render_invalid(request, template, ctx)
    slug = request.space.slug
    query = report.choices.query(badge=badge.pk)
    page = paginate(request, _recipient_awards(report, badge), RECIPIENTS_PER_PAGE)
    ctx.update(
        {
            "page": page,
            "here": reverse("reporting:recipients", args=[slug]),
            "csv_url": reverse("reporting:recipients_csv", args=[slug]) + "?" + query,
            "back_url": reverse("reporting:index", args=[slug]) + "?" + report.choices.query(),
        }
    )
    return TemplateResponse(request, template, ctx)


@space_view(Perm.VIEW_REPORTS)
@require_GET
def recipients_csv(request: HttpRequest) -> HttpResponse:
    """Every recipient of one badge in the report, streamed (a popular badge has thousands)."""
    badge = get_badge_for(request, request.GET.get("badge"))
    report = load_report(request)
    if not report.valid:
        return TemplateResponse(
            request,
            "reporting/recipients.html",
            {"badge": badge, "report": report, "errors": report.form.errors},
            status=INVALID_FORM_STATUS,
        )
    tz = report_tz()
    rows = (
        _recipient_awards(report, badge)
        .values_list(
            "recipient__first_name",
            "recipient__last_name",
            "recipient_email",
            "issued_at",
            "organisation__name",
            "revoked_at",
            "declined_at",
        )
        .iterator(chunk_size=2000)
    )
    period = report.choices.period
    filename = f"recipients-badge-{badge.pk}-{period.start}-to-{period.end}.csv"
    header = [
        "Badge", "First name", "Last name", "Email", "Issued", "Organisation", "Revoked", "Declined"
    ]  # fmt: skip

    def when(moment) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    def lines():
        for first, last, email, issued, org, revoked, declined in rows:
            yield (
                badge.name,
                first,
                last,
                email,
                issued.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                org,
                when(revoked),
                when(declined),
            )

    return csv_streaming_response(filename, header, lines())
