"""Read-only queries for retail: catalogue, availability, flash-sale status, reports.

Availability is computed at read time from the counters *plus* units held by
orders whose hold has already run out: a hold that expired is free stock the
moment its time passes, whether or not the periodic job has swept it yet.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Branch, Member
from inventory.models import (
    CartItem,
    Category,
    FlashSale,
    FlashSaleAllowance,
    Order,
    OrderLine,
    Product,
    Stock,
    StockMovement,
)


def _expired_hold_units(*, now, **line_filters) -> Subquery:
    """Units on held orders whose hold has passed, matching the outer row."""
    return Coalesce(
        Subquery(
            OrderLine.objects.filter(
                order__status=Order.Status.HELD, order__expires_at__lte=now, **line_filters
            )
            .values("order__organisation")
            .annotate(units=Sum("quantity"))
            .values("units")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def stock_with_availability(*, now=None) -> QuerySet[Stock]:
    """Stock rows annotated with ``free``: on hand - held + holds already expired."""
    now = now or timezone.now()
    return Stock.objects.annotate(
        expired_held=_expired_hold_units(
            now=now, product_id=OuterRef("product_id"), order__branch_id=OuterRef("branch_id")
        )
    ).annotate(free=Stock.available_expression() + F("expired_held"))


def stock_free(*, product: Product, branch: Branch, now=None) -> int:
    row = stock_with_availability(now=now).filter(product=product, branch=branch).first()
    return row.free if row else 0


# --- catalogue -----------------------------------------------------------------------


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def product_catalogue(*, branch: Branch | None = None, category: Category | None = None):
    """Active products, with ``free`` units at ``branch`` (None for day passes)."""
    now = timezone.now()
    products = (
        Product.objects.filter(status=Product.Status.ACTIVE)
        .select_related("category")
        .order_by("category__position", "category__name", "name")
    )
    if category is not None:
        products = products.filter(category=category)
    if branch is not None:
        stock = stock_with_availability(now=now).filter(
            product_id=OuterRef("pk"), branch_id=branch.pk
        )
        products = products.annotate(free=Coalesce(Subquery(stock.values("free")[:1]), Value(0)))
    return products


def product_get(*, pk: int) -> Product | None:
    return Product.objects.filter(pk=pk, status=Product.Status.ACTIVE).first()


def stock_by_branch(*, product: Product) -> list[Stock]:
    return list(
        stock_with_availability()
        .filter(product=product)
        .select_related("branch")
        .order_by("branch__name")
    )


# --- flash sales ----------------------------------------------------------------------


@dataclass(frozen=True)
class FlashSaleState:
    sale: FlashSale
    status: str  # scheduled | open | sold_out | closed
    remaining: int
    opens_in_seconds: int
    closes_in_seconds: int

    @property
    def sold_out(self) -> bool:
        return self.status == "sold_out"


def flash_sale_list() -> QuerySet[FlashSale]:
    now = timezone.now()
    return (
        _with_live_remaining(
            FlashSale.objects.exclude(FlashSale.phase_q(FlashSale.CLOSED, now)), now=now
        )
        .select_related("product", "branch", "product__category")
        .order_by("starts_at")
    )


def _with_live_remaining(queryset, *, now):
    return queryset.annotate(
        live_remaining=F("remaining")
        + _expired_hold_units(now=now, order__flash_sale_id=OuterRef("pk"))
    )


def flash_sale_state(*, sale_id: int, now=None) -> FlashSaleState | None:
    """The sale's live state in one query: what the sale page polls."""
    now = now or timezone.now()
    sale = (
        _with_live_remaining(FlashSale.objects.filter(pk=sale_id), now=now)
        .select_related("product", "branch")
        .first()
    )
    if sale is None:
        return None
    remaining = sale.live_remaining
    status = sale.phase_at(now)
    if status == FlashSale.OPEN and remaining <= 0:
        status = "sold_out"
    return FlashSaleState(
        sale=sale,
        status=status,
        remaining=max(remaining, 0),
        opens_in_seconds=max(int((sale.starts_at - now).total_seconds()), 0),
        closes_in_seconds=max(int((sale.ends_at - now).total_seconds()), 0),
    )


# A flash sale's definition (product, price, window, limit) is read by every buyer and
# almost never changes, so each server process keeps it for a moment. Nothing that
# decides a purchase comes from it: the purchase statement re-checks the window,
# cancellation, stock and units left in the database.
SALE_CACHE_SECONDS = 2.0
_sale_cache: dict[tuple[int, int], tuple[float, FlashSale]] = {}


def flash_sale_for_purchase(*, pk: int) -> FlashSale | None:
    """The sale with its product, branch and (one-branch sales) its stock row id."""
    import time

    from accounts.tenancy import require_scope

    key = (require_scope().organisation_id, pk)
    cached = _sale_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    sale = (
        FlashSale.objects.select_related("product", "branch")
        .annotate(
            branch_stock_id=Subquery(
                Stock.objects.filter(
                    product_id=OuterRef("product_id"), branch_id=OuterRef("branch_id")
                )
                .order_by()
                .values("pk")[:1]
            )
        )
        .filter(pk=pk)
        .first()
    )
    if sale is not None:
        if len(_sale_cache) > 1000:
            _sale_cache.clear()
        cached_copy = copy.copy(sale)
        cached_copy.from_cache = True
        _sale_cache[key] = (time.monotonic() + SALE_CACHE_SECONDS, cached_copy)
    return sale


def member_for_purchase(*, user) -> Member | None:
    """The signed-in person's active member record, found through the unique
    (organisation, user) index. (``accounts.selectors.member_for_user`` orders by
    name, which can make PostgreSQL walk every member of the gym: a hot path cannot
    afford that.)"""
    if user.is_anonymous:
        return None
    found = list(Member.objects.filter(user=user, status=Member.Status.ACTIVE).order_by()[:1])
    return found[0] if found else None


def member_allowance_used(*, sale: FlashSale, member: Member) -> int:
    return (
        FlashSaleAllowance.objects.filter(sale=sale, member=member)
        .values_list("quantity", flat=True)
        .first()
        or 0
    )


# --- orders ---------------------------------------------------------------------------


def _order_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("branch", "member", "flash_sale").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product"))
    )


def member_orders(*, member: Member) -> QuerySet[Order]:
    return _order_queryset().filter(member=member)


def order_for_member(*, member: Member, pk: int) -> Order | None:
    return member_orders(member=member).filter(pk=pk).first()


def order_get(*, pk: int) -> Order | None:
    return _order_queryset().filter(pk=pk).first()


def orders_for_branch(*, branch: Branch) -> QuerySet[Order]:
    return _order_queryset().filter(branch=branch)


def cart_items(*, member: Member) -> list[CartItem]:
    return list(
        CartItem.objects.filter(member=member, product__status=Product.Status.ACTIVE)
        .select_related("product")
        .order_by("added_at", "pk")
    )


def member_matches(text: str):
    """Active members whose name, email or phone matches what the till typed, best
    first (an exact email before a name that starts with the text)."""
    text = text.strip()
    words = text.split()
    query = Member.objects.filter(status=Member.Status.ACTIVE)
    email = next((word for word in words if "@" in word), None)
    if email:
        # An email anywhere (a suggestion reads "Name · email") decides alone.
        return query.filter(email__iexact=email)
    if text.lstrip("+").replace(" ", "").isdigit():
        return query.filter(phone__contains=text.replace(" ", "").lstrip("0"))
    for word in words:
        query = query.filter(Q(first_name__istartswith=word) | Q(last_name__istartswith=word))
    return query.order_by("last_name", "first_name", "pk")


def cart_total(items: list[CartItem]) -> Decimal:
    """What the cart's lines come to before tax (tax depends on the pickup branch)."""
    return sum((item.line_total for item in items), Decimal("0.00"))


# --- ledger and reports ------------------------------------------------------------------


def stock_ledger_mismatches() -> list[Stock]:
    """Stock rows whose counters differ from the sum of their ledger: should be none."""
    sums = StockMovement.objects.filter(stock_id=OuterRef("pk")).values("stock_id")
    return list(
        Stock.objects.annotate(
            ledger_on_hand=Coalesce(
                Subquery(sums.annotate(total=Sum("on_hand_delta")).values("total")[:1]), Value(0)
            ),
            ledger_reserved=Coalesce(
                Subquery(sums.annotate(total=Sum("reserved_delta")).values("total")[:1]), Value(0)
            ),
        ).filter(~Q(on_hand=F("ledger_on_hand")) | ~Q(reserved=F("ledger_reserved")))
    )


@dataclass(frozen=True)
class SalesRow:
    product_id: int
    product_name: str
    sku: str
    branch_id: int
    branch_name: str
    units_sold: int
    units_returned: int
    revenue: Decimal
    on_hand: int
    sell_through: Decimal | None  # sold / (sold + on hand), as a fraction


def sales_report(*, start=None, end=None, branch: Branch | None = None) -> list[SalesRow]:
    """Units sold, returned, revenue and sell-through per product and branch."""
    sold_orders = Q(
        order__status__in=[Order.Status.PAID, Order.Status.COLLECTED],
    )
    lines = OrderLine.objects.filter(sold_orders)
    if start is not None:
        lines = lines.filter(order__paid_at__gte=start)
    if end is not None:
        lines = lines.filter(order__paid_at__lt=end)
    if branch is not None:
        lines = lines.filter(order__branch=branch)
    totals = (
        lines.values(
            "product_id", "product__name", "product__sku", "order__branch_id", "order__branch__name"
        )
        .annotate(
            units=Sum("quantity"),
            returned=Sum("returned_quantity"),
            revenue=Sum(
                F("line_total") - F("line_total") * F("returned_quantity") / F("quantity"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
            orders=Count("order", distinct=True),
        )
        .order_by("product__name", "order__branch__name")
    )
    on_hand = {
        (row["product_id"], row["branch_id"]): row["on_hand"]
        for row in Stock.objects.values("product_id", "branch_id", "on_hand")
    }
    rows = []
    for row in totals:
        net = (row["units"] or 0) - (row["returned"] or 0)
        left = on_hand.get((row["product_id"], row["order__branch_id"]), 0)
        rows.append(
            SalesRow(
                product_id=row["product_id"],
                product_name=row["product__name"],
                sku=row["product__sku"],
                branch_id=row["order__branch_id"],
                branch_name=row["order__branch__name"],
                units_sold=row["units"] or 0,
                units_returned=row["returned"] or 0,
                revenue=(row["revenue"] or Decimal("0")).quantize(Decimal("0.01")),
                on_hand=left,
                sell_through=(
                    (Decimal(net) / Decimal(net + left)).quantize(Decimal("0.001"))
                    if net + left
                    else None
                ),
            )
        )
    return rows
