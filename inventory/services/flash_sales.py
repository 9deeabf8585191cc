"""Flash sales: creating and cancelling one, and buying from it under a rush.

A purchase is one SQL statement, which is its own transaction (``_PURCHASE_SQL``, see
docs/inventory.md): it takes the member's allowance, the shelf unit and the sale's
unit with conditional writes, in the one lock order (allowance → stock → sale).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import Branch, Member, User
from accounts.services import audit_record
from gymsite.db import insert_list, single_statement
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.money import quantize
from inventory.models import (
    FlashSale,
    FlashSaleAllowance,
    Order,
    OrderLine,
    Product,
    Stock,
    StockMovement,
)
from inventory.services.checks import (
    MAX_STOCK_QUANTITY,
    _active_branch,
    _active_product,
    _positive_quantity,
)
from inventory.services.counters import ALLOWANCE_UPSERT_SQL, _Lost, allowance_insert_list
from inventory.services.holds import orders_expire_due
from inventory.services.orders import _new_order_number, _price_line, _tax_rate


@transaction.atomic
def flash_sale_create(
    *,
    product: Product,
    title: str,
    sale_price: Decimal,
    starts_at,
    ends_at,
    quantity: int,
    per_member_limit: int = 1,
    hold_minutes: int = 10,
    branch: Branch | None = None,
    actor: User | None = None,
) -> FlashSale:
    quantity = _positive_quantity(quantity, maximum=MAX_STOCK_QUANTITY)
    _active_product(product)
    if not product.tracks_stock:
        raise ServiceError(
            "Flash sales are for stocked products.", code="not_stocked", field="product"
        )
    if ends_at <= starts_at:
        raise ServiceError(
            "The sale must close after it opens.", code="invalid_window", field="ends_at"
        )
    if Decimal(sale_price) < 0:
        raise ServiceError("A price cannot be negative.", code="invalid_price", field="sale_price")
    if not 1 <= int(per_member_limit) <= quantity:
        raise ServiceError(
            "The per-member limit must be between 1 and the quantity.",
            code="invalid_limit",
            field="per_member_limit",
        )
    sale = FlashSale.objects.create(
        product=product,
        branch=branch,
        title=title.strip() or product.name,
        sale_price=quantize(Decimal(sale_price)),
        starts_at=starts_at,
        ends_at=ends_at,
        quantity=quantity,
        remaining=quantity,
        per_member_limit=per_member_limit,
        hold_minutes=hold_minutes,
    )
    if actor is not None:
        audit_record(actor=actor, action="flash_sale.create", target=sale)
    return sale


def flash_sale_buy(
    *,
    sale: FlashSale,
    member: Member | None = None,
    user: User | None = None,
    quantity: int = 1,
    branch: Branch | None = None,
    now=None,
) -> Order:
    """Reserve flash-sale units for a member: a held order, to be paid within the hold.

    The buyer is ``member``, or the signed-in ``user``'s active member record in the
    sale's gym (the API's hot path: the purchase statement finds the member itself,
    one round trip fewer). Raises ``NotAllowed`` when there is no such member.

    Fast path: one statement in autocommit (``_PURCHASE_SQL``). Only when it finds
    nothing left are expired holds returned (read-time expiry) and the purchase tried
    once more, so stock comes back the moment a hold expires even if the periodic job
    has not run.
    """
    if (member is None) == (user is None):
        raise TypeError("Pass exactly one of member= or user=.")
    quantity = _positive_quantity(quantity)
    now = now or timezone.now()
    if member is not None and member.status != Member.Status.ACTIVE:
        raise NotAllowed("Only active members can buy.", code="not_member")
    if user is not None and not user.is_authenticated:
        raise NotAllowed("You are not a member of this gym.", code="not_member")
    phase = sale.phase_at(now)
    if phase == FlashSale.SCHEDULED:
        raise ServiceError("This sale is not open yet.", code="sale_not_open")
    if phase == FlashSale.CLOSED:
        raise ServiceError("This sale has closed.", code="sale_closed")
    if quantity > sale.per_member_limit:
        raise ServiceError(
            f"The limit is {sale.per_member_limit} per member.",
            code="over_limit",
            field="quantity",
        )
    if sale.branch_id is not None:
        if branch is not None and branch.pk != sale.branch_id:
            raise ServiceError(
                "This sale is collected at another branch.", code="wrong_branch", field="branch"
            )
    else:
        if branch is None:
            raise ServiceError(
                "Choose the branch where you will collect.", code="required", field="branch"
            )
        if branch.organisation_id != sale.organisation_id:
            raise ServiceError("Unknown branch.", code="unknown_branch", field="branch")
        _active_branch(branch)
    branch = branch if sale.branch_id is None else sale.branch
    product = sale.product
    # A sale at one branch may come with its stock row's id already (``selectors.
    # flash_sale_for_purchase``): one round trip fewer on the hot path.
    stock_id = getattr(sale, "branch_stock_id", None) if sale.branch_id else None
    if stock_id is None:
        found = (
            Stock.objects.filter(product_id=sale.product_id, branch_id=branch.pk)
            .order_by()
            .values_list("pk", flat=True)[:1]
        )
        stock_id = found[0] if found else None
    if stock_id is None:
        raise Conflict(f"Sold out at {branch.name}.", code="sold_out")

    def attempt() -> Order:
        return _flash_sale_reserve(
            sale=sale,
            product=product,
            member=member,
            user=user,
            quantity=quantity,
            branch=branch,
            stock_id=stock_id,
            now=now,
        )

    lost = None
    # ``sale.remaining`` was read when the request began: if it already said "none
    # left", skip straight to sweeping expired holds (it decides nothing by itself).
    # A sale definition served from the short-lived cache has no trustworthy
    # ``remaining``: always try.
    if getattr(sale, "from_cache", False) or sale.remaining >= quantity:
        try:
            return attempt()
        except _Lost as exc:
            lost = exc
    # Read-time expiry: holds past their time give their units back before we say no.
    if orders_expire_due(now=now, flash_sale=sale):
        try:
            return attempt()
        except _Lost as exc:
            lost = exc
    if lost is not None and lost.reason == "over_limit":
        held = (
            FlashSaleAllowance.objects.filter(sale=sale, member_id=lost.member_id)
            .values_list("quantity", flat=True)
            .first()
            or 0
        )
        raise Conflict(
            f"You already have {held} of the {sale.per_member_limit} allowed per member.",
            code="over_limit",
            field="quantity",
        )
    if sale.phase_at(timezone.now()) == FlashSale.CLOSED:
        raise ServiceError("This sale has closed.", code="sale_closed")
    raise Conflict("Sold out.", code="sold_out")


# The SQLSTATE ``inventory_purchase_lost()`` raises (migration 0003).
_PURCHASE_LOST_SQLSTATE = "IV001"


def _flash_sale_reserve(
    *,
    sale: FlashSale,
    product: Product,
    member: Member | None,
    user: User | None,
    quantity: int,
    branch: Branch,
    stock_id: int,
    now,
) -> Order:
    """One purchase: one statement, which is its own transaction.

    The statement (``_PURCHASE_SQL``) finds the buyer, counts the unit against the
    member's limit, inserts the held order, its line and the ledger row, then
    reserves the shelf unit and takes the sale's unit, each step running only if the
    one before it matched. Data dependencies fix the order in which rows are locked,
    the one lock order of docs/inventory.md: the member's allowance → stock → flash
    sale. If the shelf or the sale has nothing left once the order is written, the
    statement raises (``inventory_purchase_lost()``), which undoes all of its writes:
    no BEGIN, no COMMIT, no savepoint, and the shared rows are released the moment
    the statement ends.
    """
    rate = _tax_rate(product, branch)
    priced = _price_line(unit_price=sale.sale_price, quantity=quantity, tax_rate=rate)
    number = _new_order_number("FS")
    expires_at = now + timedelta(minutes=sale.hold_minutes)
    # Inside a caller's transaction the statement must not decide how that
    # transaction commits, and needs a savepoint to fail without breaking it.
    in_transaction = connection.in_atomic_block
    async_commit = getattr(settings, "INVENTORY_HOLD_ASYNC_COMMIT", False) and not in_transaction
    params = {
        "async_commit": "off" if async_commit else "on",
        "org": sale.organisation_id,
        "sale": sale.pk,
        "buyer": member.pk if member is not None else user.pk,
        "qty": quantity,
        "limit": sale.per_member_limit,
        "number": number,
        "branch": branch.pk,
        "subtotal": priced.subtotal,
        "tax": priced.tax_amount,
        "total": priced.total,
        "currency": product.currency,
        "expires": expires_at,
        "now": now,
        "product": product.pk,
        "description": f"{product.name} — {sale.title}"[:200],
        "price": sale.sale_price,
        "rate": rate,
        "stock": stock_id,
        "reason": f"flash sale {sale.pk} hold",
    }
    sql = _PURCHASE_BY_MEMBER_SQL if member is not None else _PURCHASE_BY_USER_SQL
    try:
        with single_statement(), connection.cursor() as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _PURCHASE_LOST_SQLSTATE:
            raise _Lost("sold_out") from None
        raise
    member_id, buyer_user_id, email, allowed, order_id = row
    if member_id is None:
        raise NotAllowed("You are not a member of this gym.", code="not_member")
    if not allowed:
        raise _Lost("over_limit", member_id=member_id)
    if order_id is None:
        raise _Lost("sold_out")
    order = Order(
        pk=order_id,
        organisation_id=sale.organisation_id,
        number=number,
        channel=Order.Channel.FLASH_SALE,
        status=Order.Status.HELD,
        payment=Order.Payment.PENDING,
        branch_id=branch.pk,
        member_id=member_id,
        customer_email=email,
        flash_sale_id=sale.pk,
        subtotal=priced.subtotal,
        tax_total=priced.tax_amount,
        total=priced.total,
        currency=product.currency,
        expires_at=expires_at,
        created_by_id=buyer_user_id,
        created_at=now,
    )
    order._state.adding = False
    return order


# ``synchronous_commit`` for this statement's transaction only: "off" lets the hot
# rows go at commit without waiting for the WAL flush (INVENTORY_HOLD_ASYNC_COMMIT,
# see docs/inventory.md: a crash can lose the last instant of *holds*, never part
# of one, never a payment, and never oversell).
#
# ``open_sale`` reads the sale and the shelf without locking: when either already
# says "not enough", nothing is written and nobody queues on the shared rows (the
# tail of a rush). It decides nothing by itself: ``held`` and ``taken`` re-check
# under the row lock.
# Each INSERT's columns come from the model (``insert_list``): a column added to a model
# makes this module fail to import until the statement gives it a value.
_ALLOWANCE_INSERT = allowance_insert_list(member="buyer.id")
_ORDER_INSERT = insert_list(
    Order,
    {
        "organisation_id": "%(org)s",
        "number": "%(number)s",
        "channel": "'flash_sale'",
        "status": "'held'",
        "payment": "'pending'",
        "payment_provider": "''",
        "branch_id": "%(branch)s",
        "member_id": "buyer.id",
        "customer_name": "''",
        "customer_email": "buyer.email",
        "flash_sale_id": "%(sale)s",
        "subtotal": "%(subtotal)s",
        "tax_total": "%(tax)s",
        "total": "%(total)s",
        "refunded_total": "0",
        "currency": "%(currency)s",
        "expires_at": "%(expires)s",
        "invoice_id": "NULL",
        "created_by_id": "buyer.user_id",
        "created_at": "%(now)s",
        "paid_at": "NULL",
        "collected_at": "NULL",
    },
)
_LINE_INSERT = insert_list(
    OrderLine,
    {
        "organisation_id": "%(org)s",
        "order_id": "id",
        "product_id": "%(product)s",
        "description": "%(description)s",
        "quantity": "%(qty)s",
        "unit_price": "%(price)s",
        "tax_rate": "%(rate)s",
        "subtotal": "%(subtotal)s",
        "tax_amount": "%(tax)s",
        "line_total": "%(total)s",
        "returned_quantity": "0",
        "ticket_id": "NULL",
    },
)
_LEDGER_INSERT = insert_list(
    StockMovement,
    {
        "organisation_id": "%(org)s",
        "stock_id": "%(stock)s",
        "product_id": "%(product)s",
        "branch_id": "%(branch)s",
        "kind": "'reserved'",
        "on_hand_delta": "0",
        "reserved_delta": "%(qty)s",
        "order_id": "id",
        "actor_id": "created_by_id",
        "reason": "%(reason)s",
        "created_at": "%(now)s",
    },
)

_PURCHASE_SQL = f"""
WITH buyer AS (
    SELECT id, email, user_id FROM {Member._meta.db_table}
    WHERE organisation_id = %(org)s AND {{buyer_filter}} = %(buyer)s AND status = 'active'
), open_sale AS (
    SELECT 1 FROM {FlashSale._meta.db_table} s, {Stock._meta.db_table} st
    WHERE s.id = %(sale)s AND s.remaining >= %(qty)s AND {FlashSale.open_sql("%(now)s", "s")}
      AND st.id = %(stock)s AND {Stock.available_sql("st")} >= %(qty)s
), allowance AS (
    INSERT INTO {FlashSaleAllowance._meta.db_table} AS a ({_ALLOWANCE_INSERT[0]})
    SELECT {_ALLOWANCE_INSERT[1]}
    FROM buyer, (SELECT set_config('synchronous_commit', %(async_commit)s, true)) AS config
    WHERE EXISTS (SELECT 1 FROM open_sale)
    {ALLOWANCE_UPSERT_SQL}
    RETURNING 1
), new_order AS (
    INSERT INTO {Order._meta.db_table} ({_ORDER_INSERT[0]})
    SELECT {_ORDER_INSERT[1]}
    FROM buyer
    WHERE EXISTS (SELECT 1 FROM allowance)
    RETURNING id, created_by_id
), line AS (
    INSERT INTO {OrderLine._meta.db_table} ({_LINE_INSERT[0]})
    SELECT {_LINE_INSERT[1]}
    FROM new_order
), ledger AS (
    INSERT INTO {StockMovement._meta.db_table} ({_LEDGER_INSERT[0]})
    SELECT {_LEDGER_INSERT[1]}
    FROM new_order
), held AS (
    UPDATE {Stock._meta.db_table} SET reserved = reserved + %(qty)s
    WHERE id = %(stock)s AND {Stock.available_sql()} >= %(qty)s
      AND EXISTS (SELECT 1 FROM new_order)
    RETURNING id
), taken AS (
    UPDATE {FlashSale._meta.db_table} SET remaining = remaining - %(qty)s
    WHERE id = %(sale)s AND remaining >= %(qty)s AND {FlashSale.open_sql("%(now)s")}
      AND EXISTS (SELECT 1 FROM held)
    RETURNING id
)
SELECT buyer.id, buyer.user_id, buyer.email,
       EXISTS (SELECT 1 FROM allowance) OR NOT EXISTS (SELECT 1 FROM open_sale),
       CASE WHEN EXISTS (SELECT 1 FROM taken) THEN (SELECT id FROM new_order)
            WHEN EXISTS (SELECT 1 FROM new_order) THEN inventory_purchase_lost()
       END
FROM (SELECT 1) AS one LEFT JOIN buyer ON true
"""  # noqa: S608 (table names are ours; every value is a parameter)
_PURCHASE_BY_MEMBER_SQL = _PURCHASE_SQL.replace("{buyer_filter}", "id")
_PURCHASE_BY_USER_SQL = _PURCHASE_SQL.replace("{buyer_filter}", "user_id")


@transaction.atomic
def flash_sale_cancel(*, sale: FlashSale, actor: User | None) -> FlashSale:
    """Stop a sale: no more purchases; held orders run out (or are paid) as usual."""
    FlashSale.objects.filter(pk=sale.pk).update(is_cancelled=True)
    audit_record(actor=actor, action="flash_sale.cancel", target=sale)
    sale.refresh_from_db()
    return sale
