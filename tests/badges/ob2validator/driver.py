"""Run 1EdTech's Open Badges 2.0 validator (the ``openbadges`` package) offline.

Runs under .venv/ob2-validator (see requirements/ob2-validator.txt), not in the project's
virtualenv. Usage: driver.py --origin http://127.0.0.1:PORT --context FILE INPUT, where INPUT
is a hosted assertion URL or the path of a baked PNG. Prints the validator's result as JSON.

The validator fetches everything with ``requests``. This driver lets it reach only the test's
live server (``--origin``) and serves the OB 2.0 JSON-LD context from the local conformance
copy, since there is no network here; any other URL is refused and listed in the output.
"""

import argparse
import json

import requests
from requests.models import Response

CONTEXT_URLS = ("https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--origin", required=True)
    parser.add_argument("--context", required=True)
    parser.add_argument("input")
    args = parser.parse_args()

    with open(args.context, "rb") as f:
        context = f.read()
    refused = []
    fetched = []
    real_send = requests.Session.send

    def send(self, request, **kwargs):
        url = request.url
        if url in CONTEXT_URLS:
            response = Response()
            response.status_code = 200
            response.url = url
            response.request = request
            response._content = context
            response.headers["Content-Type"] = "application/ld+json"
            return response
        if url.startswith(args.origin + "/"):
            response = real_send(self, request, **kwargs)
            fetched.append(
                {
                    "url": url,
                    "status": response.status_code,
                    "content_type": response.headers.get("Content-Type", ""),
                }
            )
            return response
        refused.append(url)
        raise requests.ConnectionError(f"offline test: {url} is not reachable")

    requests.Session.send = send

    from openbadges import verify

    if args.input.startswith(("http://", "https://")):
        result = verify(args.input, use_cache=False, cache_backend=None)
    else:
        with open(args.input, "rb") as image:
            result = verify(image, use_cache=False, cache_backend=None)
    print(
        json.dumps(
            {
                "report": result["report"],
                "graph": result["graph"],
                "fetched": fetched,
                "refused": refused,
            }
        )
    )


if __name__ == "__main__":
    main()
