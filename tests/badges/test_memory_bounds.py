"""The caches a long-lived process keeps for its whole life are bounded (issue 15: a worker
stays under 300 MB RSS across 100,000 awards; ``python -m bench.memory`` measures it).

Each is an LRU of a pinned number of entries, so it cannot grow with the number of awards,
seconds of issuing or badges a process has seen: raising a bound (or making a cache a plain
dict) must be a decision, taken with bench.memory's figures, not a side effect."""

from __future__ import annotations

import importlib
import json
from functools import reduce

import pytest
from cachetools import LRUCache

from badges.openbadges import publish, signing

# (module, attribute path, entries): what each holds is in docs/performance.md, "Memory".
BOUNDS = [
    ("badges.openbadges.publish", "_local", 2048),  # small immutable JSON documents (web)
    ("badges.openbadges.publish", "_snapshots", 1024),  # parsed badge snapshots (web)
    ("badges.openbadges.publish", "_public_ids", 4096),  # (badge, issuer version) public ids
    ("badges.openbadges.publish", "_known_versions", 4096),  # BadgeClass versions seen
    ("badges.openbadges.signing", "_proof_config_hashes", 256),  # one per second of issuing
    ("badges.openbadges.jsonld", "_CachingProcessor._memo", 1024),  # processed contexts
    # pyld's own module-level caches, which every signature goes through (signer, web).
    ("pyld.jsonld", "_resolved_context_cache", 100),
    ("pyld.jsonld", "_inverse_context_cache", 20),
]


@pytest.mark.parametrize(("module", "path", "entries"), BOUNDS)
def test_a_process_lifetime_cache_is_an_lru_of_pinned_size(module, path, entries):
    cache = reduce(getattr, path.split("."), importlib.import_module(module))
    assert isinstance(cache, LRUCache)
    assert cache.maxsize == entries


def test_signing_through_many_seconds_keeps_at_most_256_proof_configurations():
    """The proof configuration carries ``created`` (to the second): a signer running for
    hours sees a new one every second, which an unbounded memo would keep for ever."""
    signing._proof_config_hashes.clear()
    try:
        for second in range(300):
            signing._proof_config_hash(
                {
                    "type": "DataIntegrityProof",
                    "cryptosuite": "eddsa-rdfc-2022",
                    "created": f"2026-12-06T02:{second // 60:02d}:{second % 60:02d}Z",
                    "verificationMethod": "did:web:example.org#key-1",
                    "proofPurpose": "assertionMethod",
                    "@context": ["https://www.w3.org/ns/credentials/v2"],
                }
            )
        assert len(signing._proof_config_hashes) == 256
    finally:
        signing._proof_config_hashes.clear()


def test_many_badge_versions_keep_at_most_1024_parsed_snapshots():
    try:
        for n in range(1100):
            publish._snapshot_of(json.dumps({"name": f"Badge {n}"}))
        assert len(publish._snapshots) == 1024
        # The newest are the ones kept.
        assert publish._snapshot_of(json.dumps({"name": "Badge 1099"}))[0]["name"] == "Badge 1099"
    finally:
        publish.clear_local_cache()
