"""Factories for the inventory app; every one passes ``organisation`` explicitly."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import BranchFactory, MemberFactory, OrganisationFactory
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
from memberships.tests.factories import PlanFactory


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    organisation = factory.SelfAttribute("category.organisation")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Protein bar {n}")
    price = Decimal("2.50")
    currency = "GBP"
    low_stock_threshold = 0


class DayPassPlanFactory(DjangoModelFactory):
    """The one-day ticket plan of a day-pass product at a branch."""

    class Meta:
        model = DayPassPlan

    product = factory.SubFactory(ProductFactory)
    organisation = factory.SelfAttribute("product.organisation")
    branch = factory.SubFactory(BranchFactory, organisation=factory.SelfAttribute("..organisation"))
    plan = factory.SubFactory(
        PlanFactory, organisation=factory.SelfAttribute("..organisation"), entry_ticket=True
    )


class StockFactory(DjangoModelFactory):
    """A stock row with no units: give it units with ``services.stock_receive``, so the
    ledger always sums to the counters."""

    class Meta:
        model = Stock

    product = factory.SubFactory(ProductFactory)
    branch = factory.SubFactory(
        BranchFactory, organisation=factory.SelfAttribute("..product.organisation")
    )
    organisation = factory.SelfAttribute("product.organisation")


class StockMovementFactory(DjangoModelFactory):
    """A zero-change ledger row (a note): keeps the ledger summing to the counters."""

    class Meta:
        model = StockMovement

    stock = factory.SubFactory(StockFactory)
    organisation = factory.SelfAttribute("stock.organisation")
    product = factory.SelfAttribute("stock.product")
    branch = factory.SelfAttribute("stock.branch")
    kind = StockMovement.Kind.ADJUSTED
    reason = "count confirmed"


class FlashSaleFactory(DjangoModelFactory):
    class Meta:
        model = FlashSale

    product = factory.SubFactory(ProductFactory)
    organisation = factory.SelfAttribute("product.organisation")
    branch = None
    title = factory.Sequence(lambda n: f"Flash sale {n}")
    sale_price = Decimal("1.00")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
    quantity = 10
    remaining = factory.SelfAttribute("quantity")
    per_member_limit = 2
    hold_minutes = 10


class FlashSaleAllowanceFactory(DjangoModelFactory):
    class Meta:
        model = FlashSaleAllowance

    sale = factory.SubFactory(FlashSaleFactory)
    organisation = factory.SelfAttribute("sale.organisation")
    member = factory.SubFactory(
        MemberFactory,
        home_branch__organisation=factory.SelfAttribute("...sale.organisation"),
    )
    quantity = 0
    limit = factory.SelfAttribute("sale.per_member_limit")


class OrderFactory(DjangoModelFactory):
    """A completed front-desk sale (no stock effect: use the services for that)."""

    class Meta:
        model = Order

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    number = factory.Sequence(lambda n: f"T-{n:06d}")
    channel = Order.Channel.POS
    status = Order.Status.COLLECTED
    payment = Order.Payment.PAID_NOW
    currency = "GBP"


class OrderLineFactory(DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    organisation = factory.SelfAttribute("order.organisation")
    product = factory.SubFactory(
        ProductFactory, category__organisation=factory.SelfAttribute("...order.organisation")
    )
    description = factory.SelfAttribute("product.name")
    quantity = 1
    unit_price = Decimal("2.50")
    subtotal = Decimal("2.50")
    tax_amount = Decimal("0.50")
    line_total = Decimal("3.00")


class CartItemFactory(DjangoModelFactory):
    class Meta:
        model = CartItem

    product = factory.SubFactory(ProductFactory)
    organisation = factory.SelfAttribute("product.organisation")
    member = factory.SubFactory(
        MemberFactory,
        home_branch__organisation=factory.SelfAttribute("...product.organisation"),
    )
    quantity = 1
