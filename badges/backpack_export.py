"""Download all my badges: a zip of every award to the signed-in person, streamed.

For each award: the Open Badges 3.0 credential JSON exactly as ``/public/credentials/<id>``
serves it, and the badge image with that same credential baked in (PNG, ``openbadgecredential``
iTXt chunk), plus a ``README.txt`` that says what is inside. The archive is written by
``zipfile`` into a sink that hands each finished piece to the response, so memory holds one
award's files at a time, never the whole zip.

What goes in (the backpack's own rule for downloads):
- valid and expired awards: the credential JSON and the baked PNG;
- suspended and revoked awards: the credential JSON only (a verifier reports the status from
  the issuer's status list; their baked images answer 410, as in the backpack);
- declined awards: left out (the recipient refused them; they are "not available" publicly).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from badges.models import Award
from badges.openbadges import publish

ZIP_ROOT = "my-badges"


@dataclass(frozen=True)
class Entry:
    """One award of the archive, read before the stream starts (one query for all)."""

    public_id: str
    name: str
    issuer: str
    space: str
    issued: str
    state: str  # valid | expired | suspended | revoked

    @property
    def folder(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:60] or "badge"
        return f"{ZIP_ROOT}/{slug}-{self.public_id[:8]}"

    @property
    def with_image(self) -> bool:
        return self.state in ("valid", "expired")


def entries_for(user) -> tuple[list[Entry], int]:
    """The awards the archive holds, newest first, and how many declined ones it leaves
    out. One query."""
    awards = (
        Award.objects.filter(recipient=user)
        .select_related("issuer_version", "space")
        .order_by("-issued_at", "-pk")
    )
    entries, declined = [], 0
    for a in awards:
        if a.state == "declined":
            declined += 1
            continue
        entries.append(
            Entry(
                public_id=str(a.public_id),
                name=a.badge_snapshot.get("name", "Badge"),
                issuer=a.issuer_version.name,
                space=a.space.name,
                issued=a.issued_at.date().isoformat(),
                state=a.state,
            )
        )
    return entries, declined


def readme(entries: list[Entry], missing: list[str], declined: int) -> str:
    lines = [
        "My badges",
        "=========",
        "",
        f"Downloaded from Badge Platform on {timezone.now():%Y-%m-%d %H:%M} UTC.",
        "",
        "Each folder holds one badge awarded to you:",
        "",
        "  credential.json  The Open Badges 3.0 credential, signed by its issuer",
        "                   (eddsa-rdfc-2022): exactly the file served at its public address.",
        "                   Wallets and verifiers read it; anyone can check its signature.",
        "  badge.png        The badge image with that same credential baked inside",
        "                   (an 'openbadgecredential' iTXt chunk), for badge tools.",
        "",
        "Suspended and revoked badges come with their credential only: their status is",
        "published by the issuer, so a verifier reports it. Badges you declined are not",
        "included.",
        "",
        "To check a badge, upload credential.json or badge.png to the platform's /verify/ page,",
        "or to any Open Badges 3.0 verifier.",
        "",
        f"Badges ({len(entries)}):",
        "",
    ]
    for entry in entries:
        lines.append(f"- {entry.name} ({entry.state}), from {entry.issuer}, {entry.space}")
        lines.append(f"  issued {entry.issued}; folder {entry.folder.split('/', 1)[1]}/")
    if missing:
        lines += ["", "Could not be included right now (try again later):", ""]
        lines += [f"- {m}" for m in missing]
    if declined:
        lines += ["", f"Left out: {declined} badge(s) you declined."]
    return "\n".join(lines) + "\n"


class _Sink(io.RawIOBase):
    """A write-only file whose written bytes are taken out piece by piece."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zip_stream(entries: list[Entry], declined: int = 0) -> Iterator[bytes]:
    """The archive's bytes, award by award. Each credential is the served payload's body
    (cached, signed once); the PNG the served baked image."""
    sink = _Sink()
    missing: list[str] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            credential = publish.signed_credential_payload(entry.public_id)
            if credential is None or credential.status != 200:
                missing.append(f"{entry.name} ({entry.public_id})")
                continue
            archive.writestr(f"{entry.folder}/credential.json", credential.body)
            if entry.with_image:
                png = publish.baked_credential_png(entry.public_id)
                if png is not None and png.status == 200:
                    # PNG is compressed already: stored as it is.
                    archive.writestr(
                        f"{entry.folder}/badge.png", png.body, compress_type=zipfile.ZIP_STORED
                    )
            yield sink.take()
        archive.writestr(f"{ZIP_ROOT}/README.txt", readme(entries, missing, declined))
    yield sink.take()
