"""Rules-based issuing: record activity events and complete rules, in bulk.

``rule_events_record`` is what the Events API calls for events whose ActivityId is a rule's
activity identifier. It stores each event once (a retried event finds the stored one), and when
a person's events reach the rule's threshold — within its window, if it has one — the rule
completes for them, once, and awards its badge through ``awards_issue`` (source "rule").

Whatever the number of events: lock the rules, read their events and completions, insert the
new events, one ``awards_issue`` per badge that was completed, insert the completions.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.audit import audit_log
from badgeplatform.permissions import Perm
from badges.issuing import BadgeNotIssuable, RecipientInput, awards_issue
from badges.models import ActivityEvent, Award, Badge, IssueBatch, Rule, RuleCompletion

if TYPE_CHECKING:
    from orgs.models import Organisation, Space
    from users.models import User


@dataclass
class RuleEvent:
    """One event for a rule, its recipient already resolved. ``index`` is the caller's."""

    index: int
    rule: Rule
    user: User
    occurred_at: datetime
    # The event's Evidence/Results (badges.evidence form): the award carries those of the
    # event that completes the rule.
    evidence: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)


@dataclass
class RuleEventOutcome:
    index: int
    # "recorded": stored, counts toward the rule; "awarded": this event completed the rule;
    # "duplicate": a repeat of the event that completed it (the existing award); "rejected":
    # nothing stored, ``error`` says why (the rule's badge lies outside the caller's scope).
    status: str
    rule: Rule
    award: Award | None = None
    error: str = ""


class BadgeOutsideRule(ValidationError):
    """A rule may award only a badge of its own organisation or beneath it."""


def within(organisation: Organisation, scope: Organisation | None) -> bool:
    """Is ``organisation`` ``scope`` or beneath it (``None``: the whole space)?"""
    return scope is None or (
        scope.space_id == organisation.space_id
        and scope.tree_id == organisation.tree_id
        and scope.lft <= organisation.lft
        and scope.rght >= organisation.rght
    )


def rule_badge_problem(rule: Rule, scope: Organisation | None = None) -> str:
    """Why ``rule`` may not award its badge for a caller limited to ``scope``, or "".

    A rule awards only a badge of its organisation's branch (checked when it is saved, and
    again here for rules saved before that check), and nothing outside the caller's scope:
    an API key limited to one organisation must not award another's badge through a rule.
    """
    badge_org = rule.badge.organisation
    # The messages name neither the badge nor its organisation: the caller may not see them.
    if not within(badge_org, rule.organisation):
        return (
            f"The rule “{rule}” awards a badge from outside its organisation “"
            f"{rule.organisation}”, so it awards nothing: change the rule's badge."
        )
    if not within(badge_org, scope):
        return (
            f"The rule “{rule}” awards a badge from outside this key's organisation “{scope}”, "
            "so this key cannot complete it: nothing was recorded."
        )
    return ""


def threshold_reached_at(times: Sequence[datetime], threshold: int, window_days: int | None):
    """When ``threshold`` events first fell within ``window_days`` of each other (any span
    without a window), or None. ``times`` must be sorted."""
    if len(times) < threshold:
        return None
    if not window_days:
        return times[threshold - 1]
    span = timedelta(days=window_days)
    for i in range(len(times) - threshold + 1):
        end = times[i + threshold - 1]
        if end - times[i] <= span:
            return end
    return None


def _completing_position(
    old: list[datetime], new: list[datetime], threshold: int, window_days: int | None
) -> tuple[int, datetime] | None:
    """Adding ``new`` one by one to ``old``: the position of the first addition after which
    the threshold is reached, and when it was reached. Adding an event never un-reaches it,
    so a binary search over the number added finds the first one."""

    def reached(count: int):
        return threshold_reached_at(sorted(old + new[:count]), threshold, window_days)

    if not new or reached(len(new)) is None:
        return None
    lo, hi = 1, len(new)
    while lo < hi:
        mid = (lo + hi) // 2
        if reached(mid) is None:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1, reached(lo)


def _renewable_completions(candidates: dict, rules: dict) -> set[tuple[int, int]]:
    """The (rule, person) pairs among ``candidates`` (their completions) whose award a new
    completion would renew: live, expired or expiring within the badge's renewal window, not
    renewed yet (one query, and none when no award is near its expiry)."""
    now = timezone.now()
    near = {}
    for pair, completion in candidates.items():
        award = completion.award
        if award.expires_at is None or award.expires_at > now + timedelta(days=365):
            continue  # never expires, or far from it (the badge, read next, may be a query)
        window = timedelta(days=rules[pair[0]].badge.renewal_window_days)
        if (
            award.expires_at <= now + window
            and award.revoked_at is None
            and award.declined_at is None
            and award.suspended_at is None
        ):
            near[pair] = award.pk
    if not near:
        return set()
    renewed = set(
        Award.objects.filter(renews_id__in=near.values()).values_list("renews_id", flat=True)
    )
    return {pair for pair, award_id in near.items() if award_id not in renewed}


@transaction.atomic
def rule_events_record(
    *,
    space: Space,
    events: Sequence[RuleEvent],
    call_id: uuid.UUID | None = None,
    scope: Organisation | None = None,
) -> list[RuleEventOutcome]:
    """Store ``events`` and complete the rules they make complete; one outcome per event, in
    the order given. Rules that are inactive, or whose badge is not published, record the
    events but award nothing (the Events API rejects such events before calling this).

    ``scope`` is the organisation the caller is limited to (an API key's; None: the whole
    space). An event for a rule whose badge lies outside it, or outside the rule's own
    organisation, is "rejected": nothing is stored and nothing awarded."""
    refused = {e.index: problem for e in events if (problem := rule_badge_problem(e.rule, scope))}
    asked, events = events, [e for e in events if e.index not in refused]
    if not events:
        return [
            RuleEventOutcome(index=e.index, status="rejected", rule=e.rule, error=refused[e.index])
            for e in asked
        ]
    rule_ids = sorted({e.rule.pk for e in events})
    # Lock the rules: two calls for the same rule run one after the other, so each sees the
    # other's events and a rule completes once per person. Always in pk order: no deadlocks.
    rules = {
        r.pk: r for r in Rule.objects.select_for_update().filter(pk__in=rule_ids).order_by("pk")
    }
    user_ids = {e.user.pk for e in events}

    # Everything already known about these (rule, person) pairs (2 queries).
    history: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    event_ids: dict[tuple[int, int, datetime], int] = {}
    for pk, rule_id, user_id, at in ActivityEvent.objects.filter(
        rule_id__in=rule_ids, recipient_id__in=user_ids
    ).values_list("pk", "rule_id", "recipient_id", "occurred_at"):
        history[(rule_id, user_id)].append(at)
        event_ids[(rule_id, user_id, at)] = pk
    completed = {
        (c.rule_id, c.recipient_id): c
        for c in RuleCompletion.objects.filter(
            rule_id__in=rule_ids, recipient_id__in=user_ids
        ).select_related("award")
    }

    # Store the new events (1 query); a repeated event (a retry) is not stored again.
    fresh: dict[tuple[int, int, datetime], ActivityEvent] = {}
    for e in events:
        key = (e.rule.pk, e.user.pk, e.occurred_at)
        if key not in event_ids and key not in fresh:
            fresh[key] = ActivityEvent(
                space=space,
                rule_id=e.rule.pk,
                recipient_id=e.user.pk,
                occurred_at=e.occurred_at,
                call_id=call_id,
            )
    ActivityEvent.objects.bulk_create(list(fresh.values()))
    event_ids.update({key: ev.pk for key, ev in fresh.items()})

    # Which new event completes each pair that has not completed yet.
    new_by_pair: dict[tuple[int, int], list[tuple[int, datetime]]] = defaultdict(list)
    seen: set[tuple[int, int, datetime]] = set()
    for e in events:
        key = (e.rule.pk, e.user.pk, e.occurred_at)
        if key in fresh and key not in seen:  # an event repeated in this call counts once
            seen.add(key)
            new_by_pair[(e.rule.pk, e.user.pk)].append((e.index, e.occurred_at))
    completing: dict[tuple[int, int], tuple[int, datetime]] = {}
    # A pair that completed before completes again when its award is expired or expiring
    # (renewal): counting only the events after that completion. 1 query, only then.
    renewable = _renewable_completions(
        {pair: completed[pair] for pair in new_by_pair if pair in completed},
        {e.rule.pk: e.rule for e in events},
    )
    for pair, arrivals in new_by_pair.items():
        rule = rules[pair[0]]
        if not rule.active:
            continue
        old = history[pair]
        if pair in completed:
            if pair not in renewable:
                continue
            since = completed[pair].completed_at
            old = [at for at in old if at > since]
            arrivals = [(i, at) for i, at in arrivals if at > since]
        found = _completing_position(
            old, [at for _, at in arrivals], rule.threshold, rule.window_days
        )
        if found is not None:
            position, reached_at = found
            completing[pair] = (arrivals[position][0], reached_at)

    # Award, one awards_issue per badge (the rules of one badge share its batch).
    users = {e.user.pk: e.user for e in events}
    by_badge: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pair in sorted(completing):
        by_badge[rules[pair[0]].badge_id].append(pair)
    badges = {e.rule.badge_id: e.rule.badge for e in events if e.rule.badge_id in by_badge}
    index_of_event = {e.index: e for e in events}
    new_completions: list[RuleCompletion] = []
    renewed_completions: list[RuleCompletion] = []
    awarded_status: dict[int, str] = {}
    for badge_id, pairs in sorted(by_badge.items()):
        try:
            # The rule was authorized when it was saved; firing is the platform's doing.
            _, outcomes = awards_issue(
                access=Access.system(space),
                badge=badges[badge_id],
                recipients=[
                    RecipientInput(
                        user=users[user_id],
                        achieved_at=completing[(rule_id, user_id)][1],
                        evidence=index_of_event[completing[(rule_id, user_id)][0]].evidence,
                        results=index_of_event[completing[(rule_id, user_id)][0]].results,
                    )
                    for rule_id, user_id in pairs
                ],
                source=IssueBatch.Source.RULE,
            )
        except BadgeNotIssuable:
            continue  # recorded; the next event after publication completes the rule
        for (rule_id, user_id), outcome in zip(pairs, outcomes, strict=True):
            if outcome.award is None:
                continue
            index, reached_at = completing[(rule_id, user_id)]
            e = index_of_event[index]
            earlier = completed.get((rule_id, user_id))
            if earlier is not None:  # a renewal: the completion now names the new award
                earlier.award = outcome.award
                earlier.event_id = event_ids[(rule_id, user_id, e.occurred_at)]
                earlier.completed_at = reached_at
                renewed_completions.append(earlier)
                awarded_status[index] = outcome.status
                continue
            completion = RuleCompletion(
                space=space,
                rule_id=rule_id,
                recipient_id=user_id,
                award=outcome.award,
                event_id=event_ids[(rule_id, user_id, e.occurred_at)],
                completed_at=reached_at,
            )
            new_completions.append(completion)
            completed[(rule_id, user_id)] = completion
            awarded_status[index] = outcome.status  # "awarded", or "duplicate" if it existed
    RuleCompletion.objects.bulk_create(new_completions)
    if renewed_completions:
        RuleCompletion.objects.bulk_update(renewed_completions, ["award", "event", "completed_at"])

    results = []
    for e in asked:
        if e.index in refused:
            results.append(
                RuleEventOutcome(
                    index=e.index, status="rejected", rule=e.rule, error=refused[e.index]
                )
            )
            continue
        pair = (e.rule.pk, e.user.pk)
        completion = completed.get(pair)
        if e.index in awarded_status:
            status = awarded_status[e.index]
        elif completion is not None and completion.event_id == event_ids.get(
            (*pair, e.occurred_at)
        ):
            status = "duplicate"  # the event that completed the rule, sent again
        else:
            status = "recorded"
        award = completion.award if status != "recorded" else None
        results.append(RuleEventOutcome(index=e.index, status=status, rule=e.rule, award=award))
    return results


# ---- Rules themselves (the Issuing → Rules pages) -------------------------------------------

RULE_FIELDS = ("name", "organisation", "activity_id", "badge", "threshold", "window_days", "active")


def rule_check(*, access: Access, organisation: Organisation, badge: Badge) -> None:
    """A rule is managed by who may issue on its organisation, awards only a badge its author
    may issue, and only a badge of its organisation's branch (so a key scoped to that branch
    cannot reach another organisation's badge through it)."""
    if organisation.space_id != access.space.pk or badge.space_id != access.space.pk:
        raise ValueError("The organisation and the badge must belong to this space.")
    access.require(Perm.ISSUE_BADGES, organisation=organisation)
    access.require(Perm.ISSUE_BADGES, organisation=badge.organisation)
    if not within(badge.organisation, organisation):
        raise BadgeOutsideRule(
            f"“{badge}” is a badge of “{badge.organisation}”, outside “{organisation}”: a rule "
            "awards only badges of its own organisation or of those beneath it.",
            code="badge_outside_rule",
        )


def rule_create(
    *,
    access: Access,
    space: Space,
    actor: User | None,
    organisation: Organisation,
    name: str,
    activity_id: str,
    badge: Badge,
    threshold: int,
    window_days: int | None = None,
    active: bool = True,
) -> Rule:
    rule_check(access=access, organisation=organisation, badge=badge)
    rule = Rule.objects.create(
        space=space,
        organisation=organisation,
        name=name,
        activity_id=activity_id,
        badge=badge,
        threshold=threshold,
        window_days=window_days,
        active=active,
        created_by=actor,
    )
    audit_log(space=space, actor=actor, action="rule.create", obj=rule, label=rule.name)
    return rule


def rule_update(*, access: Access, rule: Rule, actor: User | None, **fields) -> Rule:
    """Change a rule. A lowered threshold or a longer window is applied from the next event
    on: people it now covers complete with their next event for the rule. A new organisation
    or badge is checked as ``rule_create`` checks it."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"Not rule fields: {', '.join(sorted(unknown))}")
    # The actor must manage the rule as it is, and as it will be. Switching a rule on or off
    # changes neither its organisation nor its badge, so a rule saved before rules were held to
    # their branch can still be switched off (it is refused when it fires either way).
    access.require(Perm.ISSUE_BADGES, organisation=rule.organisation)
    if "organisation" in fields or "badge" in fields:
        rule_check(
            access=access,
            organisation=fields.get("organisation", rule.organisation),
            badge=fields.get("badge", rule.badge),
        )
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    audit_log(
        space=rule.space,
        actor=actor,
        action="rule.update",
        obj=rule,
        label=rule.name,
        changes={k: str(v) for k, v in fields.items()},
    )
    return rule
