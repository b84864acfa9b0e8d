"""Fault drills: scripts that break a real service under load and check the guarantees.

Not tests (they take minutes and start their own Redis, gunicorn, Celery and PostgreSQL); run
them by hand, one at a time: ``python -m drills.<name>``. See docs/reliability.md.
"""
