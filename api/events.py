"""POST /api/ActivityEvents: parse the body, then issue directly or through rules.

The body is parsed here rather than by a schema so that one bad event is a ``rejected``
result beside the good ones, while a body that is not a list of event objects is a 400 and
nothing is stored. Field-level rules (valid email, single-line names, times with an offset,
not in the future) are issuing's own (``recipient_errors``), so the API and the browser say
the same thing.

Unknown fields are rejected, per event, naming the field: a typo such as ``Emial`` would
otherwise be silently ignored and the recipient created without the data the caller meant to
send. Field names are case-sensitive, as the contract writes them.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.access import key_access
from api.models import ApiKey
from api.services import in_scope
from badgeplatform.mail import queue_bulk
from badges import links
from badges.evidence import EvidenceError, evidence_clean, results_clean
from badges.issuing import (
    RecipientInput,
    award_emails,
    awards_issue,
    recipient_errors,
    recipients_resolve,
    verification_emails,
)
from badges.models import Award, Badge, IssueBatch, Rule
from badges.rules import RuleEvent, rule_badge_problem, rule_events_record

FIELDS = (
    "ActivityId",
    "ActivityTime",
    "UserId",
    "Email",
    "FirstName",
    "LastName",
    "Evidence",
    "Results",
)
# Lists of objects, checked by badges.evidence; the other fields are strings.
LIST_FIELDS = {"Evidence": evidence_clean, "Results": results_clean}
REQUIRED = ("ActivityId", "ActivityTime", "UserId")
MAX_EVENTS = 1000
MAX_ACTIVITY_ID = 200
MAX_UNKNOWN_REPORTED = 5
TIME_EXAMPLE = "2026-05-01T09:30:00+02:00"


class BodyError(Exception):
    """The body as a whole is unusable: 400 and nothing stored."""


class ScopeError(Exception):
    """An event names a badge or rule outside the key's organisation scope: 403."""


@dataclass
class ParsedEvent:
    index: int
    activity_id: str = ""
    activity_time: datetime | None = None
    user_id: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    evidence: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_body(body: bytes) -> list[dict]:
    """The events of a body: one object or an array of 1 to 1,000 objects."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise BodyError("The body is nested too deeply to be a list of events.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError(f"The body is not valid JSON: {_printable(str(exc), 120)}") from exc
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise BodyError("Send one event object, or an array of 1 to 1,000 event objects.")
    if not data:
        raise BodyError("The array is empty: send 1 to 1,000 events.")
    if len(data) > MAX_EVENTS:
        raise BodyError(f"{len(data):,} events in one call; send at most {MAX_EVENTS:,} per call.")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise BodyError(f"Event {index} is not a JSON object; every event must be one.")
    return data


def _printable(value: str, limit: int = 60) -> str:
    """A piece of input safe to echo back: no control characters or lone surrogates."""
    cleaned = "".join(
        c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else "\ufffd" for c in value
    )
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, e.g. "\ud800"
        return False
    return True


def _parse_time(value: str) -> datetime | str:
    """An aware datetime in UTC, or the message saying what is wrong."""
    message = f"Give an ISO 8601 date-time with its offset, e.g. {TIME_EXAMPLE}."
    if len(value) > 40:
        return message
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return message
    if moment.tzinfo is None or moment.utcoffset() is None:
        return f"The time needs its UTC offset, e.g. {TIME_EXAMPLE}."
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return message
    if moment.year < 1900:
        return "The time is before 1900."
    return moment


def parse_event(index: int, obj: dict, now: datetime) -> ParsedEvent:
    event = ParsedEvent(index=index)
    errors = event.errors
    unknown = [k for k in obj if k not in FIELDS]
    for name in unknown[:MAX_UNKNOWN_REPORTED]:
        key = _printable(str(name), 40)
        close = next((f for f in FIELDS if f.lower() == str(name).lower()), None)
        errors[key] = (
            f"Unknown field; did you mean “{close}”? Field names are case-sensitive."
            if close
            else f"Unknown field. The fields are {', '.join(FIELDS)}."
        )
    if len(unknown) > MAX_UNKNOWN_REPORTED:
        errors["…"] = f"{len(unknown) - MAX_UNKNOWN_REPORTED} more unknown fields."

    for name, clean in LIST_FIELDS.items():
        if obj.get(name) is None:
            continue
        try:
            setattr(event, name.lower(), clean(obj[name]))
        except EvidenceError as exc:
            errors[name] = _printable(str(exc), 300)

    values: dict[str, str] = {}
    for name in FIELDS:
        if name in LIST_FIELDS:
            continue
        value = obj.get(name)
        if value is None:
            if name in REQUIRED:
                errors[name] = "Required."
            continue
        if name == "UserId" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a reference number sent as a JSON number
        if not isinstance(value, str):
            kind = "a string" if name != "UserId" else "a string (an email or a reference)"
            errors[name] = f"Must be {kind}."
            continue
        if not _is_text(value):
            errors[name] = "Must be valid Unicode text."
            continue
        value = value.strip()
        if not value and name in REQUIRED:
            errors[name] = "Required."
            continue
        values[name] = value

    activity_id = values.get("ActivityId", "")
    if len(activity_id) > MAX_ACTIVITY_ID or not all(c.isprintable() for c in activity_id):
        errors["ActivityId"] = f"A single line of at most {MAX_ACTIVITY_ID} characters."
    else:
        event.activity_id = activity_id
    if "ActivityTime" in values:
        parsed = _parse_time(values["ActivityTime"])
        if isinstance(parsed, str):
            errors["ActivityTime"] = parsed
        else:
            event.activity_time = parsed
    event.user_id = values.get("UserId", "")
    event.email = values.get("Email", "")
    event.first_name = values.get("FirstName", "")
    event.last_name = values.get("LastName", "")

    # Issuing's own checks: email shape and length, single-line names, not in the future.
    if event.activity_time is not None:
        for key, message in recipient_errors(_recipient(event), event.activity_time, now).items():
            errors.setdefault(key, message)
    return event


def parse_events(data: list[dict], now: datetime | None = None) -> list[ParsedEvent]:
    now = now or timezone.now()
    return [parse_event(i, obj, now) for i, obj in enumerate(data)]


def _recipient(event: ParsedEvent) -> RecipientInput:
    return RecipientInput(
        email=event.email,
        first_name=event.first_name,
        last_name=event.last_name,
        external_id=event.user_id,
        achieved_at=event.activity_time,
    )


def _uuid(value: str) -> uuid.UUID | None:
    if len(value) not in (32, 36):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _not_issuable(badge: Badge) -> str:
    return f"The badge “{badge}” is {badge.get_state_display().lower()}: it cannot be issued."


def _result(event: ParsedEvent, status: str) -> dict:
    return {
        "Index": event.index,
        "Status": status,
        "AwardId": None,
        "BadgeId": None,
        "RuleId": None,
        "RecipientUserId": None,
        "AssertionUrl": None,
        "CredentialUrl": None,
        "RenewsAwardId": None,
        "Errors": event.errors,
    }


def _with_award(result: dict, award: Award | None) -> dict:
    if award is not None:
        result["AwardId"] = str(award.public_id)
        result["AssertionUrl"] = links.assertion_url(award)
        result["CredentialUrl"] = links.credential_url(award)
        # A renewal (badges.renewal): the expired or expiring award this one renews.
        renews = getattr(award, "renews_public_id", None)
        result["RenewsAwardId"] = str(renews) if renews else None
    return result


def events_process(*, key: ApiKey, events: list[ParsedEvent], call_id: uuid.UUID) -> list[dict]:
    """Issue what ``events`` say; one result per event, in order. Call inside a transaction.

    Queries, whatever the number of events: the rules and the badges named (locked), one
    recipient resolution for the whole call, one ``awards_issue`` per badge issued directly,
    and the rule events in bulk (see ``badges.rules``).
    """
    space = key.space
    live = [e for e in events if not e.errors]
    activity_ids = {e.activity_id for e in live}

    # Lock what this call issues — rules, then badges, each in pk order — so concurrent
    # calls touching the same badge or rule run one after the other and never deadlock.
    rules = {
        r.activity_id: r
        for r in Rule.objects.select_for_update(of=("self",))
        .filter(space=space, activity_id__in=activity_ids)
        .select_related("organisation")
        .order_by("pk")
    }
    badge_ids = {u for u in map(_uuid, activity_ids) if u is not None}
    badges = list(
        Badge.objects.select_for_update(of=("self",))
        .filter(space=space)
        .filter(Q(public_id__in=badge_ids) | Q(pk__in={r.badge_id for r in rules.values()}))
        .select_related("organisation")
        .order_by("pk")
    )
    for b in badges:
        b.space = space  # awards_issue reads badge.space: no query for it
    by_public_id = {str(b.public_id): b for b in badges}
    by_pk = {b.pk: b for b in badges}
    for rule in rules.values():
        rule.badge = by_pk[rule.badge_id]

    # What each event is for; a badge's identifier wins over a rule's activity identifier.
    targets: dict[int, Badge | Rule] = {}
    for e in live:
        found_uuid = _uuid(e.activity_id)
        badge = by_public_id.get(str(found_uuid)) if found_uuid else None
        target = badge or rules.get(e.activity_id)
        if target is None:
            e.errors["ActivityId"] = "No badge or rule of this space has this ActivityId."
            continue
        if not in_scope(key, target.organisation):
            raise ScopeError(
                f"Event {e.index}: this key is limited to “{key.organisation}” and what is "
                f"beneath it; ActivityId “{_printable(e.activity_id)}” belongs to "
                f"“{target.organisation}”."
            )
        if isinstance(target, Rule):
            # The rule is in scope; its badge must be too (a rule must not carry a key
            # limited to one organisation into another's badges).
            if problem := rule_badge_problem(target, key.organisation):
                e.errors["ActivityId"] = problem
            elif not target.active:
                e.errors["ActivityId"] = f"The rule “{target}” is inactive."
            elif not target.badge.is_issuable:
                e.errors["ActivityId"] = f"The rule's badge: {_not_issuable(target.badge)}"
        elif not target.is_issuable:
            e.errors["ActivityId"] = _not_issuable(target)
        if not e.errors:
            targets[e.index] = target

    # Who each recipient is: one resolution for the whole call. Newcomers join the space in
    # the organisation of the badge they receive (for a rule, the rule's badge).
    todo = [e for e in live if e.index in targets]
    join = [_badge_of(targets[e.index]).organisation for e in todo]
    resolution = recipients_resolve(
        space=space,
        recipients=[_recipient(e) for e in todo],
        errors=[e.errors for e in todo],
        join_organisation=join,
    )
    user_of = {e.index: u for e, u in zip(todo, resolution.users, strict=True) if u is not None}

    results = {e.index: _result(e, "rejected") for e in events}
    for e in todo:
        if e.index in user_of:
            user = user_of[e.index]
            row = results[e.index]
            row["BadgeId"] = str(_badge_of(targets[e.index]).public_id)
            row["RecipientUserId"] = resolution.external_ids.get(user.pk) or user.email

    # Direct issuing: one awards_issue per badge, in pk order (the order of the locks).
    direct: dict[int, list[ParsedEvent]] = defaultdict(list)
    rule_events: list[RuleEvent] = []
    for e in todo:
        if e.index not in user_of:
            continue
        target = targets[e.index]
        if isinstance(target, Rule):
            rule_events.append(
                RuleEvent(
                    index=e.index,
                    rule=target,
                    user=user_of[e.index],
                    occurred_at=e.activity_time,
                    evidence=e.evidence,
                    results=e.results,
                )
            )
        else:
            direct[target.pk].append(e)
    new_awards: list[Award] = []
    for badge_pk in sorted(direct):
        batch_events = direct[badge_pk]
        _, outcomes = awards_issue(
            access=key_access(key),  # the service re-checks the key's scope
            badge=by_pk[badge_pk],
            recipients=[
                RecipientInput(
                    user=user_of[e.index],
                    achieved_at=e.activity_time,
                    in_space=True,
                    evidence=e.evidence,
                    results=e.results,
                )
                for e in batch_events
            ],
            source=IssueBatch.Source.API,
            notify=False,  # queued below, with the verification emails, in one INSERT
        )
        for e, outcome in zip(batch_events, outcomes, strict=True):
            row = results[e.index]
            row["Status"] = outcome.status
            row["Errors"] = outcome.errors
            _with_award(row, outcome.award)
            if outcome.status == "awarded":
                new_awards.append(outcome.award)
    emails = verification_emails(space=space, users=resolution.new_users)
    emails += award_emails(space=space, awards=new_awards)
    if emails:
        queue_bulk(emails)

    outcomes = rule_events_record(
        space=space, events=rule_events, call_id=call_id, scope=key.organisation
    )
    for outcome in outcomes:
        row = results[outcome.index]
        row["Status"] = outcome.status
        row["RuleId"] = str(outcome.rule.public_id)
        if outcome.error:
            row["Errors"] = {"ActivityId": outcome.error}
        _with_award(row, outcome.award)

    for row in results.values():
        if row["Status"] == "rejected":
            row["BadgeId"] = row["RecipientUserId"] = None
    return [results[e.index] for e in events]


def _badge_of(target: Badge | Rule) -> Badge:
    return target.badge if isinstance(target, Rule) else target


def events_response_body(results: list[dict]) -> str:
    # ASCII-escaped: the text is stored for Idempotency-Key replays and must survive any
    # database encoding.
    return json.dumps({"Results": results}, separators=(",", ":"))


def run_in_transaction(fn, *, attempts: int = 3):
    """Run ``fn`` in a transaction, again if a concurrent call got in first (a unique
    conflict, a deadlock victim): the next attempt sees what that call committed."""
    from django.db import IntegrityError, OperationalError

    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return fn()
        except (IntegrityError, OperationalError):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
