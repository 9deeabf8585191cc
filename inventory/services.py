"""State changes for retail: stock, flash sales, orders (POS, shop), returns.

Concurrency (see docs/inventory.md):
- Counters change only through conditional single-statement updates whose row
  count says who won (``_stock_hold``, ``_stock_take``, ``_PURCHASE_SQL``,
  ``_allowance_take``); CHECK constraints on the tables are the last line of defence.
- Locks are taken in one order: a member's flash-sale allowance → product stock
  (by pk) → flash sale → order (the architecture's "stock → flash sale →
  reservation", with the per-member row first: see docs/inventory.md). A purchase
  takes them in that order by its statements; expiry and payment lock the same rows
  explicitly first, then decide with a conditional update of the order's status, so
  expiry racing payment has exactly one winner.
- Nothing leaves the process while a lock is held: emails go to the outbox.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Branch, Member, Role, RoleAssignment, User
from accounts.services import audit_record
from accounts.tenancy import require_scope
from gymsite.db import single_statement
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.money import quantize, tax_on
from gymsite.outbox import email_enqueue
from inventory.models import (
    CartItem,
    Category,
    DayPassPlan,
    FlashSale,
    FlashSaleAllowance,
    Order,
    OrderLine,
    Product,
    Stock,
    StockMovement,
)

logger = logging.getLogger(__name__)

SHOP_HOLD_MINUTES = 30
MAX_LINE_QUANTITY = 1000
MAX_STOCK_QUANTITY = 1_000_000

# --- validation helpers --------------------------------------------------------------


def _positive_quantity(
    quantity, *, field: str = "quantity", maximum: int = MAX_LINE_QUANTITY
) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            raise ServiceError(
                "Quantity must be a whole number.", code="invalid_quantity", field=field
            ) from None
    if quantity < 1:
        raise ServiceError("Quantity must be at least 1.", code="invalid_quantity", field=field)
    if quantity > maximum:
        raise ServiceError("That quantity is too large.", code="invalid_quantity", field=field)
    return quantity


def _active_product(product: Product) -> Product:
    if product.status != Product.Status.ACTIVE:
        raise ServiceError(
            f"{product.name} is no longer on sale.", code="product_unavailable", field="product"
        )
    return product


def _active_branch(branch: Branch) -> Branch:
    if not branch.is_active:
        raise ServiceError(f"{branch.name} is closed.", code="branch_closed", field="branch")
    return branch


def _check_branch_allowed(branch: Branch) -> None:
    scope = require_scope()
    if branch.organisation_id != scope.organisation_id or not scope.allows_branch(branch.pk):
        raise NotAllowed("You cannot sell at this branch.", code="branch_not_allowed")


def _new_order_number(prefix: str) -> str:
    # Random, not sequential: no shared counter row for hundreds of buyers to queue on.
    return f"{prefix}-{timezone.now():%y%m%d}-{secrets.token_hex(4).upper()}"


def _tax_rate(product: Product, branch: Branch) -> Decimal:
    return product.tax_rate if product.tax_rate is not None else branch.tax_rate


@dataclass(frozen=True)
class PricedLine:
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal


def _price_line(*, unit_price: Decimal, quantity: int, tax_rate: Decimal) -> PricedLine:
    """Price a line exactly as billing does, so a receipt equals its invoice."""
    subtotal = quantize(quantize(unit_price) * quantity)
    tax_amount = tax_on(subtotal, tax_rate)
    return PricedLine(subtotal=subtotal, tax_amount=tax_amount, total=subtotal + tax_amount)


# --- the conditional counter updates (one statement each) -----------------------------


class _Lost(Exception):
    """A conditional update matched no row: someone else got there first."""

    def __init__(self, reason: str, *, member_id: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.member_id = member_id


def _execute(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _stock_hold(*, product_id: int, branch_id: int, quantity: int) -> tuple[int, int, int]:
    """Reserve units if that many are free: returns (stock id, on_hand, reserved)."""
    rows = _execute(
        f"UPDATE {Stock._meta.db_table} SET reserved = reserved + %s "  # noqa: S608
        "WHERE product_id = %s AND branch_id = %s AND on_hand - reserved >= %s "
        "RETURNING id, on_hand, reserved",
        [quantity, product_id, branch_id, quantity],
    )
    if not rows:
        raise _Lost("sold_out")
    return rows[0]


def _stock_take(*, product_id: int, branch_id: int, quantity: int) -> tuple[int, int, int]:
    """Remove free units from the shelf (a direct sale): returns (id, on_hand, reserved)."""
    rows = _execute(
        f"UPDATE {Stock._meta.db_table} SET on_hand = on_hand - %s "  # noqa: S608
        "WHERE product_id = %s AND branch_id = %s AND on_hand - reserved >= %s "
        "RETURNING id, on_hand, reserved",
        [quantity, product_id, branch_id, quantity],
    )
    if not rows:
        raise _Lost("out_of_stock")
    return rows[0]


def _allowance_take(*, organisation_id: int, sale_id: int, member_id: int, quantity: int, limit):
    """Count units against the member's limit; one upsert, serialised on the member's row."""
    table = FlashSaleAllowance._meta.db_table
    rows = _execute(
        f"INSERT INTO {table} AS a (organisation_id, sale_id, member_id, quantity, "  # noqa: S608
        '"limit") VALUES (%s, %s, %s, %s, %s) '
        "ON CONFLICT (sale_id, member_id) DO UPDATE SET quantity = a.quantity + EXCLUDED.quantity "
        'WHERE a.quantity + EXCLUDED.quantity <= a."limit" RETURNING quantity',
        [organisation_id, sale_id, member_id, quantity, limit],
    )
    if not rows:
        raise _Lost("over_limit")
    return rows[0][0]


def _movement(
    *,
    stock_id: int,
    product_id: int,
    branch_id: int,
    kind: str,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    order: Order | None = None,
    actor: User | None = None,
    actor_id: int | None = None,
    reason: str = "",
    organisation_id: int | None = None,
) -> StockMovement:
    if actor is not None:
        actor_id = actor.pk if actor.is_authenticated else None
    return StockMovement.objects.create(
        organisation_id=organisation_id or require_scope().organisation_id,
        stock_id=stock_id,
        product_id=product_id,
        branch_id=branch_id,
        kind=kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        order=order,
        actor_id=actor_id,
        reason=reason[:255],
    )


def _stock_row(*, product: Product, branch: Branch) -> Stock:
    stock, _ = Stock.objects.get_or_create(
        product=product, branch=branch, defaults={"organisation_id": product.organisation_id}
    )
    return stock


# --- low-stock alerts -----------------------------------------------------------------


def _maybe_alert_low_stock(*, stock_id: int, on_hand: int, reserved: int, product: Product):
    """Email the branch's managers once when free stock falls to the threshold."""
    if on_hand - reserved > product.low_stock_threshold:
        return
    claimed = Stock.objects.filter(pk=stock_id, low_stock_alerted_at__isnull=True).update(
        low_stock_alerted_at=timezone.now()
    )
    if not claimed:
        return
    stock = Stock.objects.select_related("branch").get(pk=stock_id)
    managers = list(
        RoleAssignment.objects.filter(branch=stock.branch, role=Role.BRANCH_MANAGER)
        .select_related("user")
        .values_list("user__email", flat=True)
    )
    if not managers:
        return
    email_enqueue(
        to=managers,
        template="inventory/low_stock",
        context={
            "product_name": product.name,
            "sku": product.sku,
            "branch_name": stock.branch.name,
            "available": on_hand - reserved,
            "on_hand": on_hand,
            "threshold": product.low_stock_threshold,
        },
        organisation_id=product.organisation_id,
        dedupe_key=f"inventory.low_stock:{stock_id}:{timezone.now():%Y%m%d%H%M%S%f}",
    )


# --- catalogue --------------------------------------------------------------------------


@transaction.atomic
def category_create(*, name: str, slug: str, position: int = 0) -> Category:
    if Category.objects.filter(slug=slug).exists():
        raise ServiceError("A category with this slug exists.", code="duplicate", field="slug")
    return Category.objects.create(name=name.strip(), slug=slug, position=position)


@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    category: Category,
    price: Decimal,
    kind: str = Product.Kind.GOODS,
    description: str = "",
    tax_rate: Decimal | None = None,
    low_stock_threshold: int = 5,
    image=None,
    actor: User | None = None,
) -> Product:
    sku = sku.strip().upper()
    if not sku:
        raise ServiceError("A SKU is required.", code="required", field="sku")
    if Decimal(price) < 0:
        raise ServiceError("A price cannot be negative.", code="invalid_price", field="price")
    if Product.objects.filter(sku=sku).exists():
        raise ServiceError("Another product has this SKU.", code="duplicate_sku", field="sku")
    product = Product(
        sku=sku,
        name=name.strip(),
        category=category,
        price=quantize(Decimal(price)),
        currency=category.organisation.currency if category.organisation_id else "EUR",
        kind=kind,
        description=description,
        tax_rate=tax_rate,
        low_stock_threshold=low_stock_threshold,
    )
    if image:
        product.image = image
    product.save()
    if actor is not None:
        audit_record(actor=actor, action="product.create", target=product)
    return product


@transaction.atomic
def product_archive(*, product: Product, actor: User | None) -> Product:
    """Soft delete: the product leaves the catalogue; its sales and ledger stay."""
    product.status = Product.Status.ARCHIVED
    product.save(update_fields=["status"])
    CartItem.objects.filter(product=product).delete()
    audit_record(actor=actor, action="product.archive", target=product)
    return product


# --- stock ------------------------------------------------------------------------------


@transaction.atomic
def stock_receive(
    *, product: Product, branch: Branch, quantity: int, actor: User | None, reason: str = ""
) -> Stock:
    """A delivery arrives at a branch."""
    quantity = _positive_quantity(quantity, maximum=MAX_STOCK_QUANTITY)
    if not product.tracks_stock:
        raise ServiceError("Day passes have no stock.", code="not_stocked", field="product")
    _check_branch_allowed(branch)
    stock = _stock_row(product=product, branch=branch)
    Stock.objects.filter(pk=stock.pk).update(
        on_hand=F("on_hand") + quantity, low_stock_alerted_at=None
    )
    _movement(
        stock_id=stock.pk,
        product_id=product.pk,
        branch_id=branch.pk,
        kind=StockMovement.Kind.RECEIVED,
        on_hand_delta=quantity,
        actor=actor,
        reason=reason or "delivery",
        organisation_id=product.organisation_id,
    )
    stock.refresh_from_db()
    return stock


@transaction.atomic
def stock_count(
    *, product: Product, branch: Branch, counted: int, actor: User | None, reason: str = ""
) -> Stock:
    """Record a physical count: the ledger gets the difference as an adjustment."""
    if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
        raise ServiceError(
            "A count must be a whole number of 0 or more.", code="invalid_count", field="counted"
        )
    _check_branch_allowed(branch)
    stock = _stock_row(product=product, branch=branch)
    stock = Stock.objects.select_for_update().get(pk=stock.pk)
    if counted < stock.reserved:
        raise ServiceError(
            f"{stock.reserved} units are held for orders awaiting payment; "
            "the count cannot be lower until they expire or are collected.",
            code="count_below_reserved",
            field="counted",
        )
    delta = counted - stock.on_hand
    if delta:
        Stock.objects.filter(pk=stock.pk).update(on_hand=counted)
        _movement(
            stock_id=stock.pk,
            product_id=product.pk,
            branch_id=branch.pk,
            kind=StockMovement.Kind.ADJUSTED,
            on_hand_delta=delta,
            actor=actor,
            reason=reason or "stock count",
            organisation_id=product.organisation_id,
        )
        audit_record(
            actor=actor,
            action="stock.count",
            target=stock,
            data={"counted": counted, "delta": delta, "reason": reason},
        )
        if delta < 0:
            _maybe_alert_low_stock(
                stock_id=stock.pk, on_hand=counted, reserved=stock.reserved, product=product
            )
    stock.refresh_from_db()
    return stock


@transaction.atomic
def stock_adjust(
    *, product: Product, branch: Branch, delta: int, actor: User | None, reason: str
) -> Stock:
    """Write stock up or off (damage, theft, found) by a signed number of units."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise ServiceError("Give a non-zero whole number.", code="invalid_delta", field="delta")
    if not reason.strip():
        raise ServiceError("Say why stock is adjusted.", code="required", field="reason")
    _check_branch_allowed(branch)
    stock = _stock_row(product=product, branch=branch)
    if delta > 0:
        rows = _execute(
            f"UPDATE {Stock._meta.db_table} SET on_hand = on_hand + %s "  # noqa: S608
            "WHERE id = %s RETURNING on_hand, reserved",
            [delta, stock.pk],
        )
    else:
        rows = _execute(
            f"UPDATE {Stock._meta.db_table} SET on_hand = on_hand + %s "  # noqa: S608
            "WHERE id = %s AND on_hand - reserved >= %s RETURNING on_hand, reserved",
            [delta, stock.pk, -delta],
        )
        if not rows:
            raise ServiceError(
                "Not that many free units to write off.", code="insufficient_stock", field="delta"
            )
    _movement(
        stock_id=stock.pk,
        product_id=product.pk,
        branch_id=branch.pk,
        kind=StockMovement.Kind.ADJUSTED,
        on_hand_delta=delta,
        actor=actor,
        reason=reason,
        organisation_id=product.organisation_id,
    )
    audit_record(
        actor=actor, action="stock.adjust", target=stock, data={"delta": delta, "reason": reason}
    )
    if delta < 0:
        _maybe_alert_low_stock(
            stock_id=stock.pk, on_hand=rows[0][0], reserved=rows[0][1], product=product
        )
    stock.refresh_from_db()
    return stock


@transaction.atomic
def stock_transfer(
    *,
    product: Product,
    from_branch: Branch,
    to_branch: Branch,
    quantity: int,
    actor: User | None,
    reason: str = "",
) -> tuple[Stock, Stock]:
    quantity = _positive_quantity(quantity)
    if from_branch.pk == to_branch.pk:
        raise ServiceError("Choose two different branches.", code="same_branch", field="to_branch")
    _check_branch_allowed(from_branch)
    source = _stock_row(product=product, branch=from_branch)
    target = Stock.objects.unscoped().get_or_create(
        product=product, branch=to_branch, defaults={"organisation_id": product.organisation_id}
    )[0]
    if target.organisation_id != product.organisation_id:
        raise NotAllowed("Unknown branch.", code="branch_not_allowed")
    # Stable lock order: both stock rows by pk.
    locked = {
        s.pk: s
        for s in Stock.objects.unscoped()
        .select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    if locked[source.pk].available < quantity:
        raise ServiceError(
            f"Only {locked[source.pk].available} free units at {from_branch.name}.",
            code="insufficient_stock",
            field="quantity",
        )
    Stock.objects.unscoped().filter(pk=source.pk).update(on_hand=F("on_hand") - quantity)
    Stock.objects.unscoped().filter(pk=target.pk).update(
        on_hand=F("on_hand") + quantity, low_stock_alerted_at=None
    )
    why = reason or f"transfer {from_branch.name} → {to_branch.name}"
    for stock, kind, delta in (
        (source, StockMovement.Kind.TRANSFER_OUT, -quantity),
        (target, StockMovement.Kind.TRANSFER_IN, quantity),
    ):
        _movement(
            stock_id=stock.pk,
            product_id=product.pk,
            branch_id=stock.branch_id,
            kind=kind,
            on_hand_delta=delta,
            actor=actor,
            reason=why,
            organisation_id=product.organisation_id,
        )
    audit_record(
        actor=actor,
        action="stock.transfer",
        target=product,
        data={"from": from_branch.pk, "to": to_branch.pk, "quantity": quantity},
    )
    source.refresh_from_db()
    target.refresh_from_db()
    _maybe_alert_low_stock(
        stock_id=source.pk, on_hand=source.on_hand, reserved=source.reserved, product=product
    )
    return source, target


# --- flash sales ------------------------------------------------------------------------


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
    if sale.is_cancelled or now < sale.starts_at:
        raise ServiceError("This sale is not open yet.", code="sale_not_open")
    if now >= sale.ends_at:
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
    if sale.is_cancelled or timezone.now() >= sale.ends_at:
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
_PURCHASE_SQL = f"""
WITH buyer AS (
    SELECT id, email, user_id FROM {Member._meta.db_table}
    WHERE organisation_id = %(org)s AND {{buyer_filter}} = %(buyer)s AND status = 'active'
), open_sale AS (
    SELECT 1 FROM {FlashSale._meta.db_table} s, {Stock._meta.db_table} st
    WHERE s.id = %(sale)s AND s.remaining >= %(qty)s AND NOT s.is_cancelled
      AND s.starts_at <= %(now)s AND s.ends_at > %(now)s
      AND st.id = %(stock)s AND st.on_hand - st.reserved >= %(qty)s
), allowance AS (
    INSERT INTO {FlashSaleAllowance._meta.db_table} AS a
        (organisation_id, sale_id, member_id, quantity, "limit")
    SELECT %(org)s, %(sale)s, buyer.id, %(qty)s, %(limit)s
    FROM buyer, (SELECT set_config('synchronous_commit', %(async_commit)s, true)) AS config
    WHERE EXISTS (SELECT 1 FROM open_sale)
    ON CONFLICT (sale_id, member_id) DO UPDATE SET quantity = a.quantity + EXCLUDED.quantity
        WHERE a.quantity + EXCLUDED.quantity <= a."limit"
    RETURNING 1
), new_order AS (
    INSERT INTO {Order._meta.db_table}
        (organisation_id, number, channel, status, payment, payment_provider, branch_id,
         member_id, customer_name, customer_email, flash_sale_id, subtotal, tax_total, total,
         refunded_total, currency, expires_at, invoice_id, created_by_id, created_at, paid_at,
         collected_at)
    SELECT %(org)s, %(number)s, 'flash_sale', 'held', 'pending', '', %(branch)s,
         buyer.id, '', buyer.email, %(sale)s, %(subtotal)s, %(tax)s, %(total)s,
         0, %(currency)s, %(expires)s, NULL, buyer.user_id, %(now)s, NULL, NULL
    FROM buyer
    WHERE EXISTS (SELECT 1 FROM allowance)
    RETURNING id, created_by_id
), line AS (
    INSERT INTO {OrderLine._meta.db_table}
        (organisation_id, order_id, product_id, description, quantity, unit_price, tax_rate,
         subtotal, tax_amount, line_total, returned_quantity)
    SELECT %(org)s, id, %(product)s, %(description)s, %(qty)s, %(price)s, %(rate)s,
         %(subtotal)s, %(tax)s, %(total)s, 0
    FROM new_order
), ledger AS (
    INSERT INTO {StockMovement._meta.db_table}
        (organisation_id, stock_id, product_id, branch_id, kind, on_hand_delta, reserved_delta,
         order_id, actor_id, reason, created_at)
    SELECT %(org)s, %(stock)s, %(product)s, %(branch)s, 'reserved', 0, %(qty)s,
         id, created_by_id, %(reason)s, %(now)s
    FROM new_order
), held AS (
    UPDATE {Stock._meta.db_table} SET reserved = reserved + %(qty)s
    WHERE id = %(stock)s AND on_hand - reserved >= %(qty)s
      AND EXISTS (SELECT 1 FROM new_order)
    RETURNING id
), taken AS (
    UPDATE {FlashSale._meta.db_table} SET remaining = remaining - %(qty)s
    WHERE id = %(sale)s AND remaining >= %(qty)s AND NOT is_cancelled
      AND starts_at <= %(now)s AND ends_at > %(now)s
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


# --- holds: expiry and payment --------------------------------------------------------


def _lock_for_order(order: Order) -> tuple[list[OrderLine], dict[int, int]]:
    """Lock what releasing or selling the order will change, in the one lock order:
    the member's flash-sale allowance → stock rows (by pk) → the flash sale.
    The order row itself is then decided by a conditional update."""
    lines = list(OrderLine.objects.filter(order_id=order.pk).select_related("product"))
    if order.flash_sale_id and order.member_id:
        list(
            FlashSaleAllowance.objects.filter(
                sale_id=order.flash_sale_id, member_id=order.member_id
            )
            .select_for_update()
            .values("pk")
        )
    stock_ids = list(
        Stock.objects.filter(
            branch_id=order.branch_id, product_id__in=[line.product_id for line in lines]
        )
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "product_id")
    )
    stock_by_product = {product_id: pk for pk, product_id in stock_ids}
    if order.flash_sale_id:
        list(FlashSale.objects.filter(pk=order.flash_sale_id).select_for_update().values("pk"))
    return lines, stock_by_product


def _release_holds(*, order: Order, lines, stock_by_product, kind_reason: str, actor=None):
    for line in lines:
        if not line.product.tracks_stock:
            continue
        stock_id = stock_by_product[line.product_id]
        Stock.objects.filter(pk=stock_id).update(reserved=F("reserved") - line.quantity)
        _movement(
            stock_id=stock_id,
            product_id=line.product_id,
            branch_id=order.branch_id,
            kind=StockMovement.Kind.RELEASED,
            reserved_delta=-line.quantity,
            order=order,
            actor=actor,
            reason=kind_reason,
            organisation_id=order.organisation_id,
        )
    if order.flash_sale_id:
        units = sum(line.quantity for line in lines)
        FlashSale.objects.filter(pk=order.flash_sale_id).update(remaining=F("remaining") + units)
        FlashSaleAllowance.objects.filter(
            sale_id=order.flash_sale_id, member_id=order.member_id
        ).update(quantity=F("quantity") - units)


@transaction.atomic
def order_expire(*, order: Order, now=None) -> bool:
    """Return a held order's stock if its hold has run out. True if this call expired it."""
    now = now or timezone.now()
    lines, stock_by_product = _lock_for_order(order)
    won = Order.objects.filter(pk=order.pk, status=Order.Status.HELD, expires_at__lte=now).update(
        status=Order.Status.EXPIRED
    )
    if not won:
        return False
    _release_holds(
        order=order, lines=lines, stock_by_product=stock_by_product, kind_reason="hold expired"
    )
    _void_unpaid_invoice(order)
    return True


def _void_unpaid_invoice(order: Order) -> None:
    """An order that will not be sold takes its unpaid invoice with it (no dunning for
    it). Left alone when money is on it or a charge is in flight: if that payment
    lands, the paid handler sells from free stock or refunds."""
    if order.invoice_id is None:
        return
    from billing.models import Invoice, Payment
    from billing.services import invoice_void

    invoice = Invoice.objects.filter(pk=order.invoice_id).first()
    if (
        invoice is None
        or invoice.status != Invoice.Status.OPEN
        or invoice.amount_paid > 0
        or invoice.payments.filter(status=Payment.Status.PENDING).exists()
    ):
        return
    invoice_void(invoice=invoice, reason=f"order {order.number} not paid in time")


def orders_expire_due(*, now=None, flash_sale=None, limit=500) -> int:
    """Expire held orders past their hold (the periodic job, and the read-time path).

    With ``flash_sale`` only that sale's holds are swept (a buyer found it sold out).
    """
    now = now or timezone.now()
    due = Order.objects.filter(status=Order.Status.HELD, expires_at__lte=now)
    if flash_sale is not None:
        due = due.filter(flash_sale=flash_sale)
    due = list(due.order_by("expires_at", "pk")[:limit])
    expired = 0
    for order in due:
        expired += order_expire(order=order, now=now)
    return expired


@transaction.atomic
def order_cancel(*, order: Order, actor: User | None = None) -> Order:
    """Give up a held order (the member changed their mind): stock goes back now."""
    lines, stock_by_product = _lock_for_order(order)
    won = Order.objects.filter(pk=order.pk, status=Order.Status.HELD).update(
        status=Order.Status.CANCELLED
    )
    if not won:
        raise Conflict("Only an order awaiting payment can be cancelled.", code="not_held")
    _release_holds(
        order=order,
        lines=lines,
        stock_by_product=stock_by_product,
        kind_reason="order cancelled",
        actor=actor,
    )
    _void_unpaid_invoice(order)
    order.refresh_from_db()
    return order


@dataclass(frozen=True)
class PaymentOutcome:
    order: Order
    sold: bool  # False: the hold was gone and could not be taken again: refund due


@transaction.atomic
def order_mark_paid(*, order: Order, provider: str = "manual", now=None) -> PaymentOutcome:
    """Money for a held order arrived: the hold becomes a sale.

    If the hold has already run out (expired by the job, or only by the clock),
    payment and expiry have one winner: the order is taken again from free stock
    (and the sale's counter) if it is still there; otherwise it is marked
    ``refund_due`` and the member told. Idempotent for a repeat of the same payment.
    """
    now = now or timezone.now()
    lines, stock_by_product = _lock_for_order(order)
    won = Order.objects.filter(pk=order.pk, status=Order.Status.HELD, expires_at__gt=now).update(
        status=Order.Status.PAID,
        payment=Order.Payment.ONLINE,
        payment_provider=provider,
        paid_at=now,
    )
    if won:
        for line in lines:
            if not line.product.tracks_stock:
                continue
            stock_id = stock_by_product[line.product_id]
            rows = _execute(
                f"UPDATE {Stock._meta.db_table} SET on_hand = on_hand - %s, "  # noqa: S608
                "reserved = reserved - %s WHERE id = %s RETURNING on_hand, reserved",
                [line.quantity, line.quantity, stock_id],
            )
            _movement(
                stock_id=stock_id,
                product_id=line.product_id,
                branch_id=order.branch_id,
                kind=StockMovement.Kind.SOLD,
                on_hand_delta=-line.quantity,
                reserved_delta=-line.quantity,
                order=order,
                reason="paid hold",
                organisation_id=order.organisation_id,
            )
            _maybe_alert_low_stock(
                stock_id=stock_id, on_hand=rows[0][0], reserved=rows[0][1], product=line.product
            )
        order.refresh_from_db()
        _day_passes_grant(order=order, lines=lines, member=order.member, actor=None, now=now)
        return PaymentOutcome(order=order, sold=True)

    order.refresh_from_db()
    if order.status in (Order.Status.PAID, Order.Status.COLLECTED, Order.Status.REFUND_DUE):
        return PaymentOutcome(order=order, sold=order.status != Order.Status.REFUND_DUE)
    if order.status == Order.Status.HELD:
        # Past its hold but not yet swept: expire it here, in this same transaction.
        Order.objects.filter(pk=order.pk).update(status=Order.Status.EXPIRED)
        _release_holds(
            order=order, lines=lines, stock_by_product=stock_by_product, kind_reason="hold expired"
        )
    return _sell_again_or_refund(order=order, lines=lines, provider=provider, now=now)


def _sell_again_or_refund(*, order: Order, lines, provider: str, now) -> PaymentOutcome:
    """Late payment for an expired or cancelled order: sell from free stock if any."""
    try:
        with transaction.atomic():
            units = 0
            for line in sorted(lines, key=lambda item: item.product_id):
                if not line.product.tracks_stock:
                    continue
                stock_id, _on_hand, _reserved = _stock_take(
                    product_id=line.product_id, branch_id=order.branch_id, quantity=line.quantity
                )
                _movement(
                    stock_id=stock_id,
                    product_id=line.product_id,
                    branch_id=order.branch_id,
                    kind=StockMovement.Kind.SOLD,
                    on_hand_delta=-line.quantity,
                    order=order,
                    reason="paid after hold expired",
                    organisation_id=order.organisation_id,
                )
                units += line.quantity
            if order.flash_sale_id:
                # Sold after the window is still the sale's unit: it was bought in time.
                rows = _execute(
                    f"UPDATE {FlashSale._meta.db_table} SET remaining = remaining - %s "  # noqa: S608
                    "WHERE id = %s AND remaining >= %s RETURNING remaining",
                    [units, order.flash_sale_id, units],
                )
                if not rows:
                    raise _Lost("sold_out")
                _allowance_take(
                    organisation_id=order.organisation_id,
                    sale_id=order.flash_sale_id,
                    member_id=order.member_id,
                    quantity=units,
                    limit=order.flash_sale.per_member_limit,
                )
            Order.objects.filter(pk=order.pk).update(
                status=Order.Status.PAID,
                payment=Order.Payment.ONLINE,
                payment_provider=provider,
                paid_at=now,
            )
            _day_passes_grant(order=order, lines=lines, member=order.member, actor=None, now=now)
    except _Lost:
        Order.objects.filter(pk=order.pk).update(
            status=Order.Status.REFUND_DUE, payment_provider=provider, paid_at=now
        )
        order.refresh_from_db()
        if order.member_id and order.member.email:
            email_enqueue(
                to=order.member.email,
                template="inventory/refund_due",
                context={"order_number": order.number, "member_name": order.member.first_name},
                organisation_id=order.organisation_id,
                dedupe_key=f"inventory.refund_due:{order.pk}",
            )
        return PaymentOutcome(order=order, sold=False)
    order.refresh_from_db()
    return PaymentOutcome(order=order, sold=True)


# --- orders: shared building blocks ------------------------------------------------------

ORDER_SOURCE = "inventory.order"


@dataclass(frozen=True)
class ItemRequest:
    product: Product
    quantity: int


def _validated_items(items, *, organisation_id: int) -> list[ItemRequest]:
    if not items:
        raise ServiceError("Add at least one product.", code="no_items", field="items")
    merged: dict[int, ItemRequest] = {}
    for item in items:
        product, quantity = (item.product, item.quantity) if isinstance(item, ItemRequest) else item
        if product is None or product.organisation_id != organisation_id:
            raise ServiceError("Unknown product.", code="unknown_product", field="product")
        _active_product(product)
        quantity = _positive_quantity(quantity)
        if product.pk in merged:
            quantity = _positive_quantity(merged[product.pk].quantity + quantity)
        merged[product.pk] = ItemRequest(product=product, quantity=quantity)
    return sorted(merged.values(), key=lambda item: item.product.pk)


def _stock_ids_in_lock_order(*, branch: Branch, items: list[ItemRequest]) -> list[ItemRequest]:
    """Order the items by their stock row's pk: the one lock order for stock rows."""
    stock_ids = dict(
        Stock.objects.filter(
            branch=branch, product_id__in=[item.product.pk for item in items]
        ).values_list("product_id", "pk")
    )
    return sorted(items, key=lambda item: (stock_ids.get(item.product.pk, 0), item.product.pk))


def _create_order_with_lines(
    *, branch: Branch, items: list[ItemRequest], **order_fields
) -> tuple[Order, list[OrderLine]]:
    lines, subtotal, tax_total = [], Decimal("0.00"), Decimal("0.00")
    for item in items:
        rate = _tax_rate(item.product, branch)
        priced = _price_line(unit_price=item.product.price, quantity=item.quantity, tax_rate=rate)
        subtotal += priced.subtotal
        tax_total += priced.tax_amount
        lines.append(
            OrderLine(
                organisation_id=branch.organisation_id,
                product=item.product,
                description=item.product.name,
                quantity=item.quantity,
                unit_price=item.product.price,
                tax_rate=rate,
                subtotal=priced.subtotal,
                tax_amount=priced.tax_amount,
                line_total=priced.total,
            )
        )
    order = Order.objects.create(
        organisation_id=branch.organisation_id,
        branch=branch,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        currency=branch.organisation.currency,
        **order_fields,
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    return order, lines


def _invoice_specs(order: Order, lines: list[OrderLine]):
    from billing.services import InvoiceLineSpec

    return [
        InvoiceLineSpec(
            description=f"{line.description} ({order.number})",
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=order.currency,
            source_type=ORDER_SOURCE,
            source_id=str(order.pk),
            tax_rate=line.tax_rate,
        )
        for line in lines
    ]


def _order_invoice(order: Order, lines: list[OrderLine], *, actor=None):
    """Billing's invoice for the order (issued once: the billing key makes it idempotent)."""
    from billing.services import invoice_issue

    invoice = invoice_issue(
        payer=order.member,
        branch=order.branch,
        lines=_invoice_specs(order, lines),
        actor=actor,
        billing_key=f"{ORDER_SOURCE}:{order.pk}",
        notify=False,
    )
    if order.invoice_id != invoice.pk:
        Order.objects.filter(pk=order.pk).update(invoice_id=invoice.pk)
        order.invoice_id = invoice.pk
    return invoice


# --- point of sale ------------------------------------------------------------------------


@transaction.atomic
def pos_sale_create(
    *,
    branch: Branch,
    items,
    actor: User,
    member: Member | None = None,
    payment: str = Order.Payment.PAID_NOW,
    provider: str = "manual",
    reference: str = "",
    customer_name: str = "",
    customer_email: str = "",
) -> Order:
    """Sell over the counter: products and day passes, to a member or a walk-in.

    ``paid_now``: for a member, billing issues an invoice and records the payment
    (``provider``: manual — cash or card terminal — or another configured provider);
    for a walk-in, who has no account to invoice, the order itself is the paid receipt.
    ``account``: the total goes on the member's account, billed on their next invoice.
    Stock leaves the shelf at once (conditional updates: never below zero).
    """
    _active_branch(branch)
    _check_branch_allowed(branch)
    if payment not in (Order.Payment.PAID_NOW, Order.Payment.ACCOUNT):
        raise ServiceError("Choose how the customer pays.", code="invalid_payment", field="payment")
    if member is not None:
        if member.organisation_id != branch.organisation_id:
            raise ServiceError("Unknown member.", code="unknown_member", field="member")
        if member.status != Member.Status.ACTIVE:
            raise ServiceError("This member is archived.", code="member_archived", field="member")
    if payment == Order.Payment.ACCOUNT and member is None:
        raise ServiceError(
            "Only a member can put a purchase on their account.",
            code="account_needs_member",
            field="payment",
        )
    if payment == Order.Payment.PAID_NOW:
        from billing.providers import ProviderError, get_provider

        try:
            get_provider(branch.organisation, provider)
        except ProviderError:
            raise ServiceError(
                "Unknown payment method.", code="invalid_provider", field="provider"
            ) from None
    items = _stock_ids_in_lock_order(
        branch=branch, items=_validated_items(items, organisation_id=branch.organisation_id)
    )
    if member is None and any(item.product.kind == Product.Kind.DAY_PASS for item in items):
        # A day pass is a ticket for a person: the walk-in becomes a member record the
        # door can recognise (checked in at the desk, or given a card there).
        member = _day_pass_holder(
            branch=branch, name=customer_name, email=customer_email, actor=actor
        )
    now = timezone.now()
    order, lines = _create_order_with_lines(
        branch=branch,
        items=items,
        number=_new_order_number("R"),
        channel=Order.Channel.POS,
        status=Order.Status.COLLECTED,
        payment=payment,
        payment_provider=provider if payment == Order.Payment.PAID_NOW else "",
        member=member,
        customer_name="" if member else customer_name.strip()[:150],
        customer_email=(member.email if member else customer_email.strip()),
        created_by=actor,
        paid_at=now,
        collected_at=now,
    )
    for item in items:
        if not item.product.tracks_stock:
            continue
        try:
            stock_id, on_hand, reserved = _stock_take(
                product_id=item.product.pk, branch_id=branch.pk, quantity=item.quantity
            )
        except _Lost:
            raise Conflict(
                f"Not enough {item.product.name} in stock at {branch.name}.",
                code="out_of_stock",
                field="items",
            ) from None
        _movement(
            stock_id=stock_id,
            product_id=item.product.pk,
            branch_id=branch.pk,
            kind=StockMovement.Kind.SOLD,
            on_hand_delta=-item.quantity,
            order=order,
            actor=actor,
            reason="front desk sale",
            organisation_id=branch.organisation_id,
        )
        _maybe_alert_low_stock(
            stock_id=stock_id, on_hand=on_hand, reserved=reserved, product=item.product
        )
    if member is not None and payment == Order.Payment.PAID_NOW:
        from billing.services import payment_record

        invoice = _order_invoice(order, lines, actor=actor)
        payment_record(
            invoice=invoice,
            amount=invoice.total,
            provider=provider,
            reference=reference,
            actor=actor,
        )
    elif payment == Order.Payment.ACCOUNT:
        from billing.services import member_charge_add

        for line in lines:
            # Billed on the next invoice at the line's own rate (the product's or the
            # branch's), so the invoice equals this receipt.
            member_charge_add(
                member=member,
                branch=branch,
                description=f"{line.quantity} × {line.description} ({order.number})",
                amount=line.subtotal,
                tax_rate=line.tax_rate,
                source_type="inventory.order_line",
                source_id=str(line.pk),
                actor=actor,
            )
    _day_passes_grant(order=order, lines=lines, member=member, actor=actor, now=now)
    audit_record(
        actor=actor,
        action="pos.sale",
        target=order,
        data={"total": str(order.total), "payment": payment},
    )
    if order.customer_email:
        _email_receipt(order)
    order.refresh_from_db()
    return order


def _day_pass_holder(*, branch: Branch, name: str, email: str, actor: User) -> Member:
    from accounts.services import member_register

    first, _, last = name.strip().partition(" ")
    if not first:
        raise ServiceError(
            "Give the name of the person the day pass is for.",
            code="day_pass_needs_name",
            field="customer_name",
        )
    member = member_register(
        user=None,
        first_name=first[:150],
        last_name=(last.strip() or "-")[:150],
        home_branch=branch,
        email=email,
    )
    audit_record(actor=actor, action="pos.day_pass_member", target=member)
    return member


def _day_pass_plan(*, product: Product, branch: Branch):
    """The ticket plan this day pass grants at this branch, created on its first sale."""
    from memberships.services import day_ticket_plan_create

    link = DayPassPlan.objects.filter(product=product, branch=branch).select_related("plan")
    found = link.first()
    if found is not None:
        return found.plan
    try:
        # Two first sales at once: the unique (product, branch) lets one create it.
        with transaction.atomic():
            plan = day_ticket_plan_create(
                name=f"{product.name} · {branch.name}",
                price=product.price,
                currency=product.currency,
                branch=branch,
            )
            DayPassPlan.objects.create(
                organisation_id=branch.organisation_id, product=product, branch=branch, plan=plan
            )
            return plan
    except IntegrityError:
        return link.get().plan


def _day_passes_grant(*, order: Order, lines, member: Member, actor: User | None, now) -> None:
    """Each day pass sold (at the till, or paid for in the shop) becomes a ticket for
    that day at that branch: one entry per unit, on the branch's local date of the
    sale or payment (the door decides on it like any ticket)."""
    from memberships.services import ticket_grant

    branch = order.branch
    on = timezone.localtime(now, ZoneInfo(branch.timezone)).date()
    for line in lines:
        if line.product.kind != Product.Kind.DAY_PASS:
            continue
        ticket = ticket_grant(
            member=member,
            plan=_day_pass_plan(product=line.product, branch=branch),
            on=on,
            entries=line.quantity,
            branch=branch,
            reason=f"Day pass, receipt {order.number}",
            actor=actor,
        )
        OrderLine.objects.filter(pk=line.pk).update(ticket_id=ticket.pk)
        line.ticket_id = ticket.pk


def _email_receipt(order: Order) -> None:
    lines = list(order.lines.all())
    email_enqueue(
        to=order.customer_email,
        template="inventory/receipt",
        context={
            "number": order.number,
            "branch_name": order.branch.name,
            "date": timezone.localtime(order.paid_at or order.created_at).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "lines": [
                {
                    "quantity": line.quantity,
                    "description": line.description,
                    "total": str(line.line_total),
                }
                for line in lines
            ],
            "subtotal": str(order.subtotal),
            "tax_total": str(order.tax_total),
            "total": str(order.total),
            "currency": order.currency,
            "payment": str(order.get_payment_display()),
        },
        organisation_id=order.organisation_id,
        dedupe_key=f"inventory.receipt:{order.pk}",
    )


# --- returns ------------------------------------------------------------------------------


@transaction.atomic
def order_line_return(
    *,
    line: OrderLine,
    quantity: int,
    actor: User,
    reason: str,
    restock: bool = True,
) -> OrderLine:
    """Take goods back: stock returns to the shelf (unless damaged) and money goes back
    the way it came (refund of the invoice's payment, a credit note on an open
    invoice, a smaller account charge, or cash for a walk-in's receipt)."""
    quantity = _positive_quantity(quantity)
    if not reason.strip():
        raise ServiceError("Say why the goods come back.", code="required", field="reason")
    order = Order.objects.select_related("branch", "member").get(pk=line.order_id)
    _check_branch_allowed(order.branch)
    if order.status not in (Order.Status.PAID, Order.Status.COLLECTED):
        raise Conflict("Only a completed sale can be returned.", code="not_sold")
    won = OrderLine.objects.filter(
        pk=line.pk, returned_quantity__lte=F("quantity") - quantity
    ).update(returned_quantity=F("returned_quantity") + quantity)
    if not won:
        raise ServiceError(
            "More than was bought (less anything already returned).",
            code="over_return",
            field="quantity",
        )
    line.refresh_from_db()
    if restock and line.product.tracks_stock:
        stock = _stock_row(product=line.product, branch=order.branch)
        Stock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + quantity)
        _movement(
            stock_id=stock.pk,
            product_id=line.product_id,
            branch_id=order.branch_id,
            kind=StockMovement.Kind.RETURNED,
            on_hand_delta=quantity,
            order=order,
            actor=actor,
            reason=reason,
            organisation_id=order.organisation_id,
        )
    if line.ticket_id is not None:
        # A day pass handed back: its unused entries no longer open the door.
        from memberships.services import ticket_entries_withdraw

        ticket_entries_withdraw(
            membership_id=line.ticket_id,
            entries=quantity,
            reason=f"Day pass returned, receipt {order.number}",
            actor=actor,
        )
    refund = quantize(line.line_total * quantity / line.quantity)
    _refund_order_amount(order=order, line=line, amount=refund, actor=actor, reason=reason)
    Order.objects.filter(pk=order.pk).update(refunded_total=F("refunded_total") + refund)
    audit_record(
        actor=actor,
        action="order.return",
        target=order,
        data={"line": line.pk, "quantity": quantity, "restock": restock, "refund": str(refund)},
    )
    return line


def _refund_order_amount(*, order: Order, line: OrderLine, amount: Decimal, actor, reason):
    if amount <= 0:
        return
    if order.payment == Order.Payment.ACCOUNT:
        _reduce_account_charge(order=order, line=line, amount=amount, actor=actor, reason=reason)
        return
    if order.invoice_id is None:
        return  # a walk-in's receipt: cash back over the counter, recorded on the order
    from billing.models import Invoice, Payment
    from billing.services import credit_note_issue, refund_create

    invoice = Invoice.objects.get(pk=order.invoice_id)
    if invoice.status == Invoice.Status.OPEN:
        credit_note_issue(
            invoice=invoice, amount=min(amount, invoice.amount_due), reason=reason, actor=actor
        )
        return
    left = amount
    for payment in Payment.objects.filter(
        invoice_id=invoice.pk, status=Payment.Status.SUCCEEDED
    ).order_by("pk"):
        part = min(left, payment.refundable)
        if part > 0:
            refund_create(payment=payment, amount=part, reason=reason, actor=actor)
            left -= part
        if left <= 0:
            break


def _reduce_account_charge(*, order, line, amount, actor, reason):
    from billing.models import PendingCharge
    from billing.services import credit_note_issue, member_charge_add, member_charge_cancel

    charge = (
        PendingCharge.objects.filter(source_type="inventory.order_line", source_id=str(line.pk))
        .exclude(status=PendingCharge.Status.CANCELLED)
        .select_related("invoice_line__invoice")
        .first()
    )
    if charge is None:
        return
    net = quantize(line.subtotal * (line.quantity - line.returned_quantity) / line.quantity)
    if charge.status == PendingCharge.Status.PENDING:
        # Not billed yet: the charge is replaced by one for what was kept.
        member_charge_cancel(charge=charge, actor=actor)
        if net > 0:
            member_charge_add(
                member=order.member,
                branch=order.branch,
                description=f"{line.quantity - line.returned_quantity} × {line.description} "
                f"({order.number})",
                amount=net,
                tax_rate=line.tax_rate,
                source_type="inventory.order_line",
                source_id=str(line.pk),
                actor=actor,
            )
        return
    invoice = charge.invoice_line.invoice if charge.invoice_line_id else None
    if invoice is not None and invoice.status == invoice.Status.OPEN:
        credit_note_issue(
            invoice=invoice, amount=min(amount, invoice.amount_due), reason=reason, actor=actor
        )
    elif invoice is not None:
        from billing.models import Payment
        from billing.services import refund_create

        left = amount
        for payment in Payment.objects.filter(
            invoice_id=invoice.pk, status=Payment.Status.SUCCEEDED
        ).order_by("pk"):
            part = min(left, payment.refundable)
            if part > 0:
                refund_create(payment=payment, amount=part, reason=reason, actor=actor)
                left -= part


# --- member shop ----------------------------------------------------------------------


@transaction.atomic
def cart_set(*, member: Member, product: Product, quantity: int) -> CartItem | None:
    """Put a quantity of a product in the member's cart (0 removes it)."""
    if product.organisation_id != member.organisation_id:
        raise ServiceError("Unknown product.", code="unknown_product", field="product")
    if isinstance(quantity, int) and quantity == 0:
        CartItem.objects.filter(member=member, product=product).delete()
        return None
    quantity = _positive_quantity(quantity)
    _active_product(product)
    item, _ = CartItem.objects.update_or_create(
        member=member,
        product=product,
        defaults={"quantity": quantity, "organisation_id": member.organisation_id},
    )
    return item


@transaction.atomic
def cart_add(*, member: Member, product: Product, quantity: int = 1) -> CartItem:
    quantity = _positive_quantity(quantity)
    existing = CartItem.objects.filter(member=member, product=product).first()
    return cart_set(
        member=member, product=product, quantity=quantity + (existing.quantity if existing else 0)
    )


@transaction.atomic
def shop_order_place(*, member: Member, branch: Branch, items=None, now=None) -> Order:
    """Order for pickup: the cart's products are held at the branch until paid.

    The hold lasts ``SHOP_HOLD_MINUTES``; unpaid, it expires and the stock returns.
    """
    now = now or timezone.now()
    if member.status != Member.Status.ACTIVE:
        raise NotAllowed("Only active members can order.", code="not_member")
    if branch.organisation_id != member.organisation_id:
        raise ServiceError("Unknown branch.", code="unknown_branch", field="branch")
    _active_branch(branch)
    from_cart = items is None
    if from_cart:
        items = [
            ItemRequest(product=item.product, quantity=item.quantity)
            for item in CartItem.objects.filter(member=member).select_related("product")
        ]
        if not items:
            raise ServiceError("Your cart is empty.", code="empty_cart", field="items")
    items = _stock_ids_in_lock_order(
        branch=branch, items=_validated_items(items, organisation_id=member.organisation_id)
    )
    order, _lines = _create_order_with_lines(
        branch=branch,
        items=items,
        number=_new_order_number("W"),
        channel=Order.Channel.SHOP,
        status=Order.Status.HELD,
        member=member,
        customer_email=member.email,
        expires_at=now + timedelta(minutes=SHOP_HOLD_MINUTES),
        created_by=member.user,
    )
    for item in items:
        if not item.product.tracks_stock:
            continue
        try:
            stock_id, _on_hand, _reserved = _stock_hold(
                product_id=item.product.pk, branch_id=branch.pk, quantity=item.quantity
            )
        except _Lost:
            raise Conflict(
                f"Not enough {item.product.name} at {branch.name} right now.",
                code="out_of_stock",
                field="items",
            ) from None
        _movement(
            stock_id=stock_id,
            product_id=item.product.pk,
            branch_id=branch.pk,
            kind=StockMovement.Kind.RESERVED,
            reserved_delta=item.quantity,
            order=order,
            actor=member.user,
            reason="shop order hold",
            organisation_id=branch.organisation_id,
        )
    if from_cart:
        CartItem.objects.filter(member=member).delete()
    return order


def order_pay_online(*, order: Order, now=None) -> Order:
    """The member pays a held order (shop or flash sale) with their saved card.

    Outside any transaction: billing records the attempt, calls the provider with no
    lock held, and on success marks the invoice paid, which runs our paid handler
    (the hold becomes a sale) in billing's transaction.
    """
    from billing.services import invoice_collect

    now = now or timezone.now()
    invoice = _checkout_invoice(order=order, now=now)
    attempt = invoice_collect(invoice=invoice, now=now)
    order.refresh_from_db()
    if order.status in (Order.Status.PAID, Order.Status.COLLECTED):
        return order
    if attempt is not None and attempt.failure_code == "no_payment_method":
        raise ServiceError(
            "You have no saved card: add one in Billing, or pay at the desk when you collect.",
            code="no_payment_method",
        )
    message = (attempt.failure_message if attempt else "") or "The payment did not go through."
    raise ServiceError(message, code="payment_failed")


@transaction.atomic
def _checkout_invoice(*, order: Order, now):
    order = Order.objects.select_related("branch__organisation", "member").get(pk=order.pk)
    if order.status != Order.Status.HELD:
        raise Conflict("This order is not awaiting payment.", code="not_held")
    if order.expires_at <= now:
        raise Conflict(
            "Your hold has run out and the items went back on sale.", code="hold_expired"
        )
    if order.member_id is None:
        raise ServiceError("Only a member's order can be paid online.", code="no_member")
    return _order_invoice(order, list(order.lines.all()))


def order_pay_at_desk(
    *, order: Order, actor: User, provider: str = "manual", reference: str = "", now=None
) -> Order:
    """The front desk takes payment for a held order (shop or flash sale) at pickup."""
    from billing.services import payment_record

    now = now or timezone.now()
    _check_branch_allowed(order.branch)
    invoice = _checkout_invoice(order=order, now=now)
    payment_record(
        invoice=invoice,
        amount=invoice.amount_due,
        provider=provider,
        reference=reference,
        actor=actor,
    )
    order.refresh_from_db()
    return order


@transaction.atomic
def order_collect(*, order: Order, actor: User) -> Order:
    """The member picked up a paid order."""
    _check_branch_allowed(order.branch)
    won = Order.objects.filter(pk=order.pk, status=Order.Status.PAID).update(
        status=Order.Status.COLLECTED, collected_at=timezone.now()
    )
    if not won:
        raise Conflict("Only a paid order can be collected.", code="not_paid")
    order.refresh_from_db()
    audit_record(actor=actor, action="order.collect", target=order)
    return order


# --- billing hooks --------------------------------------------------------------------


def _lock_orders(source_ids: list[str]) -> None:
    """Billing's lock hook: our rows in our lock order (allowance → stock → sale →
    order), before billing locks the invoice."""
    order_ids = sorted({int(pk) for pk in source_ids})
    rows = list(
        Order.objects.filter(pk__in=order_ids).values_list(
            "branch_id", "flash_sale_id", "member_id", "lines__product_id"
        )
    )
    allowance = Q(pk__in=[])
    for _branch, sale, member, _product in rows:
        if sale and member:
            allowance |= Q(sale_id=sale, member_id=member)
    list(
        FlashSaleAllowance.objects.filter(allowance).order_by("pk").select_for_update().values("pk")
    )
    stock = Q(pk__in=[])
    for branch, _sale, _member, product in rows:
        if product:
            stock |= Q(branch_id=branch, product_id=product)
    list(Stock.objects.filter(stock).order_by("pk").select_for_update().values("pk"))
    sale_ids = sorted({sale for _branch, sale, _member, _product in rows if sale})
    list(FlashSale.objects.filter(pk__in=sale_ids).order_by("pk").select_for_update().values("pk"))
    list(Order.objects.filter(pk__in=order_ids).order_by("pk").select_for_update().values("pk"))


def _on_order_invoice_paid(*, invoice, line) -> None:
    """An invoice with one of our orders on it is paid: turn the hold into a sale."""
    order = (
        Order.objects.select_related("member", "flash_sale").filter(pk=int(line.source_id)).first()
    )
    if order is None or order.status in (Order.Status.PAID, Order.Status.COLLECTED):
        return  # a front-desk sale (already complete) or a second line of the same order
    if order.status == Order.Status.REFUND_DUE:
        return
    from billing.models import Payment

    last = invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-pk").first()
    outcome = order_mark_paid(order=order, provider=last.provider if last else "manual")
    if not outcome.sold:
        from billing.services import refund_create

        for payment in invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk"):
            if payment.refundable > 0:
                refund_create(
                    payment=payment,
                    amount=payment.refundable,
                    reason="Order hold expired and the items sold out",
                )


def _register_billing_hooks() -> None:
    from billing.services import invoice_paid_handler

    invoice_paid_handler(ORDER_SOURCE, lock=_lock_orders)(_on_order_invoice_paid)
