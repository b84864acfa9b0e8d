"""The Issuing area: pick a published badge, build the recipient list (members, groups, new
people, a CSV) with its preview, issue it (here or in the worker, with a progress bar), and
the awards lists with revocation.

Access: ``issue_badges`` (for the list and issuing) and ``revoke_awards`` (for revoking) are
checked on the badge's organisation; lists show only what the user may act on.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, When
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from badgeplatform.access import Access, permission_denied_message, space_view
from badgeplatform.htmx import INVALID_FORM_STATUS, render_invalid
from badgeplatform.pagination import paginate
from badgeplatform.permissions import Perm
from badges import batches, links
from badges.access import (
    SEE_AWARDS,
    Need,
    award_for,
    awards_visible,
    badge_for,
    badges_visible,
    batch_for,
    batches_visible,
)
from badges.awards import TransitionRefused, award_reinstate, award_revoke, award_suspend
from badges.csv_import import CsvRejected, example_csv
from badges.expiry import expiring_q
from badges.issuing import BadgeNotIssuable
from badges.issuing_forms import (
    CsvUploadForm,
    GroupPickForm,
    IssueForm,
    MemberPickForm,
    PersonForm,
    RevokeForm,
)
from badges.models import Award, Badge, IssueBatch, IssueBatchRow
from badges.renewal import (
    RenewalRefused,
    award_renew,
    awards_renew,
    renewal_preview,
    renewal_refusal,
)
from orgs.models import Group
from users.models import Membership, User
from users.places import people_in_view_q

PAGE_SIZE = 50
# "Expiring soon" in the awards list (and the issuer's dashboard panel).
EXPIRING_DAYS = 30
MEMBER_RESULTS = 20
ROWS_PAGE_SIZE = 25
# The issue page is a guided flow of three steps, one shown at a time (``?step=``): add
# recipients → review the list → issue. A step whose input is missing falls back to the one
# before it, so a stale link never shows an empty step.
STEPS = ("recipients", "review", "issue")


# ---- Access helpers -------------------------------------------------------------------------


def get_badge_for(request: HttpRequest, badge_id: int, need: Need = Perm.ISSUE_BADGES) -> Badge:
    return badge_for(request.access, badge_id, need=need)


def get_batch_for(request: HttpRequest, batch_id: int) -> IssueBatch:
    # Counters only: the progress bar polls every second (badges.access.batch_for).
    return batch_for(request.access, batch_id, need=Perm.ISSUE_BADGES)


def get_award_for(request: HttpRequest, award_id: int, need: Need = SEE_AWARDS) -> Award:
    return award_for(request.access, award_id, need=need)


def awards_q(access: Access) -> Q:
    """Awards whose badge's organisation the user may issue or revoke in."""
    return access.organisations_q(Perm.ISSUE_BADGES, "badge__organisation__") | (
        access.organisations_q(Perm.REVOKE_AWARDS, "badge__organisation__")
    )


def require_awards_access(request: HttpRequest) -> None:
    access = request.access
    if not (access.can_anywhere(Perm.ISSUE_BADGES) or access.can_anywhere(Perm.REVOKE_AWARDS)):
        raise PermissionDenied(permission_denied_message(Perm.ISSUE_BADGES))


def can_see_award(access: Access, badge: Badge) -> bool:
    return access.can(Perm.ISSUE_BADGES, organisation=badge.organisation) or access.can(
        Perm.REVOKE_AWARDS, organisation=badge.organisation
    )


def reachable_members(request: HttpRequest) -> QuerySet[User]:
    """People the issuer may pick: members of the organisations (and groups) they issue in."""
    access = request.access
    perm = Perm.ISSUE_BADGES
    memberships = Membership.objects.filter(space=request.space).filter(
        access.organisations_q(perm, "organisation__")
        | access.organisations_q(perm, "group__organisation__")
        | Q(group_id__in=access.group_ids_with(perm))
    )
    return User.objects.filter(pk__in=memberships.values("user_id"), is_active=True)


def reachable_groups(request: HttpRequest) -> QuerySet[Group]:
    access = request.access
    perm = Perm.ISSUE_BADGES
    return (
        Group.objects.for_space(request.space)
        .filter(
            access.organisations_q(perm, "organisation__") | Q(pk__in=access.group_ids_with(perm))
        )
        .select_related("organisation")
        .annotate(member_count=Count("memberships"))
        .order_by("name")
    )


def search_people(qs: QuerySet[User], q: str) -> QuerySet[User]:
    for term in q.split()[:5]:
        qs = qs.filter(
            Q(email__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(username__icontains=term)
        )
    return qs


# ---- Choosing a badge -----------------------------------------------------------------------


@space_view(Perm.ISSUE_BADGES)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Pick a badge to issue. Drafts and withdrawn badges are listed, but say why they can't
    be picked. Queries: badges page (with award counts) + count, drafts in progress."""
    q = request.GET.get("q", "").strip()
    badges = (
        badges_visible(request.access, need=Perm.ISSUE_BADGES)
        .select_related("organisation", "graphic", "issuer__current")
        .annotate(award_count=Count("awards"))
        # Issuable first; drafts and withdrawn badges follow, each saying why.
        .order_by(Case(When(state=Badge.State.PUBLISHED, then=0), default=1), Lower("name"), "pk")
    )
    if q:
        badges = badges.filter(name__icontains=q)
    page = paginate(request, badges, PAGE_SIZE)
    drafts = (
        batches_visible(request.access, need=Perm.ISSUE_BADGES)
        .filter(created_by=request.user, status=IssueBatch.Status.PENDING)
        .select_related("badge")
        .order_by("-created_at")[:10]
    )
    return TemplateResponse(
        request,
        "issuing/index.html",
        {
            "page": page,
            "q": q,
            "drafts": drafts,
            "not_issuable": {
                Badge.State.DRAFT: "Draft — publish it before issuing it.",
                Badge.State.WITHDRAWN: "Withdrawn — publish it again to issue it.",
            },
        },
    )


# ---- The recipient list and issuing ---------------------------------------------------------


def _rows_page(request: HttpRequest, batch: IssueBatch | None):
    """The list a page at a time, rows with problems first (or only them); each keeps its
    position for removal. Queries: count, one page."""
    only_problems = request.GET.get("rows") == "problems"
    rows = IssueBatchRow.objects.filter(batch=batch).order_by("-problem", "position")
    if batch is None:
        rows = rows.none()
    if only_problems:
        rows = rows.filter(problem=True)
    page = paginate(request, rows, ROWS_PAGE_SIZE)
    page.object_list = [
        {
            "index": row.position,
            "number": row.position + 1,
            "row": batches.row_values(row),
            "time": _time_label(row.achieved_at),
        }
        for row in page.object_list
    ]
    return page, only_problems


def _time_label(value: str | None) -> str:
    """A row's own achievement time as the file gave it (its offset kept, not converted)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    offset = moment.strftime("%z")
    return f"{moment:%d %b %Y %H:%M} ({offset[:3]}:{offset[3:]})" if offset else f"{moment}"


def _member_results_context(request: HttpRequest, batch: IssueBatch | None, **forms) -> dict:
    """The member search: people in the issuer's reach matching ``q`` (one query, and one for
    which of them are in the list already)."""
    q = request.GET.get("q", "").strip()
    reachable = reachable_members(request)
    found = search_people(reachable, q).order_by("last_name", "first_name", "pk")
    results = list(found[: MEMBER_RESULTS + 1])
    return {
        "q": q,
        "results": results[:MEMBER_RESULTS],
        "more_results": len(results) > MEMBER_RESULTS,
        "listed": batches.listed_members(batch, [u.pk for u in results[:MEMBER_RESULTS]]),
        "member_form": forms.get("member_form") or MemberPickForm(reachable=reachable),
    }


def _current_step(wanted: str | None, rows: int, ready: int) -> str:
    step = wanted if wanted in STEPS else "recipients"
    if step == "issue" and not ready:
        step = "review"
    if step == "review" and not rows:
        step = "recipients"
    return step


def _issue_context(request: HttpRequest, badge: Badge, batch: IssueBatch | None, **forms) -> dict:
    counts = batches.list_counts(batch)
    wanted = forms.get("step") or request.GET.get("step")
    step = _current_step(wanted, counts.rows, counts.ready)
    if step == "review":
        rows_page, only_problems = _rows_page(request, batch)
    else:
        rows_page, only_problems = None, False
    return {
        "step": step,
        **_member_results_context(request, batch, **forms),
        "badge": badge,
        "batch": batch,
        "rows_page": rows_page,
        "only_problems": only_problems,
        "row_count": counts.rows,
        "problem_count": counts.problems,
        "ready_count": counts.ready,
        "new_count": counts.new,
        "inline_limit": batches.INLINE_LIMIT,
        "group_form": forms.get("group_form") or GroupPickForm(groups=reachable_groups(request)),
        "person_form": forms.get("person_form") or PersonForm(),
        "csv_form": forms.get("csv_form") or CsvUploadForm(),
        "issue_form": forms.get("issue_form") or IssueForm(),
        "open_panel": forms.get("open_panel") or request.GET.get("panel") or "members",
        "form_errors": _form_errors(forms.values()),
        "image_url": _image_url(badge),
    }


def _form_errors(forms) -> list[tuple[str, str]]:
    """(field id, message) of the bound forms' errors: the step's error summary links each."""
    found = []
    for form in forms:
        if not hasattr(form, "errors") or not form.is_bound:
            continue
        for name, errors in form.errors.items():
            field_id = form[name].auto_id if name in form.fields else "step-title"
            found += [(field_id, str(message)) for message in errors]
    return found


def _image_url(badge: Badge) -> str:
    return badge.graphic.image.url if badge.graphic_id and badge.graphic.image else ""


@space_view(Perm.ISSUE_BADGES)
@require_http_methods(["GET", "POST"])
def issue(request: HttpRequest, badge_id: int) -> HttpResponse:
    """Build the recipient list for a badge, see every row's problem, then issue it.

    Several forms, told apart by the ``action`` button. Each change is saved in the user's
    pending batch and the page redirects back (no JavaScript needed); the member search is
    a GET and, with htmx, swaps only the results.
    """
    badge = get_badge_for(request, badge_id, need=Perm.ISSUE_BADGES)
    if not badge.is_issuable:
        status = 409 if request.method == "POST" else 200
        return TemplateResponse(
            request,
            "issuing/not_issuable.html",
            {"badge": badge, "message": batches.not_issuable_message(badge)},
            status=status,
        )
    batch = batches.draft_for(badge=badge, actor=request.user)

    if request.method == "GET":
        if request.htmx and request.htmx.target == "member-results":
            context = _member_results_context(request, batch)
            return TemplateResponse(request, "issuing/issue.html#member_results", context)
        return TemplateResponse(
            request, "issuing/issue.html", _issue_context(request, badge, batch)
        )

    action = request.POST.get("action", "")
    here = reverse("issuing:issue", args=[request.space.slug, badge.pk])
    handler = _ACTIONS.get(action)
    if handler is None:
        if "remove" not in request.POST:
            return HttpResponseBadRequest("Unknown action.")
        handler = _remove_row
    try:
        return handler(request, badge, batch, here)
    except BadgeNotIssuable as exc:
        messages.error(request, str(exc))
        return redirect(here)
    except batches.BatchNotPending:
        messages.info(request, "That list was already issued.")
        return redirect(here)


def _at(here: str, step: str) -> str:
    return f"{here}?step={step}"


def _invalid(request, badge, batch, **forms) -> HttpResponse:
    return render_invalid(
        request, "issuing/issue.html", _issue_context(request, badge, batch, **forms)
    )


def _added(request, change: batches.DraftChange, what: tuple[str, str]) -> None:
    parts = [f"Added {change.added:,} {what[0] if change.added == 1 else what[1]}."]
    if change.already_listed:
        parts.append(f"{change.already_listed:,} already in the list.")
    if change.with_problems:
        parts.append(f"{change.with_problems:,} need attention: see the problems in the list.")
        messages.warning(request, " ".join(parts))
    else:
        messages.success(request, " ".join(parts))


def _add_rows(request, badge, rows, what: tuple[str, str]) -> None:
    try:
        change = batches.draft_add(
            badge=badge, actor=request.user, rows=rows, access=request.access
        )
    except batches.DraftFull as exc:
        messages.error(request, str(exc))
    else:
        _added(request, change, what)


def _add_members(request, badge, batch, here):
    form = MemberPickForm(request.POST, reachable=reachable_members(request))
    if not form.is_valid():
        return _invalid(request, badge, batch, member_form=form, open_panel="members")
    rows = [batches.member_row(u, "Picked from your members") for u in form.cleaned_data["users"]]
    _add_rows(request, badge, rows, ("person", "people"))
    return redirect(_at(here, "recipients"))


def _add_group(request, badge, batch, here):
    form = GroupPickForm(request.POST, groups=reachable_groups(request))
    if not form.is_valid():
        return _invalid(request, badge, batch, group_form=form, open_panel="members")
    group = form.cleaned_data["group"]
    people = User.objects.filter(
        is_active=True, pk__in=Membership.objects.filter(group=group).values("user_id")
    ).order_by("last_name", "first_name", "pk")
    rows = [batches.member_row(u, f"Group “{group.name}”") for u in people]
    if not rows:
        messages.info(request, f"The group “{group.name}” has no members yet.")
        return redirect(_at(here, "recipients"))
    _add_rows(request, badge, rows, (f"person from “{group.name}”", f"people from “{group.name}”"))
    return redirect(_at(here, "recipients"))


def _add_person(request, badge, batch, here):
    form = PersonForm(request.POST)
    if not form.is_valid():
        return _invalid(request, badge, batch, person_form=form, open_panel="person")
    data = form.cleaned_data
    row = batches.person_row(
        email=data["email"],
        first_name=data["first_name"],
        last_name=data["last_name"],
        external_id=data["external_id"],
        ref="Added by hand",
    )
    _add_rows(request, badge, [row], ("person", "people"))
    # The panel stays open for the next person.
    return redirect(f"{_at(here, 'recipients')}&panel=person")


def _upload_csv(request, badge, batch, here):
    form = CsvUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid(request, badge, batch, csv_form=form, open_panel="csv")
    try:
        # Read, checked and written a chunk at a time; a refused file leaves nothing.
        change = batches.draft_add_csv(
            badge=badge,
            actor=request.user,
            upload=form.cleaned_data["file"],
            tz=form.cleaned_data["tz"],
            access=request.access,
        )
    except (CsvRejected, batches.DraftFull) as exc:
        form.add_error("file", exc.message if isinstance(exc, CsvRejected) else str(exc))
        return _invalid(request, badge, batch, csv_form=form, open_panel="csv")
    _added(request, change, ("row from the file", "rows from the file"))
    # Every row was checked: the feedback belongs beside the list.
    return redirect(_at(here, "review"))


def _remove_row(request, badge, batch, here):
    if batch is not None:
        try:
            index = int(request.POST.get("remove", ""))
        except ValueError:
            index = -1
        if batches.draft_remove(batch=batch, indexes={index}, access=request.access):
            messages.info(request, "Removed one row.")
    return redirect(_at(here, "review"))


def _remove_problems(request, badge, batch, here):
    if batch is not None:
        removed = batches.draft_remove(batch=batch, indexes=None, access=request.access)
        messages.info(request, f"Removed {removed} rows with problems.")
    return redirect(_at(here, "review"))


def _discard(request, badge, batch, here):
    if batch is not None:
        batches.draft_discard(batch=batch)
        messages.info(request, "The recipient list was discarded. Nothing was issued.")
    return redirect(here)


def _issue(request, badge, batch, here):
    form = IssueForm(request.POST)
    if not form.is_valid():
        return _invalid(request, badge, batch, issue_form=form, step="issue")
    if batch is None:
        messages.error(request, "Add recipients first.")
        return redirect(here)
    try:
        batch = batches.batch_issue(
            access=request.access,
            batch=batch,
            actor=request.user,
            achieved_at=form.cleaned_data["when"],
            evidence=form.cleaned_data["evidence"],
        )
    except batches.NothingToIssue as exc:
        messages.error(request, str(exc))
        return redirect(_at(here, "review"))
    if batch.status == IssueBatch.Status.DONE and batch.issued:
        messages.success(
            request,
            f"“{badge}” is issued to {batch.issued} "
            f"{'person' if batch.issued == 1 else 'people'}. Their emails are on their way.",
        )
    return redirect("issuing:batch", request.space.slug, batch.pk)


_ACTIONS = {
    "add_members": _add_members,
    "add_group": _add_group,
    "add_person": _add_person,
    "upload_csv": _upload_csv,
    "remove_problems": _remove_problems,
    "discard": _discard,
    "issue": _issue,
}


@space_view(Perm.ISSUE_BADGES)
@require_GET
def example(request: HttpRequest) -> HttpResponse:
    """A CSV to start from."""
    response = HttpResponse(example_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="recipients-example.csv"'
    return response


# ---- Batches: progress and results ----------------------------------------------------------


@space_view(Perm.ISSUE_BADGES)
@require_GET
def batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A batch's progress (polled every second by htmx; refreshed without JS) or its result."""
    batch = get_batch_for(request, batch_id)
    if batch.status == IssueBatch.Status.PENDING:
        return redirect("issuing:issue", request.space.slug, batch.badge_id)
    running = batch.status == IssueBatch.Status.RUNNING
    if request.htmx and not running:
        # Finished while the page was polling: load the full result page.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    failures = _failures_page(request, batch)
    context = {
        "batch": batch,
        "badge": batch.badge,
        "running": running,
        "percent": int(100 * batch.processed / batch.total) if batch.total else 100,
        "failures": failures,
        "rejected": batch.failed,
    }
    if request.htmx:
        return TemplateResponse(request, "issuing/batch.html#progress", context)
    return TemplateResponse(request, "issuing/batch.html", context)


def _failures_page(request: HttpRequest, batch: IssueBatch):
    """The rows not issued, a page at a time: a browser batch keeps them as its rows (count
    and one page), an API or rule batch in ``failures``."""
    if batch.status == IssueBatch.Status.RUNNING:
        return paginate(request, [], PAGE_SIZE)
    if batch.source != IssueBatch.Source.MANUAL or batch.failures:
        return paginate(request, batch.failures or [], PAGE_SIZE)
    rows = IssueBatchRow.objects.filter(batch=batch, problem=True).order_by("position")
    page = paginate(request, rows, PAGE_SIZE)
    page.object_list = [
        {"ref": r.data.get("ref"), "email": r.data.get("email"), "errors": r.all_errors}
        for r in page.object_list
    ]
    return page


@space_view(Perm.ISSUE_BADGES)
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """Issue actions in the user's reach, newest first.
    Queries: count, page of batches with badge and author."""
    batches_qs = (
        batches_visible(request.access, need=Perm.ISSUE_BADGES)
        .exclude(status=IssueBatch.Status.PENDING)
        .select_related("badge", "created_by")
        .defer("failures")
        .order_by("-issued_at", "-pk")
    )
    page = paginate(request, batches_qs, PAGE_SIZE)
    return TemplateResponse(request, "issuing/history.html", {"page": page})


# ---- Awards lists, one award, revocation ----------------------------------------------------


# The list's state filter → Award.status
LIST_STATES = {
    "expiring": "expiring",
    "valid": "active",
    "expired": "expired",
    "suspended": "suspended",
    "revoked": "revoked",
    "declined": "declined",
}


def _awards_list(
    request: HttpRequest, *, badge: Badge | None = None, person: User | None = None
) -> HttpResponse:
    """Queries: count and one page (with recipient and badge), whatever the page size."""
    require_awards_access(request)
    awards = (
        awards_visible(request.access, need=SEE_AWARDS)
        .select_related("recipient", "badge")
        .annotate(is_renewed=Exists(Award.objects.filter(renews=OuterRef("pk"))))
        .order_by("-issued_at", "-pk")
    )
    if badge is not None:
        awards = awards.filter(badge=badge)
    if person is not None:
        awards = awards.filter(recipient=person)
    q = request.GET.get("q", "").strip()
    for term in q.split()[:5]:
        awards = awards.filter(
            Q(recipient_email__icontains=term)
            | Q(recipient__first_name__icontains=term)
            | Q(recipient__last_name__icontains=term)
            | Q(badge__name__icontains=term)
        )
    state = request.GET.get("state", "")
    if state == "expiring":
        awards = awards.filter(expiring_q(timezone.now(), EXPIRING_DAYS)).order_by(
            "expires_at", "pk"
        )
    elif state in LIST_STATES:
        awards = awards.with_status(LIST_STATES[state])
    page = paginate(request, awards, PAGE_SIZE)
    return TemplateResponse(
        request,
        "issuing/awards.html",
        {
            "page": page,
            "badge": badge,
            "person": person,
            "q": q,
            "state": state,
            "can_change": request.access.can_anywhere(Perm.REVOKE_AWARDS),
            "can_renew": request.access.can_anywhere(Perm.ISSUE_BADGES),
            "expiring_days": EXPIRING_DAYS,
            "bulk_max": BULK_MAX,
            "can_issue": badge is not None
            and badge.is_issuable
            and request.access.can(Perm.ISSUE_BADGES, organisation=badge.organisation),
        },
    )


@space_view()
@require_GET
def awards(request: HttpRequest) -> HttpResponse:
    return _awards_list(request)


@space_view()
@require_GET
def badge_awards(request: HttpRequest, badge_id: int) -> HttpResponse:
    require_awards_access(request)
    badge = get_badge_for(request, badge_id, need=SEE_AWARDS)
    return _awards_list(request, badge=badge)


def get_person_for(request: HttpRequest, person_id: uuid.UUID) -> User:
    """A person whose awards the user may list, by their opaque id: someone with a place the
    user's roles cover (``people_in_view_q``), or who holds an award the user may see (people
    who left the space keep the awards it gave them). Anyone else answers 404, exactly like an
    unknown id: who is in the space, and their name, is not everyone's to know. One query."""
    space, access = request.space, request.access
    places = Membership.objects.filter(space=space, user=OuterRef("pk"))
    reach = people_in_view_q(access)
    if reach is not None:
        places = places.filter(reach)
    awards_seen = Award.objects.for_space(space).filter(awards_q(access), recipient=OuterRef("pk"))
    person = (
        User.objects.filter(public_id=person_id)
        .filter(Q(Exists(places)) | Q(Exists(awards_seen)))
        .first()
    )
    if person is None:
        raise Http404("No such person in this space")
    return person


@space_view()
@require_GET
def person_awards(request: HttpRequest, person_id: uuid.UUID) -> HttpResponse:
    require_awards_access(request)
    return _awards_list(request, person=get_person_for(request, person_id))


@space_view()
@require_GET
def award(request: HttpRequest, award_id: int) -> HttpResponse:
    require_awards_access(request)
    award = get_award_for(request, award_id, need=SEE_AWARDS)
    return _award_page(request, award, RevokeForm())


def _award_page(request: HttpRequest, award: Award, form: RevokeForm, status: int = 200):
    return TemplateResponse(
        request,
        "issuing/award.html",
        {
            "award": award,
            "form": form,
            "can_revoke": request.access.can(
                Perm.REVOKE_AWARDS, organisation=award.badge.organisation
            ),
            "public_url": links.assertion_url(award),
            "attributes": award.badge_snapshot.get("attributes", []),
            # Offered when it is expired or expiring (within the badge's renewal window); the
            # renew page itself takes any award with an expiry date.
            "can_renew": award.expires_at is not None
            and (award.is_expired() or award.expires_within(award.badge.renewal_window_days))
            and request.access.can(Perm.ISSUE_BADGES, organisation=award.badge.organisation),
            "renewed_by": Award.objects.filter(renews=award).only("pk", "issued_at").first(),
        },
        status=status,
    )


STATUS_ACTIONS = {
    # action → (the service, what the success message says, takes a reason)
    "suspend": (award_suspend, "suspended", True),
    "reinstate": (award_reinstate, "reinstated", False),
    "revoke": (award_revoke, "revoked", True),
}


def _change_status(request: HttpRequest, award: Award, action: str, reason: str) -> str | None:
    """Run one status change as the signed-in person; None, or why it was refused."""
    service, _, takes_reason = STATUS_ACTIONS[action]
    extra = {"reason": reason} if takes_reason else {}
    try:
        service(access=request.access, award=award, actor=request.user, **extra)
    except TransitionRefused as exc:
        return str(exc)
    return None


def _status_view(request: HttpRequest, award_id: int, action: str) -> HttpResponse:
    """Revoke, suspend or reinstate one award from its page (the same services as the API)."""
    award = get_award_for(request, award_id, need=Perm.REVOKE_AWARDS)
    _, done, takes_reason = STATUS_ACTIONS[action]
    reason = ""
    if takes_reason:
        form = RevokeForm(request.POST)
        if not form.is_valid():
            return _award_page(request, award, form, status=INVALID_FORM_STATUS)
        reason = form.cleaned_data["reason"]
    refused = _change_status(request, award, action, reason)
    if refused:
        messages.info(request, refused)
    else:
        told = " They can see why." if takes_reason else ""
        messages.success(request, f"The award to {award.recipient.display_name} is {done}.{told}")
    return redirect("issuing:award", request.space.slug, award.pk)


@space_view(Perm.REVOKE_AWARDS)
@require_POST
def revoke(request: HttpRequest, award_id: int) -> HttpResponse:
    return _status_view(request, award_id, "revoke")


@space_view(Perm.REVOKE_AWARDS)
@require_POST
def suspend(request: HttpRequest, award_id: int) -> HttpResponse:
    return _status_view(request, award_id, "suspend")


@space_view(Perm.REVOKE_AWARDS)
@require_POST
def reinstate(request: HttpRequest, award_id: int) -> HttpResponse:
    return _status_view(request, award_id, "reinstate")


BULK_MAX = 200


@space_view(Perm.REVOKE_AWARDS)
@require_POST
def awards_bulk(request: HttpRequest) -> HttpResponse:
    """Revoke, suspend or reinstate the awards ticked in a list, with one reason. Each award
    is fetched through the access layer (those out of reach count as not found) and changed
    by the same service as one award; those whose status refuses the change are reported."""
    back = request.POST.get("next", "")
    if not back.startswith(f"/s/{request.space.slug}/issuing/"):
        back = reverse("issuing:awards", args=[request.space.slug])
    action = request.POST.get("action", "")
    ids = [i for i in request.POST.getlist("award") if i.isdigit()][: BULK_MAX + 1]
    if action not in STATUS_ACTIONS:
        messages.error(request, "Choose what to do with the selected awards.")
        return redirect(back)
    if not ids:
        messages.error(request, "Select at least one award.")
        return redirect(back)
    if len(ids) > BULK_MAX:
        messages.error(request, f"Select at most {BULK_MAX} awards at a time.")
        return redirect(back)
    _, done, takes_reason = STATUS_ACTIONS[action]
    reason = ""
    if takes_reason:
        form = RevokeForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors.get("reason", ["Give a reason."])))
            return redirect(back)
        reason = form.cleaned_data["reason"]
    awards = (
        awards_visible(request.access, need=Perm.REVOKE_AWARDS)
        .select_related("badge__organisation", "recipient", "space")
        .filter(pk__in=ids)
    )
    changed, refused = 0, []
    for award in awards:
        why = _change_status(request, award, action, reason)
        if why:
            refused.append(f"{award.recipient.display_name}: {why}")
        else:
            changed += 1
    missing = len(set(ids)) - changed - len(refused)
    if changed:
        messages.success(request, f"{changed} award{'s' if changed != 1 else ''} {done}.")
    if refused:
        messages.info(request, "Not changed — " + " · ".join(refused[:10]))
    if missing:
        messages.error(request, f"{missing} selected award(s) were not found.")
    return redirect(back)


# ---- Renewal --------------------------------------------------------------------------------


@space_view(Perm.ISSUE_BADGES)
@require_http_methods(["GET", "POST"])
def renew(request: HttpRequest, award_id: int) -> HttpResponse:
    """Renew one award: GET shows what will happen (the confirmation), POST does it — a new
    award with a new expiry, linked to this one (badges.renewal)."""
    award = get_award_for(request, award_id, need=Perm.ISSUE_BADGES)
    refusal = renewal_refusal(award)
    if request.method == "POST" and refusal is None:
        try:
            new = award_renew(access=request.access, award=award, actor=request.user)
        except RenewalRefused as exc:
            refusal = str(exc)
        else:
            expiry = new.expires_at.strftime("%-d %B %Y") if new.expires_at else "never"
            messages.success(
                request,
                f"Renewed: {award.recipient.display_name} has a new award of "
                f"“{award.badge_snapshot.get('name', '')}”, valid until {expiry}.",
            )
            return redirect("issuing:award", request.space.slug, new.pk)
    return TemplateResponse(
        request,
        "issuing/renew.html",
        {"award": award, "refusal": refusal, **renewal_preview(award)},
        status=INVALID_FORM_STATUS if request.method == "POST" else 200,
    )


@space_view(Perm.ISSUE_BADGES)
@require_POST
def awards_renew_bulk(request: HttpRequest) -> HttpResponse:
    """Renew the awards ticked in a list (at most BULK_MAX): each fetched through the access
    layer (those out of reach count as not found); those that cannot be renewed are named."""
    back = request.POST.get("next", "")
    if not back.startswith(f"/s/{request.space.slug}/issuing/"):
        back = reverse("issuing:awards", args=[request.space.slug])
    ids = [i for i in request.POST.getlist("award") if i.isdigit()][: BULK_MAX + 1]
    if not ids:
        messages.error(request, "Select at least one award to renew.")
        return redirect(back)
    if len(ids) > BULK_MAX:
        messages.error(request, f"Select at most {BULK_MAX} awards at a time.")
        return redirect(back)
    awards = list(
        awards_visible(request.access, need=Perm.ISSUE_BADGES)
        .select_related("badge__organisation", "recipient", "space")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    result = awards_renew(access=request.access, awards=awards, actor=request.user)
    done = len(result.renewed)
    if done:
        messages.success(request, f"{done} award{'s' if done != 1 else ''} renewed.")
    if result.refused:
        messages.info(
            request,
            "Not renewed — "
            + " · ".join(f"{a.recipient.display_name}: {why}" for a, why in result.refused[:10]),
        )
    missing = len(set(ids)) - len(awards)
    if missing:
        messages.error(request, f"{missing} selected award(s) were not found.")
    return redirect(back)
