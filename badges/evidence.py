"""Per-award evidence and results: the one place their limits are checked.

The Events API, the issue page and the CSV import all hand their input to ``evidence_clean``
and ``results_clean`` (the API's field names: ``Narrative``, ``Url``, ``Name``;
``Description``, ``Value``) and get back either the stored form or one message for the
event's ``Errors["Evidence"]`` / ``Errors["Results"]``. Stored on the award as JSON:
``[{"narrative", "url", "name"}]`` (empty keys left out) and ``[{"description", "value"}]``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MAX_ITEMS = 20
MAX_NARRATIVE = 10_000
MAX_URL = 2_000
MAX_NAME = 200
MAX_RESULT_TEXT = 200

EVIDENCE_FIELDS = {"Narrative": MAX_NARRATIVE, "Url": MAX_URL, "Name": MAX_NAME}
RESULT_FIELDS = {"Description": MAX_RESULT_TEXT, "Value": MAX_RESULT_TEXT}


class EvidenceError(ValueError):
    """The value cannot be stored; the message says why, for a person or an API client."""


def is_web_url(value: str) -> bool:
    """An absolute http(s) URL with a host, without spaces or control characters."""
    if any(c.isspace() or not c.isprintable() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _text(value: Any, where: str, limit: int) -> str:
    if not isinstance(value, str):
        raise EvidenceError(f"{where} must be a string.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EvidenceError(f"{where} must be valid Unicode text.") from exc
    if "\x00" in value:
        raise EvidenceError(f"{where} must not contain NUL characters.")
    value = value.strip()
    if len(value) > limit:
        raise EvidenceError(f"{where} has {len(value):,} characters; at most {limit:,}.")
    return value


def _items(value: Any, what: str, fields: dict[str, int]) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise EvidenceError(f"{what} must be a list of objects.")
    if len(value) > MAX_ITEMS:
        raise EvidenceError(f"{len(value)} items in {what}; at most {MAX_ITEMS}.")
    cleaned = []
    for i, item in enumerate(value):
        where = f"{what}[{i}]"
        if not isinstance(item, dict):
            raise EvidenceError(f"{where} must be an object with {', '.join(fields)}.")
        unknown = sorted(str(k)[:40] for k in item if k not in fields)
        if unknown:
            raise EvidenceError(
                f"{where} has an unknown field “{unknown[0]}”; the fields are "
                f"{', '.join(fields)} (case-sensitive)."
            )
        cleaned.append(
            {
                key: _text(item[key], f"{where}.{key}", limit)
                for key, limit in fields.items()
                if item.get(key) is not None
            }
        )
    return cleaned


def evidence_clean(value: Any) -> list[dict[str, str]]:
    """The Events API's ``Evidence`` (≤ 20 of Narrative ≤ 10,000, Url ≤ 2,000, Name ≤ 200,
    each with a Narrative or a Url) → the stored form. Raises EvidenceError."""
    stored = []
    for i, item in enumerate(_items(value, "Evidence", EVIDENCE_FIELDS)):
        url = item.get("Url", "")
        if url and not is_web_url(url):
            raise EvidenceError(f"Evidence[{i}].Url must be an absolute http:// or https:// URL.")
        if not url and not item.get("Narrative"):
            raise EvidenceError(f"Evidence[{i}] needs a Narrative or a Url.")
        row = {"narrative": item.get("Narrative", ""), "url": url, "name": item.get("Name", "")}
        stored.append({k: v for k, v in row.items() if v})
    return stored


def results_clean(value: Any) -> list[dict[str, str]]:
    """The Events API's ``Results`` (≤ 20 of Description ≤ 200 and Value ≤ 200, both given)
    → the stored form. Raises EvidenceError."""
    stored = []
    for i, item in enumerate(_items(value, "Results", RESULT_FIELDS)):
        for key in RESULT_FIELDS:
            if not item.get(key):
                raise EvidenceError(f"Results[{i}] needs a {key}.")
        stored.append({"description": item["Description"], "value": item["Value"]})
    return stored


def evidence_api(stored: list[dict]) -> list[dict[str, str]]:
    """The stored evidence in the API's field names (for answers that show it)."""
    names = {"narrative": "Narrative", "url": "Url", "name": "Name"}
    return [{names[k]: v for k, v in e.items() if k in names} for e in stored or []]


def results_api(stored: list[dict]) -> list[dict[str, str]]:
    return [{"Description": r["description"], "Value": r["value"]} for r in stored or []]
