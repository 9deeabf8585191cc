"""Start the embedded PostgreSQL (pgserver) for development and tests.

Used by scripts/run and scripts/test when DATABASE_URL is not set: prints a
DATABASE_URL for a server whose data lives in .devdb/ and which listens on a
Unix socket only. The server keeps running between commands; `python -m
gymsite.devdb --stop` stops it. With DATABASE_URL set, `--ensure` creates the
database it names if the server lacks it.
"""

import sys
from pathlib import Path
from urllib.parse import quote

DATA_DIR = Path(__file__).resolve().parent.parent / ".devdb"


def ensure_database(url: str) -> None:
    """Create the database DATABASE_URL names if the server does not have it yet."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    name = config["NAME"]
    admin = psycopg.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    if "--ensure" in sys.argv:
        import os

        ensure_database(os.environ["DATABASE_URL"])
        return
    import pgserver

    server = pgserver.get_server(DATA_DIR, cleanup_mode=None)
    if "--stop" in sys.argv:
        server.cleanup()
        return
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'spotter';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE spotter;")
    print(f"postgres://postgres@{quote(str(DATA_DIR), safe='')}/spotter")


if __name__ == "__main__":
    main()
