"""Gapless document numbers per gym and kind (invoices, credit notes)."""

from __future__ import annotations

from django.db import connection

from billing.models import (
    DocumentCounter,
)


def _next_number(*, organisation_id: int, kind: str) -> int:
    """The next number of a document kind, gap-free: see ``DocumentCounter``."""
    table = DocumentCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (organisation_id, kind, last_number) VALUES (%s, %s, 1)
            ON CONFLICT (organisation_id, kind)
            DO UPDATE SET last_number = {table}.last_number + 1
            RETURNING last_number
            """,  # noqa: S608 (table name is ours, values are parameters)
            [organisation_id, kind],
        )
        return cursor.fetchone()[0]
