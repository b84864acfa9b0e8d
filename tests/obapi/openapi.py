"""Validate against 1EdTech's own OpenAPI document (tests/obapi/spec, see its README)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

SPEC = Path(__file__).resolve().parent / "spec" / "ob_v3p0_openapi.yaml"


@lru_cache(maxsize=1)
def spec() -> dict:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


def schema_errors(name: str, instance) -> list[str]:
    """Errors of ``instance`` against ``#/components/schemas/<name>`` (OpenAPI 3.0's schema
    objects are JSON Schema draft 4–7 compatible for what these schemas use)."""
    root = {"$ref": f"#/components/schemas/{name}", "components": spec()["components"]}
    validator = jsonschema.Draft7Validator(root)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def response_schema(path: str, method: str, status: int) -> dict | None:
    operation = spec()["paths"][path][method.lower()]
    responses = operation["responses"]
    answer = responses.get(str(status), responses.get("default"))
    assert answer is not None, f"{method} {path} → {status} is not a response the spec defines"
    content = answer.get("content") or {}
    return (content.get("application/json") or {}).get("schema")


def assert_valid_response(path: str, method: str, response) -> None:
    """The response's status is one the spec lists for the operation and its JSON body
    validates against that response's schema; getCredentials' X-Total-Count is an integer."""
    schema = response_schema(path, method, response.status_code)
    if response.status_code == 304 and not response.content:
        return
    if schema is not None:
        body = response.json()
        root = {**schema, "components": spec()["components"]}
        errors = [
            f"{list(e.absolute_path)}: {e.message}"
            for e in jsonschema.Draft7Validator(root).iter_errors(body)
        ]
        assert not errors, f"{method} {path} → {response.status_code}: {errors[:5]}"
    if path == "/credentials" and method == "GET" and response.status_code == 200:
        assert int(response["X-Total-Count"]) >= 0
