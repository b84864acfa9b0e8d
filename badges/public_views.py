"""Public Open Badges URLs: anyone may verify an award without an account or our UI.

These serve exactly the paths of ``badges.links`` (ids inside signed credentials and baked
images point here, so they never change). A URL that names a JSON-LD object answers JSON to a
client asking for JSON (``Accept: application/ld+json`` or ``application/json``, and by
default, as the OB 2.0 spec asks) and a page to a browser (``text/html`` preferred);
``?format=json`` forces JSON for a link a person clicks. JSON carries an ETag and
Cache-Control and answers ``If-None-Match`` with 304.
"""

from __future__ import annotations

import json
from functools import lru_cache
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.views.decorators.http import require_GET

from badgeplatform.access import public_view
from badges import certificates, engagement, links, social
from badges.openbadges import publish, status, verification
from badges.openbadges.publish import Payload
from branding.models import linkedin_organization_id_for

JSON_TYPES = ("application/ld+json", "application/json")
# Live documents (an assertion can be revoked) may be cached briefly; versions never change.
LIVE = "public, max-age=300"
IMMUTABLE = "public, max-age=86400"
STATUS_LIST = f"public, max-age={status.TTL_SECONDS}"


@lru_cache(maxsize=512)
def _preferred(accept: str, offered: tuple[str, ...]) -> str | None:
    # Django's Accept parsing costs more than serving a cached document; clients send a
    # handful of distinct headers, so remember the answer per header.
    probe = HttpRequest()
    if accept:
        probe.META["HTTP_ACCEPT"] = accept
    return probe.get_preferred_type(list(offered))


def _negotiate(request: HttpRequest, offered: tuple[str, ...]) -> str | None:
    return _preferred(request.META.get("HTTP_ACCEPT", "")[:500], offered)


NEGOTIATED = (*JSON_TYPES, "text/html")


def _wants_json(request: HttpRequest) -> str | None:
    """The JSON media type to answer with, or None for the HTML page.

    JSON-LD is the default (no Accept, */*); a browser's Accept ranks text/html first."""
    if request.GET.get("format") == "json":
        return "application/ld+json"
    preferred = _negotiate(request, NEGOTIATED)
    return preferred if preferred in JSON_TYPES else None


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags or f"W/{etag}" in tags


def _respond(
    request: HttpRequest,
    payload: Payload | None,
    *,
    cache_control: str = LIVE,
    content_type: str | None = None,
    filename: str = "",
) -> HttpResponse:
    if payload is None:
        raise Http404("No such badge object")
    if _not_modified(request, payload.etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(
            payload.body,
            status=payload.status,
            content_type=content_type or payload.content_type,
        )
        if filename and request.GET.get("download"):
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
    headers = response.headers  # a new response: nothing to merge with
    headers["ETag"] = payload.etag
    headers["Cache-Control"] = cache_control
    headers["Access-Control-Allow-Origin"] = "*"  # verifiers run in other sites' pages
    headers["Vary"] = "Accept"
    return response


def _json_type(wanted: str) -> str:
    # OB 2.0: application/ld+json by default; application/json when only that is asked for.
    return "application/json" if wanted == "application/json" else "application/ld+json"


def _page(request: HttpRequest, template: str, context: dict, status: int = 200):
    response = TemplateResponse(request, template, context, status=status)
    response["Cache-Control"] = "no-cache"
    patch_vary_headers(response, ["Accept"])
    return response


def not_available(request: HttpRequest) -> HttpResponse:
    """The page of an award its recipient declined: 410 Gone, saying nothing about it."""
    return _page(request, "badges/public/not_available.html", {}, status=410)


@public_view("The OB 2.0 hosted assertion and the award's verification page: anyone verifies.")
@require_GET
def assertion(request: HttpRequest, award_id: UUID) -> HttpResponse:
    wanted = _wants_json(request)
    if wanted:
        return _respond(
            request, publish.assertion_payload(award_id), content_type=_json_type(wanted)
        )
    award = publish._award(award_id)
    if award is None:
        raise Http404("No such award")
    if award.is_declined and not award.is_revoked:
        return not_available(request)
    context = verification.page_context(award)
    context["meta"] = award_meta(context)
    context["share_buttons"] = [
        (target, label, links.share_url(award, target))
        for target, label in engagement.SHARE_TARGETS.items()
        if target != "linkedin_profile"  # the recipient's own action, in their backpack
    ]
    engagement.count_award(request, award, engagement.Kind.VIEW)
    return _page(request, "badges/public/award.html", context)


def _summary(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def award_meta(context: dict) -> dict:
    """Open Graph and Twitter card values of an award's page (all URLs absolute)."""
    award, badge, issuer = context["award"], context["badge"], context["issuer"]
    name = context["recipient_name"]
    title = f"{badge['name']} — awarded to {name}" if name else badge["name"]
    lead = f"{issuer['name']} awarded {name or 'this'} the verified Open Badge “{badge['name']}”."
    if not name:
        lead = f"A verified Open Badge awarded by {issuer['name']}."
    return {
        "title": title,
        "description": _summary(f"{lead} {badge['description']}"),
        "url": links.assertion_url(award),
        "image": links.card_url(award),
        "image_alt": f"The {badge['name']} badge, issued by {issuer['name']}",
    }


def _gone_if_declined(award) -> HttpResponse | None:
    """410 for an award its recipient declined (as its page and certificate answer)."""
    if award.is_declined and not award.is_revoked:
        return HttpResponse(
            publish.NOT_AVAILABLE, status=410, content_type="text/plain; charset=utf-8"
        )
    return None


@public_view("The picture a shared award link unfurls into: the public page's og:image.")
@require_GET
def assertion_card(request: HttpRequest, award_id: UUID) -> HttpResponse:
    award = publish._award(award_id)
    if award is None:
        raise Http404("No such award")
    if gone := _gone_if_declined(award):
        return gone
    snapshot = award.badge_snapshot
    state = ""
    if award.is_revoked:
        state = "revoked"
    elif award.is_suspended:
        state = "suspended"
    elif award.is_expired():
        state = "expired"
    card = social.Card(
        title=snapshot.get("name", "Badge"),
        image=snapshot.get("image", ""),
        issuer=award.issuer_version.name,
        recipient=award.public_name(),
        state=state,
    )
    return _respond(request, social.card_png(card), cache_control=LIVE)


@public_view("The picture a shared badge link unfurls into: the badge page's og:image.")
@require_GET
def badge_card(request: HttpRequest, badge_id: UUID) -> HttpResponse:
    found = publish.current_badge(badge_id)
    if found is None:
        raise Http404("No such badge")
    card = social.Card(
        title=found.name,
        image=found.graphic.image.name if found.graphic_id else "",
        issuer=found.issuer.current.name,
        label="Open Badge",
    )
    return _respond(request, social.card_png(card), cache_control=LIVE)


@public_view("A share button on a public award page: counted without personal data, then on.")
@require_GET
def share(request: HttpRequest, award_id: UUID, target: str) -> HttpResponse:
    """Counts one share of the award to ``target`` and redirects to that site's own share
    form (LinkedIn, X, Facebook, an email; ``linkedin_profile`` is LinkedIn's "Add to
    profile" form). 404 for an unknown target or award; 410 once revoked, suspended or
    declined."""
    if target not in engagement.SHARE_TARGETS:
        raise Http404("No such share target")
    award = publish._award(award_id)
    if award is None:
        raise Http404("No such award")
    if gone := _gone_if_declined(award):
        return gone
    if award.is_revoked or award.is_suspended:
        return HttpResponse(
            "This badge is no longer valid: it cannot be shared.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    page = links.assertion_url(award)
    name = award.badge_snapshot.get("name", "Badge")
    profile = ""
    if target == "linkedin_profile":
        profile = links.linkedin_add_url(award, linkedin_organization_id_for(award.space_id))
    destination = engagement.share_url(
        target,
        url=page,
        title=f"{name} — a verified Open Badge from {award.issuer_version.name}",
        linkedin_profile_url=profile,
    )
    engagement.count_award(request, award, engagement.Kind.SHARE, target)
    response = HttpResponse(status=302)
    response["Location"] = destination  # mailto: too, which HttpResponseRedirect refuses
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@public_view("The baked badge image (OB 2.0 assertion inside) is what recipients share.")
@require_GET
def assertion_image(request: HttpRequest, award_id: UUID) -> HttpResponse:
    return _respond(
        request,
        publish.baked_assertion_png(award_id),
        cache_control=LIVE,
        filename=f"badge-{award_id}.png",
    )


@public_view("The award's printable certificate: public like its assertion (shared/API.md).")
@require_GET
def certificate(request: HttpRequest, award_id: UUID) -> HttpResponse:
    """200 application/pdf (A4 landscape; ``?size=letter``); 410 once revoked or while
    suspended or declined; 404 for no such award. The recipient's name is printed for the
    recipient signed in, and for everyone when they made the award public."""
    size = request.GET.get("size", "a4").lower()
    if size not in certificates.SIZES:
        return HttpResponse(
            "Unknown size: use ?size=a4 or ?size=letter.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    award = certificates.certificate_award(award_id)
    if award is None:
        raise Http404("No such award")
    if award.is_declined and not award.is_revoked:
        return HttpResponse(
            publish.NOT_AVAILABLE, status=410, content_type="text/plain; charset=utf-8"
        )
    if award.is_revoked or award.is_suspended:
        word = "revoked" if award.is_revoked else "suspended"
        return HttpResponse(
            f"This badge has been {word}: it has no certificate.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    # A private award's certificate names its recipient only to the recipient signed in;
    # anyone else with the link gets it without the name, as the public page shows it.
    show_name = certificates.shows_name(award, request.user)
    response = HttpResponse(
        certificates.certificate_pdf(award, size, show_name=show_name),
        content_type="application/pdf",
    )
    engagement.count_award(request, award, engagement.Kind.CERTIFICATE)
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="certificate-{award_id}.pdf"'
    # The name or the status may change: revalidate (no ETag: a PDF is cheap to make). What
    # it prints depends on who asks: a shared cache keeps none of it.
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Cookie"])
    return response


@public_view("OB 3.0 credentials are handed to anyone the recipient shares them with.")
@require_GET
def credential(request: HttpRequest, award_id: UUID) -> HttpResponse:
    # Always JSON (a browser downloads or shows it): the page lives at the assertion URL.
    wanted = _negotiate(request, JSON_TYPES) or "application/ld+json"
    return _respond(
        request,
        publish.credential_payload(award_id),
        cache_control=IMMUTABLE,
        content_type=_json_type(wanted),
        filename=f"badge-{award_id}-credential.json",
    )


@public_view("The baked badge image with the signed OB 3.0 credential inside.")
@require_GET
def credential_image(request: HttpRequest, award_id: UUID) -> HttpResponse:
    return _respond(
        request,
        publish.baked_credential_png(award_id),
        cache_control=LIVE,
        filename=f"badge-{award_id}-credential.png",
    )


@public_view("The badge as SVG with the signed OB 3.0 credential inside.")
@require_GET
def credential_svg(request: HttpRequest, award_id: UUID) -> HttpResponse:
    return _respond(
        request,
        publish.baked_credential_svg(award_id),
        cache_control=LIVE,
        filename=f"badge-{award_id}-credential.svg",
    )


@public_view("The OB 2.0 BadgeClass as it is now: a published badge is public.")
@require_GET
def badge(request: HttpRequest, badge_id: UUID) -> HttpResponse:
    wanted = _wants_json(request)
    if wanted:
        # The hot path: the cached current BadgeClass, no query on a hit.
        current = publish.current_badge_payload(badge_id)
        if current is None:
            raise Http404("No such badge")
        return _respond(request, current[0], content_type=_json_type(wanted))
    found = publish.current_badge(badge_id)
    if found is None:
        raise Http404("No such badge")
    document = json.loads(publish.badge_payload(found).body)
    _count_badge_view(request, found)
    return _page(
        request,
        "badges/public/badge.html",
        {
            "badge": document,
            "withdrawn": found.state == found.State.WITHDRAWN,
            "meta": badge_meta(found, document, links.badgeclass_url(found)),
        },
    )


def badge_meta(found, document: dict, url: str) -> dict:
    issuer = found.issuer.current.name
    return {
        "title": f"{found.name} — an Open Badge from {issuer}",
        "description": _summary(document.get("description", "")),
        "url": url,
        "image": links.badge_card_url(found),
        "image_alt": f"The {found.name} badge, issued by {issuer}",
    }


def _count_badge_view(request: HttpRequest, found) -> None:
    if engagement.countable(request):
        engagement.count(
            kind=engagement.Kind.VIEW,
            space_id=found.space_id,
            organisation_id=found.organisation_id,
            badge_id=found.pk,
        )


@public_view("A badge's stable OB 3.0 achievement id: a published badge is public.")
@require_GET
def achievement(request: HttpRequest, badge_id: UUID) -> HttpResponse:
    """``/public/achievements/<badge>``: the OB 3.0 Achievement as the badge is now (its
    ``version`` counts the edits), JSON-LD or the badge's page, by Accept."""
    found = publish.current_badge(badge_id)
    if found is None:
        raise Http404("No such badge")
    wanted = _wants_json(request)
    if wanted:
        return _respond(
            request, publish.achievement_payload(found), content_type=_json_type(wanted)
        )
    document = json.loads(publish.badge_payload(found).body)
    _count_badge_view(request, found)
    return _page(
        request,
        "badges/public/badge.html",
        {
            "badge": document,
            "withdrawn": found.state == found.State.WITHDRAWN,
            "achievement_id": links.achievement_url(found),
            "meta": badge_meta(found, document, links.achievement_url(found)),
        },
    )


@public_view("The OB 2.0 BadgeClass exactly as awards carry it (never changes).")
@require_GET
def badge_version(request: HttpRequest, badge_id: UUID, digest: str) -> HttpResponse:
    payload = publish.badgeclass_version_payload(badge_id, digest)
    wanted = _wants_json(request)
    if wanted or payload is None:
        return _respond(request, payload, cache_control=IMMUTABLE, content_type=_json_type(wanted))
    return _page(
        request,
        "badges/public/badge.html",
        {"badge": json.loads(payload.body), "version": True},
    )


@public_view("An issuer's profile (its stable id, listing its keys) or one of its versions.")
@require_GET
def issuer(request: HttpRequest, profile_id: UUID) -> HttpResponse:
    """``/public/issuers/<id>``: an OB 2.0 Issuer Profile version (what OB 2.0 awards name,
    unchanged), else the issuer's stable id: its current OB 3.0 Profile with its signing keys,
    the controller of those keys. JSON or the page, by Accept."""
    wanted = _wants_json(request)
    # A profile version never changes: when its document is cached, no query at all.
    payload = publish.cached_issuer_payload(profile_id)
    version = None if payload is not None else publish.issuer_version(profile_id)
    if payload is not None or version is not None:
        payload = payload or publish.issuer_payload(version)
        if wanted:
            return _respond(
                request, payload, cache_control=IMMUTABLE, content_type=_json_type(wanted)
            )
        return _page(request, "badges/public/issuer.html", {"issuer": json.loads(payload.body)})
    found = publish.issuer_by_id(profile_id)
    if found is None:
        raise Http404("No such issuer")
    payload = publish.issuer_profile_payload(found)
    if wanted:
        return _respond(request, payload, content_type=_json_type(wanted))
    profile = json.loads(payload.body)
    return _page(
        request,
        "badges/public/issuer.html",
        {"issuer": {**profile, "image": (profile.get("image") or {}).get("id", "")}, "keys": True},
    )


@public_view("OB 3.0 credentialStatus: verifiers check revocation here.")
@require_GET
def revocation_list(request: HttpRequest, version_id: UUID) -> HttpResponse:
    version = publish.issuer_version(version_id)
    if version is None:
        raise Http404("No such issuer")
    wanted = _negotiate(request, JSON_TYPES) or "application/json"
    return _respond(
        request,
        publish.revocation_list_payload(version),
        cache_control="public, max-age=60",
        content_type=_json_type(wanted),
    )


@public_view("OB 3.0 credentialStatus (W3C Bitstring Status List): verifiers check it.")
@require_GET
def status_list(request: HttpRequest, list_id: UUID) -> HttpResponse:
    # Always JSON, whatever the Accept header (wallets' verifiers fetch it plainly), briefly
    # cacheable: max-age matches the list's ttl.
    wanted = _negotiate(request, JSON_TYPES) or "application/ld+json"
    return _respond(
        request,
        publish.status_list_payload(list_id),
        cache_control=STATUS_LIST,
        content_type=_json_type(wanted),
    )


@public_view("A proof's verificationMethod: the public key that checks OB 3.0 signatures.")
@require_GET
def signing_key(request: HttpRequest, key_id: UUID) -> HttpResponse:
    wanted = _negotiate(request, JSON_TYPES) or "application/ld+json"
    return _respond(
        request,
        publish.signing_key_payload(key_id),
        cache_control=IMMUTABLE,
        content_type=_json_type(wanted),
    )


@public_view("The controller document of a space's keys from before keys were issuers'.")
@require_GET
def key_controller(request: HttpRequest, space_id: UUID) -> HttpResponse:
    wanted = _negotiate(request, JSON_TYPES) or "application/ld+json"
    return _respond(request, publish.controller_payload(space_id), content_type=_json_type(wanted))
