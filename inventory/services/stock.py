"""Stock at a branch: the ledger row every change writes, the claim an order makes on
the shelf, low-stock alerts, and the back-office changes (deliveries, counts,
adjustments, transfers)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Branch, Role, RoleAssignment, User
from accounts.services import audit_record
from accounts.tenancy import require_scope
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.outbox import email_enqueue
from inventory.models import Order, Product, Stock, StockMovement
from inventory.services.checks import (
    MAX_STOCK_QUANTITY,
    _check_branch_allowed,
    _positive_quantity,
)
from inventory.services.counters import _execute, _Lost, _stock_units_claim


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
    available = Stock(on_hand=on_hand, reserved=reserved).available
    if available > product.low_stock_threshold:
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
            "available": available,
            "on_hand": on_hand,
            "threshold": product.low_stock_threshold,
        },
        organisation_id=product.organisation_id,
        dedupe_key=f"inventory.low_stock:{stock_id}:{timezone.now():%Y%m%d%H%M%S%f}",
    )


# --- an order's claim on the shelf ------------------------------------------------------


def _order_stock_claim(*, order: Order, items, hold: bool, actor: User | None, reason: str):
    """Claim the stocked items of an order at its branch, in the items' order (stock
    rows by pk: the one lock order): held until paid (``hold``: the shop) or taken off
    the shelf at once (the till). Not enough of one is a 409, and the caller's
    transaction undoes the rest."""
    branch = order.branch
    for item in items:
        if not item.product.tracks_stock:
            continue
        try:
            stock_id, on_hand, reserved = _stock_units_claim(
                product_id=item.product.pk, branch_id=branch.pk, quantity=item.quantity, hold=hold
            )
        except _Lost:
            where = f"at {branch.name} right now" if hold else f"in stock at {branch.name}"
            raise Conflict(
                f"Not enough {item.product.name} {where}.", code="out_of_stock", field="items"
            ) from None
        _movement(
            stock_id=stock_id,
            product_id=item.product.pk,
            branch_id=branch.pk,
            kind=StockMovement.Kind.RESERVED if hold else StockMovement.Kind.SOLD,
            on_hand_delta=0 if hold else -item.quantity,
            reserved_delta=item.quantity if hold else 0,
            order=order,
            actor=actor,
            reason=reason,
            organisation_id=branch.organisation_id,
        )
        if not hold:
            _maybe_alert_low_stock(
                stock_id=stock_id, on_hand=on_hand, reserved=reserved, product=item.product
            )


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
            f"WHERE id = %s AND {Stock.available_sql()} >= %s RETURNING on_hand, reserved",
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
