"""Retail: a product catalogue, stock per branch with a movement ledger, orders
(point of sale, member shop, flash sales) and flash sales.

Stock is two counters per product and branch, each the running sum of the ledger:
``on_hand`` (units physically in the branch) and ``reserved`` (units held for an
order awaiting payment). What can be sold is ``on_hand - reserved``. Both counters
change only through ``inventory.services`` with conditional single-statement
updates, and CHECK constraints keep them from going negative (or reserving more
than is on the shelf) whatever the code does.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import CombinedExpression
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from gymsite.money import amount_field, currency_field, tax_rate_field


def _column(model, name: str, alias: str) -> str:
    column = f'"{model._meta.get_field(name).column}"'
    return f"{alias}.{column}" if alias else column


class Category(TenantModel):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="inv_category_slug"),
        ]

    def __str__(self):
        return self.name


def product_image_path(instance, filename):
    return f"org-{instance.organisation_id}/products/{filename}"


class Product(TenantModel):
    """Something the gym sells over the counter or in the shop. Archived, never deleted."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("Goods (stock counted)")
        DAY_PASS = "day_pass", _("Day pass")

    class Status(models.TextChoices):
        ACTIVE = "active", _("On sale")
        ARCHIVED = "archived", _("Archived")

    sku = models.CharField(_("SKU"), max_length=40)
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.GOODS)
    image = models.ImageField(_("image"), upload_to=product_image_path, blank=True)
    price = amount_field(
        _("price"),
        validators=[MinValueValidator(0)],
        help_text=_("Price before tax (tax is added at the product's or branch's rate)."),
    )
    currency = currency_field(verbose_name=_("currency"))
    tax_rate = tax_rate_field(
        _("tax rate"),
        null=True,
        blank=True,
        help_text=_("Leave empty to use the branch's tax rate (e.g. 0.2000 for 20%)."),
    )
    low_stock_threshold = models.PositiveIntegerField(
        _("low-stock alert at"),
        default=5,
        help_text=_("Branch managers are emailed when a branch's stock falls to this."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "sku"], name="inv_product_sku"),
            models.CheckConstraint(condition=Q(price__gte=0), name="inv_product_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    @property
    def tracks_stock(self) -> bool:
        return self.kind == self.Kind.GOODS


class Stock(TenantModel):
    """Units of one product at one branch. The ledger (``StockMovement``) sums to these."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.PROTECT, related_name="stock_levels"
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("held for orders"), default=0)
    # Set when a low-stock email went out; cleared when stock is received again, so a
    # branch manager hears once per dip, not on every sale.
    low_stock_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["product__name", "branch__name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "branch"], name="inv_stock_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inv_stock_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inv_stock_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="inv_stock_reserved_lte_on_hand"
            ),
        ]

    def __str__(self):
        return f"{self.product} @ {self.branch}"

    # "Free to sell" is on hand minus held, in Python and, beside it, for queries: an
    # expression for the ORM and the same fragment for hand-written statements. Every
    # conditional update that takes or holds units tests it.
    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @staticmethod
    def available_expression() -> CombinedExpression:
        return F("on_hand") - F("reserved")

    @classmethod
    def available_sql(cls, alias: str = "") -> str:
        """``available`` for hand-written SQL, its columns qualified by ``alias``."""
        return f"{_column(cls, 'on_hand', alias)} - {_column(cls, 'reserved', alias)}"


class StockMovement(TenantModel):
    """One change of stock, with who and why. Append-only."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        SOLD = "sold", _("Sold")
        RESERVED = "reserved", _("Reserved")
        RELEASED = "released", _("Released")
        ADJUSTED = "adjusted", _("Adjusted (count)")
        TRANSFER_OUT = "transfer_out", _("Transferred out")
        TRANSFER_IN = "transfer_in", _("Transferred in")
        RETURNED = "returned", _("Returned by customer")

    # Indexed by (stock, created_at) below; FKs with no query of their own carry no
    # index: every purchase inserts a row here, and each index is work on that path.
    stock = models.ForeignKey(
        Stock, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    # Denormalised from ``stock`` for reports and branch scoping.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", db_index=False)
    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    on_hand_delta = models.IntegerField(_("on hand change"), default=0)
    reserved_delta = models.IntegerField(_("held change"), default=0)
    order = models.ForeignKey(
        "Order", on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["stock", "created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.on_hand_delta:+d}/{self.reserved_delta:+d}"


class DayPassPlan(TenantModel):
    """The entry ticket a day pass grants at one branch (``memberships`` plan, created
    on the first sale there): selling the pass gives the buyer a one-day ticket of it,
    so the door lets them in that day, at that branch."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="day_pass_plans")
    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+")
    plan = models.OneToOneField("memberships.Plan", on_delete=models.PROTECT, related_name="+")

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("day-pass ticket plan")
        verbose_name_plural = _("day-pass ticket plans")
        constraints = [
            models.UniqueConstraint(fields=["product", "branch"], name="inv_day_pass_plan_unique"),
        ]

    def __str__(self):
        return f"{self.product} @ {self.branch}"


class FlashSale(TenantModel):
    """A product at a sale price for a window, a limited quantity and a per-member limit.

    ``remaining`` is decremented in the database by each purchase (conditional
    update); the CHECK constraint is the last line of defence against overselling.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="flash_sales")
    branch = models.ForeignKey(
        "accounts.Branch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flash_sales",
        help_text=_(
            "Leave empty to run the sale at every branch (buyers choose where to collect)."
        ),
    )
    title = models.CharField(_("title"), max_length=150)
    sale_price = amount_field(
        _("sale price"), validators=[MinValueValidator(0)], help_text=_("Before tax.")
    )
    starts_at = models.DateTimeField(_("opens"))
    ends_at = models.DateTimeField(_("closes"))
    quantity = models.PositiveIntegerField(_("units on offer"), validators=[MinValueValidator(1)])
    remaining = models.IntegerField(_("units left"))
    per_member_limit = models.PositiveSmallIntegerField(
        _("limit per member"), default=1, validators=[MinValueValidator(1)]
    )
    hold_minutes = models.PositiveSmallIntegerField(
        _("hold for (minutes)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("How long a purchase keeps its unit while awaiting payment."),
    )
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("flash sale")
        verbose_name_plural = _("flash sales")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0), name="inv_flash_remaining_gte_0"),
            models.CheckConstraint(
                condition=Q(remaining__lte=F("quantity")), name="inv_flash_remaining_lte_qty"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="inv_flash_window_order"
            ),
            models.CheckConstraint(condition=Q(sale_price__gte=0), name="inv_flash_price_gte_0"),
        ]

    def __str__(self):
        return self.title

    # The sale's window, written once: in Python (what decides on a loaded row), and
    # beside it as a Q for the ORM and a fragment for hand-written statements (the
    # purchase re-checks it under the row lock). A cancelled sale is closed.
    SCHEDULED, OPEN, CLOSED = "scheduled", "open", "closed"

    def phase_at(self, moment) -> str:
        if self.is_cancelled or moment >= self.ends_at:
            return self.CLOSED
        if moment < self.starts_at:
            return self.SCHEDULED
        return self.OPEN

    def is_open_at(self, moment) -> bool:
        return self.phase_at(moment) == self.OPEN

    @property
    def phase_now(self) -> str:
        return self.phase_at(timezone.now())

    @property
    def discount_percent(self) -> int | None:
        """How much below the product's own price, in whole percent (None if not)."""
        price = self.product.price
        if not price or self.sale_price >= price:
            return None
        return int((1 - self.sale_price / price) * 100)

    @classmethod
    def phase_q(cls, phase: str, moment) -> Q:
        if phase == cls.CLOSED:
            return Q(is_cancelled=True) | Q(ends_at__lte=moment)
        if phase == cls.SCHEDULED:
            return Q(is_cancelled=False, starts_at__gt=moment)
        return Q(is_cancelled=False, starts_at__lte=moment, ends_at__gt=moment)

    @classmethod
    def open_sql(cls, moment: str, alias: str = "") -> str:
        """``is_open_at`` for hand-written SQL; ``moment`` is the SQL of the instant (a
        placeholder)."""
        return (
            f"NOT {_column(cls, 'is_cancelled', alias)} "
            f"AND {_column(cls, 'starts_at', alias)} <= {moment} "
            f"AND {_column(cls, 'ends_at', alias)} > {moment}"
        )


class FlashSaleAllowance(TenantModel):
    """How many units of a flash sale one member holds or has bought.

    One row per member and sale, incremented by a conditional upsert; the limit is
    copied in so a CHECK constraint can enforce it even against a bug in a service.
    """

    # Every read is by (sale, member), which the unique index serves: neither column
    # gets an index of its own (each would be one more write per purchase; members
    # are archived, never deleted, so nothing looks allowances up by member alone).
    sale = models.ForeignKey(
        FlashSale, on_delete=models.CASCADE, related_name="allowances", db_index=False
    )
    member = models.ForeignKey(
        "accounts.Member", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    quantity = models.IntegerField(default=0)
    limit = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("flash sale allowance")
        verbose_name_plural = _("flash sale allowances")
        constraints = [
            models.UniqueConstraint(fields=["sale", "member"], name="inv_allowance_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="inv_allowance_gte_0"),
            models.CheckConstraint(
                condition=Q(quantity__lte=F("limit")), name="inv_allowance_lte_limit"
            ),
        ]

    def __str__(self):
        return f"{self.member_id} × {self.quantity}/{self.limit}"


class Order(TenantModel):
    """A sale of products: at the front desk, from the member shop, or in a flash sale.

    States: ``held`` (stock reserved until ``expires_at``, awaiting payment) →
    ``paid`` (sold; shop orders wait for pickup) → ``collected``; a held order
    becomes ``expired`` (job or read time) or ``cancelled``, releasing its stock.
    A POS sale goes straight to ``collected``. Returns are recorded per line.
    """

    class Channel(models.TextChoices):
        POS = "pos", _("Front desk")
        SHOP = "shop", _("Member shop")
        FLASH_SALE = "flash_sale", _("Flash sale")

    class Status(models.TextChoices):
        HELD = "held", _("Awaiting payment")
        PAID = "paid", _("Paid, ready for pickup")
        COLLECTED = "collected", _("Completed")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")
        REFUND_DUE = "refund_due", _("Paid too late: refund due")

    class Payment(models.TextChoices):
        PENDING = "pending", _("Not yet paid")
        PAID_NOW = "paid_now", _("Paid at the desk")
        ACCOUNT = "account", _("Charged to account")
        ONLINE = "online", _("Paid online")

    number = models.CharField(_("receipt number"), max_length=30)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    payment = models.CharField(
        _("payment"), max_length=10, choices=Payment.choices, default=Payment.PENDING
    )
    payment_provider = models.CharField(_("paid by"), max_length=20, blank=True)
    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="orders")
    member = models.ForeignKey(
        "accounts.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        help_text=_("Empty for a walk-in customer."),
    )
    customer_name = models.CharField(_("walk-in name"), max_length=150, blank=True)
    customer_email = models.EmailField(_("receipt email"), blank=True)
    # Indexed by (flash_sale, status) below: a second index on the column alone would
    # be one more write on every purchase for nothing.
    flash_sale = models.ForeignKey(
        FlashSale,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        db_index=False,
    )
    subtotal = amount_field(_("subtotal"), default=0)
    tax_total = amount_field(_("tax"), default=0)
    total = amount_field(_("total"), default=0)
    refunded_total = amount_field(_("refunded"), default=0)
    currency = currency_field(verbose_name=_("currency"))
    expires_at = models.DateTimeField(_("hold expires"), null=True, blank=True)
    # Billing's invoice for this order (a plain id: billing owns the model).
    invoice_id = models.BigIntegerField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="inv_order_number"),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(expires_at__isnull=False),
                name="inv_order_held_expires",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="held"), name="inv_order_held_due"
            ),
            models.Index(fields=["flash_sale", "status"], name="inv_order_sale_status"),
            # A plain b-tree (``db_index=True`` would add a LIKE index nothing uses).
            models.Index(fields=["status"], name="inv_order_status"),
        ]

    def __str__(self):
        return self.number

    @property
    def customer(self) -> str:
        if self.member_id:
            return self.member.full_name
        return self.customer_name or str(_("Walk-in"))


class OrderLine(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = amount_field(_("unit price (before tax)"))
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    subtotal = amount_field(_("subtotal"))
    tax_amount = amount_field(_("tax"))
    line_total = amount_field(_("line total"))
    returned_quantity = models.PositiveIntegerField(_("returned"), default=0)
    # The ticket a day-pass line granted (a plain id: ``memberships`` owns the row).
    ticket_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="inv_line_qty_gte_1"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("quantity")), name="inv_line_returned_lte_qty"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.description}"


class CartItem(TenantModel):
    """A member's shop basket: products and quantities, priced when ordered."""

    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["member", "product"], name="inv_cart_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="inv_cart_qty_gte_1"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_id}"

    @property
    def line_total(self):
        """Before tax, as the cart shows it (``inventory.selectors.cart_total`` adds them)."""
        return self.product.price * self.quantity
