"""The benchmarks' own PostgreSQL databases: created on first use, never any other."""

from __future__ import annotations

import dj_database_url
import psycopg2


def ensure_database(url: str) -> None:
    """Create the database ``url`` names if it does not exist (connecting to ``postgres``)."""
    cfg = dj_database_url.parse(url)
    conn = psycopg2.connect(
        host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"],
        password=cfg["PASSWORD"] or None, dbname="postgres",
    )  # fmt: skip
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
            if not cursor.fetchone():
                cursor.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    finally:
        conn.close()
