"""gunicorn settings for the web process (Dockerfile and docker-compose.yml run it with -c).

Request bodies: gunicorn has no body limit of its own; the reverse proxy refuses big bodies
first (client_max_body_size, see README.md), and Django's RequestBodyLimitMiddleware answers
413 above MAX_REQUEST_BODY before parsing. What gunicorn does bound is the request head.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
# A request is answered in well under this; a stuck worker is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))

# The request head: the longest URL we build (report filters, ?next=…) fits in 4 kB; 100
# headers of at most 8 kB each. Beyond, gunicorn answers 400 before Django sees anything.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
