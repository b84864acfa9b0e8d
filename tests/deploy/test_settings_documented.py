"""Every setting production reads from the environment is in README.md's variable table and in
.env.example: what settings.py (and gunicorn.conf.py) read is found in their source, so a new
variable fails here until it is documented."""

import ast
import re

from tests.deploy.conftest import ROOT

READERS = {"env_bool", "env_int", "env_list"}
# Read from the environment but set by the tools, never by an operator.
NOT_SETTINGS = {"PYTEST_XDIST_WORKER"}


def environment_reads(path) -> set[str]:
    """NAME of env_bool/env_int/env_list("NAME", …), os.environ.get("NAME"), os.getenv("NAME"),
    os.environ["NAME"]."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = ast.unparse(node.func)
            if func in READERS or func in {"os.environ.get", "os.getenv", "environ.get"}:
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def read_variables() -> set[str]:
    names = environment_reads(ROOT / "badgeplatform" / "settings.py")
    names |= environment_reads(ROOT / "gunicorn.conf.py")
    return names - NOT_SETTINGS


def readme_table() -> set[str]:
    """The backquoted names in the first column of README's variable table."""
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", first))
    return names


def env_example() -> set[str]:
    """Set (NAME=…) or shown commented with its default (# NAME=…)."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, flags=re.M))


def test_the_reader_finds_what_settings_reads():
    names = read_variables()
    # The three that were once missing, and ones read each way.
    assert {"SIGNING_KEY_SECRET", "SECURE_SSL_REDIRECT", "EMAIL_USE_TLS"} <= names
    assert {"SECRET_KEY", "DATABASE_URL", "TRUSTED_PROXIES", "WEB_CONCURRENCY"} <= names


def test_every_variable_is_in_the_readme_table():
    missing = sorted(read_variables() - readme_table())
    assert missing == [], f"add these to README.md's variable table: {missing}"


def test_every_variable_is_in_env_example():
    missing = sorted(read_variables() - env_example())
    assert missing == [], f"add these to .env.example (commented with the default): {missing}"


def test_the_docs_name_no_variable_that_nothing_reads():
    compose_only = {"POSTGRES_PASSWORD", "HTTP_PORT"}  # docker-compose.yml's own
    stale = sorted((readme_table() | env_example()) - read_variables() - compose_only)
    assert stale == []
