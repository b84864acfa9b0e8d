"""Offline JSON-LD processing for Open Badges: a sealed document loader and fast RDFC-1.0.

Credentials are signed over their RDF canonical form, so every context they use must be the
exact published text. We bundle those files (``contexts/``) and never touch the network: a
remote fetch would make signing depend on a third-party server and let it change what we sign.

``canonicalize()`` returns byte-for-byte what plain ``pyld.jsonld.normalize(..., URDNA2015)``
returns for the same document; it is only faster, because processed contexts are reused
between calls (see ``_CachingProcessor``), and stricter (it refuses data JSON-LD would
silently drop). Needs PyLD >= 3.3 (``on_property_dropped``, ``_process_context`` signature).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld
from pyld.context_resolver import ContextResolver

__all__ = [
    "CONTEXTS_DIR",
    "CONTEXT_URLS",
    "ContextNotAllowedError",
    "JsonLdProcessingError",
    "RelativeIriError",
    "UndefinedTermError",
    "canonicalize",
    "document_loader",
]

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

#: Every URL the loader serves, mapped to its file in ``CONTEXTS_DIR``.
CONTEXT_URLS: dict[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
    "https://w3id.org/openbadges/v2": "openbadges-v2-context.json",
    # w3id.org/openbadges/v2 redirects here; OB 2.0 documents use both spellings.
    "https://openbadgespec.org/v2/context.json": "openbadges-v2-context.json",
}


class JsonLdProcessingError(ValueError):
    """A document cannot be canonicalised safely."""


class ContextNotAllowedError(JsonLdProcessingError):
    """The document refers to a context that is not bundled (we never fetch one)."""


class UndefinedTermError(JsonLdProcessingError):
    """JSON-LD would silently drop a property, so it would not be covered by the signature.

    This is the "safe mode" the W3C Data Integrity spec requires of signers and verifiers.
    """


class RelativeIriError(JsonLdProcessingError):
    """An ``id``, ``type`` or datatype is not an absolute IRI (for a type: an undefined term).

    Relative IRIs are dropped by some processors and rewritten by others, so they would
    not be signed as written.
    """


def _register_bundled_objects(node: Any, ids: set[int]) -> None:
    if isinstance(node, dict):
        ids.add(id(node))
        for value in node.values():
            _register_bundled_objects(value, ids)
    elif isinstance(node, list):
        for value in node:
            _register_bundled_objects(value, ids)


def _load_bundled() -> tuple[dict[str, dict[str, Any]], frozenset[int]]:
    documents = {
        filename: json.loads((CONTEXTS_DIR / filename).read_text(encoding="utf-8"))
        for filename in set(CONTEXT_URLS.values())
    }
    ids: set[int] = set()
    for document in documents.values():
        _register_bundled_objects(document, ids)
    return documents, frozenset(ids)


# Parsed once, at import, and never freed or modified: pyld's caches and ours (which knows
# the scoped contexts inside these files by object identity) rely on that.
_DOCUMENTS, _BUNDLED_OBJECT_IDS = _load_bundled()


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader that serves only ``CONTEXT_URLS``; anything else is an error."""
    filename = CONTEXT_URLS.get(url)
    if filename is None:
        raise ContextNotAllowedError(
            f"JSON-LD context {url!r} is not bundled with badges.openbadges and will not be "
            f"fetched from the network; allowed contexts: {', '.join(sorted(CONTEXT_URLS))}"
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": _DOCUMENTS[filename],
        # 'static' lets pyld's ContextResolver keep the resolved context between calls.
        "tag": "static",
    }


def _context_key(local_ctx: Any) -> Any:
    """A hashable identity for a local context we know is immutable, else None."""
    if isinstance(local_ctx, str):
        return local_ctx if local_ctx in CONTEXT_URLS else None
    if isinstance(local_ctx, list):
        keys = tuple(_context_key(item) for item in local_ctx)
        return None if None in keys else keys
    if isinstance(local_ctx, dict) and id(local_ctx) in _BUNDLED_OBJECT_IDS:
        # A scoped context inside a bundled file (e.g. the one on "Achievement").
        return id(local_ctx)
    return None


class _CachingProcessor(jsonld.JsonLdProcessor):
    """pyld's processor plus a memo of processed contexts.

    pyld caches a processed context under the ``_uuid`` of the active context it was applied
    to, but every type-scoped (non-propagating) context gets a freshly cloned active context
    with a new ``_uuid``, so OB 3.0's many type-scoped contexts (Achievement,
    AchievementSubject, Profile, ...) are re-processed for every node of every credential.
    That is most of plain pyld's time. Context processing is a pure function of the
    (immutable, frozen) active context, the local context and a few flags, so we memoise it
    for local contexts that come from the bundled files. Results are the very objects pyld
    would build, so the output is unchanged.
    """

    _memo: LRUCache = LRUCache(maxsize=1024)
    _memo_lock = threading.Lock()

    def __init__(self, *, safe: bool) -> None:
        super().__init__(on_property_dropped=_raise_on_dropped if safe else jsonld.noop)
        self.safe = safe

    def expand(self, input_: Any, options: dict[str, Any]) -> Any:
        expanded = super().expand(input_, options)
        if self.safe:
            # Dropped keys are caught by the handler; values that RDF conversion would drop
            # silently (relative @id / @type) are caught here.
            _check_expanded(expanded)
        return expanded

    def _process_context(  # type: ignore[override]
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: set[str] | None = None,
    ) -> Any:
        key = None
        # Only finished (frozen) active contexts are immutable; pyld also calls this on the
        # half-built context it is filling in, which must not be cached.
        if isinstance(active_ctx, frozendict) and not cycles and "_uuid" in active_ctx:
            local_key = _context_key(local_ctx)
            if local_key is not None:
                key = (
                    active_ctx["_uuid"],
                    local_key,
                    override_protected,
                    propagate,
                    validate_scoped,
                    options.get("base"),
                    options.get("processingMode"),
                )
                with self._memo_lock:
                    cached = self._memo.get(key)
                if cached is not None:
                    return cached
        result = super()._process_context(
            active_ctx,
            local_ctx,
            options,
            override_protected=override_protected,
            propagate=propagate,
            validate_scoped=validate_scoped,
            cycles=cycles,
        )
        if key is not None:
            with self._memo_lock:
                self._memo[key] = result
        return result


def _raise_on_dropped(expanded_property: str | None) -> None:
    raise UndefinedTermError(
        f"JSON-LD would drop the property {expanded_property!r} (a term that the document's "
        "@context does not define), so it would not be covered by the proof"
    )


# pyld's own test for the IRIs it keeps when converting to RDF (jsonld._is_absolute_iri).
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
# With no base, pyld 3 resolves relative IRIs (ids, undefined types) against
# http://example.org/base/, which would then be signed as if the issuer had written it (and
# other implementations drop them instead). In safe mode we resolve against a reserved
# (RFC 2606 .invalid) base so that they can be found and rejected; for documents without
# relative IRIs the base makes no difference to the output.
_RELATIVE_BASE = "https://relative-iri.invalid/"


def _check_iri(iri: str, what: str) -> None:
    if iri.startswith(_RELATIVE_BASE) or not _ABSOLUTE_IRI.match(iri):
        hint = " (the @context does not define that term)" if what == "type" else ""
        raise RelativeIriError(
            f"{what} {iri.removeprefix(_RELATIVE_BASE)!r} is not an absolute IRI{hint}, "
            "so it would not be signed as written"
        )


def _check_expanded(element: Any) -> None:
    """Raise if this expanded JSON-LD holds an IRI that was relative in the input."""
    if isinstance(element, list):
        for item in element:
            _check_expanded(item)
        return
    if not isinstance(element, dict):
        return
    if "@value" in element:
        datatype = element.get("@type")
        if datatype is not None and datatype != "@json":
            _check_iri(datatype, "datatype")
        return
    if "@id" in element:
        _check_iri(element["@id"], "id")
    for type_ in element.get("@type", ()):
        _check_iri(type_, "type")
    for key, value in element.items():
        if key == "@reverse":
            for reverse_value in value.values():
                _check_expanded(reverse_value)
        elif key not in ("@id", "@type", "@index", "@language", "@direction"):
            _check_expanded(value)


class _LockedLRUCache(LRUCache):
    """LRU cache safe to share between threads (pyld's ContextResolver mutates it)."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self._lock = threading.RLock()

    def __getitem__(self, key: Any) -> Any:
        with self._lock:
            return super().__getitem__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            super().__setitem__(key, value)

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            return super().get(key, default)


# Our own resolved-context cache rather than pyld's module-global one: another loader in the
# same process (tests, a verifier for foreign credentials) may serve different documents for
# the same URLs.
_resolved_contexts = _LockedLRUCache(maxsize=100)
_SAFE_PROCESSOR = _CachingProcessor(safe=True)
_LAX_PROCESSOR = _CachingProcessor(safe=False)


def canonicalize(doc: dict[str, Any], *, safe: bool = True) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document, using bundled contexts.

    With ``safe`` (the default), data that JSON-LD would silently drop or rewrite raises
    instead: an undefined property (``UndefinedTermError``), or a relative ``id``, an
    undefined ``type`` or a relative datatype (``RelativeIriError``). So what is signed is
    exactly what the JSON says. With ``safe=False`` the output equals plain pyld's.
    """
    processor = _SAFE_PROCESSOR if safe else _LAX_PROCESSOR
    options = {
        "base": _RELATIVE_BASE if safe else "",
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
        # One resolver per call: its per-operation cache must not grow across calls.
        "contextResolver": ContextResolver(_resolved_contexts, document_loader),
    }
    try:
        return processor.normalize(doc, options)
    except jsonld.JsonLdError as exc:
        # pyld wraps loader and handler errors several levels deep; surface ours.
        cause = _our_cause(exc)
        if cause is not None:
            raise type(cause)(*cause.args) from exc
        raise


def _our_cause(exc: BaseException) -> JsonLdProcessingError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, JsonLdProcessingError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
