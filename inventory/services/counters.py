"""The conditional counter updates: one statement each, whose row count says who won.

Every buyer races on these rows (a product's stock at a branch, a flash sale's units,
a member's allowance in it), so none is read and then written: the ``WHERE`` decides,
and under READ COMMITTED PostgreSQL re-checks it against the newest row version after
waiting for the lock. CHECK constraints on the tables are the last line of defence.
"""

from __future__ import annotations

from django.db import connection

from gymsite.db import insert_list
from inventory.models import FlashSale, FlashSaleAllowance, Stock


class _Lost(Exception):
    """A conditional update matched no row: someone else got there first."""

    def __init__(self, reason: str, *, member_id: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.member_id = member_id


def _execute(sql: str, params: list | dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Holding a unit moves it from free to reserved; taking it (a direct sale) removes it
# from the shelf. Either only while that many are free.
_STOCK_CLAIM_SQL = {
    hold: (
        f"UPDATE {Stock._meta.db_table} SET {counter} = {counter} {sign} %s "  # noqa: S608
        f"WHERE product_id = %s AND branch_id = %s AND {Stock.available_sql()} >= %s "
        "RETURNING id, on_hand, reserved"
    )
    for hold, counter, sign in ((True, "reserved", "+"), (False, "on_hand", "-"))
}


def _stock_units_claim(
    *, product_id: int, branch_id: int, quantity: int, hold: bool
) -> tuple[int, int, int]:
    """Hold (``hold``) or take free units: returns (stock id, on_hand, reserved)."""
    rows = _execute(_STOCK_CLAIM_SQL[hold], [quantity, product_id, branch_id, quantity])
    if not rows:
        raise _Lost("sold_out" if hold else "out_of_stock")
    return rows[0]


def _sale_units_take(*, sale_id: int, quantity: int) -> None:
    """Count units against a flash sale's quantity, if that many are left."""
    rows = _execute(
        f"UPDATE {FlashSale._meta.db_table} SET remaining = remaining - %s "  # noqa: S608
        "WHERE id = %s AND remaining >= %s RETURNING remaining",
        [quantity, sale_id, quantity],
    )
    if not rows:
        raise _Lost("sold_out")


# The per-member limit: one upsert, serialised on the member's own row; it adds the
# units only while the total stays within the limit copied onto the row. The
# purchase statement (``flash_sales``) inserts with the same clause.
ALLOWANCE_UPSERT_SQL = (
    "ON CONFLICT (sale_id, member_id) DO UPDATE SET quantity = a.quantity + EXCLUDED.quantity "
    'WHERE a.quantity + EXCLUDED.quantity <= a."limit"'
)


def allowance_insert_list(*, member: str) -> tuple[str, str]:
    """The allowance row's columns and values (``insert_list``), the member given as SQL."""
    return insert_list(
        FlashSaleAllowance,
        {
            "organisation_id": "%(org)s",
            "sale_id": "%(sale)s",
            "member_id": member,
            "quantity": "%(qty)s",
            "limit": "%(limit)s",
        },
    )


_ALLOWANCE_COLUMNS, _ALLOWANCE_VALUES = allowance_insert_list(member="%(member)s")
_ALLOWANCE_TAKE_SQL = (
    f"INSERT INTO {FlashSaleAllowance._meta.db_table} AS a ({_ALLOWANCE_COLUMNS}) "  # noqa: S608
    f"VALUES ({_ALLOWANCE_VALUES}) {ALLOWANCE_UPSERT_SQL} RETURNING quantity"
)


def _allowance_take(*, organisation_id: int, sale_id: int, member_id: int, quantity: int, limit):
    """Count units against the member's limit in the sale."""
    rows = _execute(
        _ALLOWANCE_TAKE_SQL,
        {
            "org": organisation_id,
            "sale": sale_id,
            "member": member_id,
            "qty": quantity,
            "limit": limit,
        },
    )
    if not rows:
        raise _Lost("over_limit")
    return rows[0][0]
