"""The operations: POST /api/ActivityEvents and the Reporting API's lists.

Every read is scoped to the key's space and, for a key limited to an organisation, to that
organisation's subtree (one MPTT range condition). Lists take two queries: the count and the
page.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db.models import CharField, Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query

from api import events as ev
from api.access import object_in_key_scope
from api.http import ApiError, api
from api.models import ApiKey, IdempotencyRecord
from api.schemas import (
    EVENTS_REQUEST_BODY,
    BadgePage,
    CompletionPage,
    ErrorOut,
    EventsOut,
    ListParams,
    RecipientPage,
    RulePage,
)
from api.services import in_scope, organisations_in_scope_q
from badges.models import Award, Badge, Rule, RuleCompletion
from orgs.models import Organisation
from reporting.queries import issued_per_badge
from users.models import Member

ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 429)}
IDEMPOTENCY_KEY_MAX = 255


# ---- Events API ---------------------------------------------------------------------------


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.API_MAX_BODY_BYTES
    too_big = ApiError(
        413, f"The body is larger than {limit:,} bytes; send at most 1,000 events per call."
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_big
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_big from None
    if len(body) > limit:
        raise too_big
    return body


def _idempotency_key(request: HttpRequest) -> str | None:
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > IDEMPOTENCY_KEY_MAX or not value.isascii():
        raise ApiError(400, "Idempotency-Key must be 1 to 255 printable ASCII characters.")
    if not value.isprintable():
        raise ApiError(400, "Idempotency-Key must be 1 to 255 printable ASCII characters.")
    return value


def _replay(key: ApiKey, idempotency_key: str, request_hash: str) -> HttpResponse | None:
    """The stored first response to this Idempotency-Key, if any (422 for another body)."""
    record = IdempotencyRecord.objects.filter(api_key=key, key=idempotency_key).first()
    if record is None:
        return None
    expired = timezone.now() - record.created_at > timedelta(
        hours=settings.API_IDEMPOTENCY_TTL_HOURS
    )
    if expired:
        record.delete()
        return None
    if record.request_hash != request_hash:
        raise ApiError(
            422,
            "This Idempotency-Key was already used with a different request body. Use a new "
            "key for a new request.",
        )
    response = HttpResponse(
        record.response_body, status=record.status_code, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


@api.post(
    "/ActivityEvents",
    response={200: EventsOut, **ERRORS, 413: ErrorOut, 422: ErrorOut},
    openapi_extra={
        "requestBody": EVENTS_REQUEST_BODY,
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX},
                "description": "Repeat a request with the same key and body to get the first "
                "response back without doing anything again; another body gets 422.",
            }
        ],
    },
    summary="Issue badges, or record activity toward rules",
    operation_id="postActivityEvents",
    tags=["Events"],
)
def activity_events(request: HttpRequest) -> HttpResponse:
    """One event or an array of up to 1,000. Each gets a result, in order: `awarded`,
    `duplicate` (already awarded for this ActivityTime: the existing award), `recorded`
    (counts toward a rule) or `rejected` (nothing stored; `Errors` says why)."""
    key: ApiKey = request.api_key
    body = _read_body(request)
    idempotency_key = _idempotency_key(request)
    request_hash = hashlib.sha256(b"POST /api/ActivityEvents\n" + body).hexdigest()
    try:
        data = ev.parse_body(body)
    except ev.BodyError as exc:
        raise ApiError(400, str(exc)) from None
    call_id = uuid.uuid4()

    def work() -> HttpResponse:
        if idempotency_key is not None:
            replay = _replay(key, idempotency_key, request_hash)
            if replay is not None:
                return replay
        # Parsed again on each attempt: a retry starts from the body, not from what the
        # previous attempt concluded before a concurrent call committed.
        results = ev.events_process(key=key, events=ev.parse_events(data), call_id=call_id)
        text = ev.events_response_body(results)
        if idempotency_key is not None:
            IdempotencyRecord.objects.create(
                space=key.space,
                api_key=key,
                key=idempotency_key,
                request_hash=request_hash,
                status_code=200,
                response_body=text,
            )
        return HttpResponse(text, content_type="application/json")

    try:
        response = ev.run_in_transaction(work)
    except ev.ScopeError as exc:
        raise ApiError(403, str(exc)) from None
    response["X-Request-Id"] = str(call_id)
    return response


# ---- Reporting API --------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _dates_q(field: str, params: ListParams) -> Q:
    """from/to (inclusive days, in the site's time zone) as a range on ``field``."""
    if params.from_ and params.to and params.from_ > params.to:
        raise ApiError(400, "“from” is after “to”.")
    q = Q()
    if params.from_:
        q &= Q(**{f"{field}__gte": _day_start(params.from_)})
    if params.to:
        q &= Q(**{f"{field}__lt": _day_start(params.to + timedelta(days=1))})
    return q


def _count(relation: str, date_field: str, params: ListParams) -> Count:
    """Count related rows, only those in the from/to range when one is given."""
    dates = _dates_q(date_field, params)
    return Count(relation, filter=dates) if dates else Count(relation)


def _issued(params: ListParams):
    """A badge's awards in the from/to range (all when none is given), from the rollups."""
    _dates_q("issued_at", params)  # refuses from > to
    return issued_per_badge(params.from_, params.to)


def _organisation_q(key: ApiKey, params: ListParams, prefix: str = "organisation__") -> Q:
    """The key's scope, narrowed to ?organisation= when given (403 outside the scope)."""
    q = organisations_in_scope_q(key, prefix)
    if params.organisation is None:
        return q
    org = Organisation.objects.filter(space=key.space, public_id=params.organisation).first()
    if org is None:
        raise Http404("No organisation of this space has that OrganisationId.")
    if not in_scope(key, org):
        raise PermissionDenied(f"This key is limited to “{key.organisation}” and beneath.")
    return q & Q(
        **{
            f"{prefix}tree_id": org.tree_id,
            f"{prefix}lft__gte": org.lft,
            f"{prefix}rght__lte": org.rght,
        }
    )


def _page(
    request: HttpRequest,
    params: ListParams,
    queryset: QuerySet,
    row: Callable[[Any], dict],
) -> dict:
    """Count/Next/Previous/Results for one page (2 queries: the count and the rows)."""
    count = queryset.count()
    start = (params.page - 1) * params.page_size
    rows: Iterable = queryset[start : start + params.page_size] if start < count else []

    def link(page: int) -> str:
        query = request.GET.copy()
        query["page"] = str(page)
        return f"{settings.SITE_URL}{request.path}?{query.urlencode()}"

    last = max(1, -(-count // params.page_size))
    return {
        "Count": count,
        "Next": link(params.page + 1) if start + params.page_size < count else None,
        "Previous": link(min(params.page - 1, last)) if params.page > 1 else None,
        "Results": [row(r) for r in rows],
    }


@api.get(
    "/badges",
    response={200: BadgePage, **ERRORS},
    tags=["Reporting"],
    summary="The badges of the key's organisations",
    operation_id="getBadges",
)
def badges(request: HttpRequest, params: Query[ListParams]) -> dict:
    """The badges of the key's organisations, oldest first."""
    key: ApiKey = request.api_key
    queryset = (
        Badge.objects.for_space(key.space)
        .filter(_organisation_q(key, params))
        .annotate(award_count=_issued(params))
        .values(
            "public_id",
            "name",
            "state",
            "organisation__public_id",
            "issuer__current__name",
            "award_count",
        )
        .order_by("created_at", "pk")
    )
    return _page(
        request,
        params,
        queryset,
        lambda b: {
            "Id": b["public_id"],
            "Name": b["name"],
            "State": b["state"],
            "OrganisationId": b["organisation__public_id"],
            "IssuerName": b["issuer__current__name"],
            "Awards": b["award_count"],
        },
    )


@api.get(
    "/rules",
    response={200: RulePage, **ERRORS},
    tags=["Reporting"],
    summary="The rules of the key's organisations",
    operation_id="getRules",
)
def rules(request: HttpRequest, params: Query[ListParams]) -> dict:
    """Every rule of the key's organisations, by name (only those whose badge is in the
    key's organisations too: a rule is no way around the key's scope)."""
    key: ApiKey = request.api_key
    queryset = (
        Rule.objects.for_space(key.space)
        .filter(_organisation_q(key, params))
        .filter(organisations_in_scope_q(key, "badge__organisation__"))
        .annotate(completion_count=_count("completions", "completions__completed_at", params))
        .values(
            "public_id",
            "name",
            "activity_id",
            "badge__public_id",
            "threshold",
            "window_days",
            "organisation__public_id",
            "active",
            "completion_count",
        )
        .order_by("name", "pk")
    )
    return _page(
        request,
        params,
        queryset,
        lambda r: {
            "Id": r["public_id"],
            "Name": r["name"],
            "ActivityId": r["activity_id"],
            "BadgeId": r["badge__public_id"],
            "Threshold": r["threshold"],
            "WindowDays": r["window_days"],
            "OrganisationId": r["organisation__public_id"],
            "Active": r["active"],
            "Completions": r["completion_count"],
        },
    )


def _external_id(user_path: str) -> Subquery:
    """The recipient's external id in the row's space (the API's UserId)."""
    return Subquery(
        Member.objects.filter(space=OuterRef("space"), user=OuterRef(user_path)).values(
            "external_id"
        )[:1],
        output_field=CharField(),
    )


@api.get(
    "/rules/{id}/completions",
    response={200: CompletionPage, **ERRORS},
    tags=["Reporting"],
    summary="Who completed a rule",
    operation_id="getRuleCompletions",
)
def rule_completions(request: HttpRequest, id: str, params: Query[ListParams]) -> dict:  # noqa: A002
    """Who completed the rule, in order of completion."""
    key: ApiKey = request.api_key
    rule = object_in_key_scope(key, Rule, id, "rule", "badge__organisation")
    if not in_scope(key, rule.badge.organisation):
        raise PermissionDenied(
            f"This key is limited to “{key.organisation}” and beneath; this rule awards a "
            "badge from outside it."
        )
    queryset = (
        RuleCompletion.objects.filter(rule=rule)
        .filter(_dates_q("completed_at", params))
        .annotate(
            user_id=Coalesce(
                _external_id("recipient"), F("recipient__email"), output_field=CharField()
            ),
        )
        .values(
            "user_id",
            "recipient__email",
            "recipient__first_name",
            "recipient__last_name",
            "completed_at",
            "award__public_id",
        )
        .order_by("completed_at", "pk")
    )
    return _page(
        request,
        params,
        queryset,
        lambda c: {
            "UserId": c["user_id"],
            "Email": c["recipient__email"],
            "FirstName": c["recipient__first_name"],
            "LastName": c["recipient__last_name"],
            "CompletedAt": c["completed_at"],
            "AwardId": c["award__public_id"],
        },
    )


def _recipients(request: HttpRequest, params: ListParams, awards: QuerySet) -> dict:
    queryset = (
        awards.filter(_dates_q("issued_at", params))
        .annotate(
            user_id=Coalesce(
                _external_id("recipient"), F("recipient_email"), output_field=CharField()
            )
        )
        .values(
            "user_id",
            "recipient_email",
            "recipient__first_name",
            "recipient__last_name",
            "badge__public_id",
            "badge__name",
            "public_id",
            "issued_at",
            "expires_at",
            "revoked_at",
            "declined_at",
        )
        .order_by("issued_at", "pk")
    )
    return _page(
        request,
        params,
        queryset,
        lambda a: {
            "UserId": a["user_id"],
            "Email": a["recipient_email"],
            "FirstName": a["recipient__first_name"],
            "LastName": a["recipient__last_name"],
            "BadgeId": a["badge__public_id"],
            "BadgeName": a["badge__name"],
            "AwardId": a["public_id"],
            "IssuedOn": a["issued_at"],
            "ExpiresOn": a["expires_at"],
            "Revoked": a["revoked_at"] is not None,
            "Declined": a["declined_at"] is not None,
        },
    )


@api.get(
    "/recipients",
    response={200: RecipientPage, **ERRORS},
    tags=["Reporting"],
    summary="Every award of the key's organisations",
    operation_id="getRecipients",
)
def recipients(request: HttpRequest, params: Query[ListParams]) -> dict:
    """Every award of the key's organisations, in order of issue (from/to: the issue date)."""
    key: ApiKey = request.api_key
    return _recipients(
        request, params, Award.objects.for_space(key.space).filter(_organisation_q(key, params))
    )


@api.get(
    "/badges/{id}/recipients",
    response={200: RecipientPage, **ERRORS},
    tags=["Reporting"],
    summary="The awards of one badge",
    operation_id="getBadgeRecipients",
)
def badge_recipients(request: HttpRequest, id: str, params: Query[ListParams]) -> dict:  # noqa: A002
    """The awards of one badge, in order of issue."""
    key: ApiKey = request.api_key
    badge = object_in_key_scope(key, Badge, id, "badge")
    return _recipients(request, params, Award.objects.filter(badge=badge))
