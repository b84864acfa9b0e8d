"""The stylesheets are assembled from several areas' sections; a lost brace silently swallows
every rule after it (it happened once in a merge), so check the structure."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static"


@pytest.mark.parametrize("path", sorted(STATIC.rglob("*.css")), ids=lambda p: p.name)
def test_stylesheet_braces_balance(path):
    css = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    depth = 0
    for number, line in enumerate(css.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{path.name}:{number}: a '}}' closes nothing"
        # Only @media/@supports blocks nest; a rule opened inside a rule means a lost '}'.
        assert depth <= 2, f"{path.name}:{number}: blocks nested too deep (a lost '}}'?)"
    assert depth == 0, f"{path.name}: {depth} block(s) never closed"


def test_a_top_level_section_never_starts_inside_a_block():
    css = (STATIC / "css" / "app.css").read_text()
    depth = 0
    for line in css.splitlines():
        if line.startswith("/* ----"):
            assert depth == 0, f"section {line!r} starts inside an unclosed block"
        depth += line.count("{") - line.count("}")
