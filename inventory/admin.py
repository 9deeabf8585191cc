"""Back office for retail: catalogue, stock (receive, count, adjust, transfer — all
through the ledger), flash sales, orders, and the sales / sell-through report."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, Sum
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import TenantAdmin, TenantTabularInline
from accounts.models import Branch
from gymsite.errors import ServiceError
from inventory import selectors, services
from inventory.models import (
    Category,
    FlashSale,
    Order,
    OrderLine,
    Product,
    Stock,
    StockMovement,
)


@admin.register(Category)
class CategoryAdmin(TenantAdmin):
    list_display = ["name", "slug", "position", "product_count"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_total=Count("products"))

    @admin.display(description=_("products"), ordering="product_total")
    def product_count(self, obj):
        return obj.product_total


class StockInline(TenantTabularInline):
    model = Stock
    fields = ["branch", "on_hand", "reserved", "low_stock_alerted_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class StockStatusFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", _("Low or out")), ("out", _("Out of stock"))]

    def queryset(self, request, queryset):
        free = queryset.alias(free_units=Stock.available_expression())
        if self.value() == "out":
            return free.filter(free_units__lte=0)
        if self.value() == "low":
            return free.filter(free_units__lte=F("product__low_stock_threshold"))
        return queryset


@admin.register(Product)
class ProductAdmin(TenantAdmin):
    list_display = ["name", "sku", "category", "kind", "price", "status", "units_on_hand"]
    list_filter = ["status", "kind", "category"]
    list_select_related = ["category"]
    search_fields = ["name", "sku"]
    inlines = [StockInline]
    actions = ["archive"]
    fields = [
        "sku",
        "name",
        "category",
        "kind",
        "description",
        "image",
        "price",
        "tax_rate",
        "low_stock_threshold",
        "status",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(total_on_hand=Sum("stock_levels__on_hand"))

    @admin.display(description=_("on hand (all branches)"), ordering="total_on_hand")
    def units_on_hand(self, obj):
        return obj.total_on_hand or 0

    def save_model(self, request, obj, form, change):
        if not obj.currency or obj.currency == "EUR":
            obj.currency = (
                request.organisation.currency
                if getattr(request, "organisation", None)
                else obj.currency
            )
        obj.sku = obj.sku.strip().upper()
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # archive instead: sales and the ledger refer to products

    @admin.action(description=_("Archive (take off sale)"), permissions=["change"])
    def archive(self, request, queryset):
        for product in queryset:
            services.product_archive(product=product, actor=request.user)
        self.message_user(request, _("%(n)s products archived.") % {"n": queryset.count()})


class StockChangeForm(forms.Form):
    KIND_CHOICES = [
        ("receive", _("Receive a delivery (+)")),
        ("count", _("Record a count (set on hand)")),
        ("adjust", _("Adjust (write off −, found +)")),
        ("transfer", _("Transfer to another branch")),
    ]
    kind = forms.ChoiceField(label=_("Change"), choices=KIND_CHOICES)
    quantity = forms.IntegerField(
        label=_("Units"),
        help_text=_("Received / counted / transferred units; for an adjustment, + or −."),
    )
    to_branch = forms.ModelChoiceField(
        queryset=Branch.objects.filter(is_active=True), required=False, label=_("To branch")
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


@admin.register(Stock)
class StockAdmin(TenantAdmin):
    change_list_template = "inventory/admin/stock_change_list.html"
    list_display = ["product", "branch", "on_hand", "reserved", "free_now", "change_link"]
    list_filter = [StockStatusFilter, "branch", "product__category"]
    list_select_related = ["product", "branch"]
    search_fields = ["product__name", "product__sku"]
    readonly_fields = ["product", "branch", "on_hand", "reserved", "low_stock_alerted_at"]

    def get_queryset(self, request):
        return selectors.stock_with_availability().select_related("product", "branch")

    @admin.display(description=_("free now"), ordering="free")
    def free_now(self, obj):
        return obj.free

    @admin.display(description=_("count / adjust"))
    def change_link(self, obj):
        from django.utils.html import format_html

        url = reverse("admin:inventory_stock_move", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Change stock…"))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/move/",
                self.admin_site.admin_view(self.move_view),
                name="inventory_stock_move",
            ),
            path(
                "sales-report/",
                self.admin_site.admin_view(self.report_view),
                name="inventory_sales_report",
            ),
            *super().get_urls(),
        ]

    def move_view(self, request, pk):
        if not request.user.has_perm("inventory.change_stock"):
            raise PermissionDenied
        stock = Stock.objects.select_related("product", "branch").filter(pk=pk).first()
        if stock is None:
            return redirect("admin:inventory_stock_changelist")
        form = StockChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            arguments = {"product": stock.product, "actor": request.user}
            try:
                if data["kind"] == "receive":
                    services.stock_receive(
                        branch=stock.branch,
                        quantity=data["quantity"],
                        reason=data["reason"],
                        **arguments,
                    )
                elif data["kind"] == "count":
                    services.stock_count(
                        branch=stock.branch,
                        counted=data["quantity"],
                        reason=data["reason"],
                        **arguments,
                    )
                elif data["kind"] == "adjust":
                    services.stock_adjust(
                        branch=stock.branch,
                        delta=data["quantity"],
                        reason=data["reason"],
                        **arguments,
                    )
                else:
                    if data["to_branch"] is None:
                        raise ServiceError(
                            _("Choose the branch to send to."), field="to_branch", code="required"
                        )
                    services.stock_transfer(
                        from_branch=stock.branch,
                        to_branch=data["to_branch"],
                        quantity=data["quantity"],
                        reason=data["reason"],
                        **arguments,
                    )
            except ServiceError as exc:
                field = {"delta": "quantity", "counted": "quantity"}.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                self.message_user(request, _("Stock updated."), messages.SUCCESS)
                return redirect("admin:inventory_stock_changelist")
        movements = StockMovement.objects.filter(stock=stock).select_related("actor", "order")[:30]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change stock: %(stock)s") % {"stock": stock},
            "stock": stock,
            "form": form,
            "movements": movements,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "inventory/admin/stock_move.html", context)

    def report_view(self, request):
        start = parse_date(request.GET.get("start", "") or "")
        end = parse_date(request.GET.get("end", "") or "")
        rows = selectors.sales_report(start=start, end=end)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Sales and sell-through"),
            "rows": rows,
            "start": request.GET.get("start", ""),
            "end": request.GET.get("end", ""),
            "opts": self.model._meta,
            "mismatches": selectors.stock_ledger_mismatches(),
        }
        return TemplateResponse(request, "inventory/admin/sales_report.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(TenantAdmin):
    list_display = [
        "created_at",
        "product",
        "branch",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "actor",
        "order",
        "reason",
    ]
    list_filter = ["kind", "branch"]
    list_select_related = ["product", "branch", "actor", "order"]
    search_fields = ["product__name", "product__sku", "reason", "order__number"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FlashSaleStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("running", _("Running")), ("ended", _("Ended"))]

    def queryset(self, request, queryset):
        from django.utils import timezone

        phase = {
            "upcoming": FlashSale.SCHEDULED,
            "running": FlashSale.OPEN,
            "ended": FlashSale.CLOSED,
        }.get(self.value())
        if phase is None:
            return queryset
        return queryset.filter(FlashSale.phase_q(phase, timezone.now()))


class FlashSaleForm(forms.ModelForm):
    class Meta:
        model = FlashSale
        fields = [
            "title",
            "product",
            "branch",
            "sale_price",
            "starts_at",
            "ends_at",
            "quantity",
            "per_member_limit",
            "hold_minutes",
        ]

    def clean(self):
        data = super().clean()
        quantity, limit = data.get("quantity"), data.get("per_member_limit")
        if quantity and limit and limit > quantity:
            self.add_error("per_member_limit", _("The limit cannot exceed the units on offer."))
        product = data.get("product")
        if product is not None and not product.tracks_stock:
            self.add_error("product", _("Flash sales are for stocked products."))
        return data


@admin.register(FlashSale)
class FlashSaleAdmin(TenantAdmin):
    form = FlashSaleForm
    list_display = [
        "title",
        "product",
        "branch",
        "sale_price",
        "starts_at",
        "ends_at",
        "quantity",
        "remaining",
        "units_sold",
        "per_member_limit",
        "is_cancelled",
    ]
    list_filter = [FlashSaleStateFilter, "branch"]
    list_select_related = ["product", "branch"]
    autocomplete_fields = ["product"]
    search_fields = ["title", "product__name"]
    actions = ["cancel_sales"]
    fields = [
        "title",
        "product",
        "branch",
        "sale_price",
        "starts_at",
        "ends_at",
        "quantity",
        "per_member_limit",
        "hold_minutes",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                sold=Sum(
                    "orders__lines__quantity", filter=Q(orders__status__in=["paid", "collected"])
                )
            )
        )

    @admin.display(description=_("sold"), ordering="sold")
    def units_sold(self, obj):
        return obj.sold or 0

    def get_readonly_fields(self, request, obj=None):
        # Quantities and product are fixed once buyers hold units: cancel and recreate.
        return ["product", "branch", "quantity"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            sale = services.flash_sale_create(
                product=obj.product,
                branch=obj.branch,
                title=obj.title,
                sale_price=obj.sale_price,
                starts_at=obj.starts_at,
                ends_at=obj.ends_at,
                quantity=obj.quantity,
                per_member_limit=obj.per_member_limit,
                hold_minutes=obj.hold_minutes,
                actor=request.user,
            )
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc
        obj.pk = sale.pk
        obj.remaining = sale.remaining
        obj.organisation_id = sale.organisation_id

    def save_form(self, request, form, change):
        obj = super().save_form(request, form, change)
        if not change:
            obj.remaining = obj.quantity or 0
        return obj

    @admin.action(description=_("Cancel the selected sales"), permissions=["change"])
    def cancel_sales(self, request, queryset):
        for sale in queryset:
            services.flash_sale_cancel(sale=sale, actor=request.user)
        self.message_user(request, _("Sales cancelled; held orders run out as usual."))


class OrderLineInline(TenantTabularInline):
    model = OrderLine
    fields = [
        "product",
        "description",
        "quantity",
        "unit_price",
        "tax_rate",
        "line_total",
        "returned_quantity",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(TenantAdmin):
    list_display = [
        "number",
        "channel",
        "status",
        "payment",
        "branch",
        "customer_display",
        "total",
        "created_at",
        "expires_at",
    ]
    list_filter = ["status", "channel", "payment", "branch"]
    list_select_related = ["branch", "member"]
    search_fields = ["number", "member__first_name", "member__last_name", "customer_name"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline]
    readonly_fields = [
        "number",
        "channel",
        "status",
        "payment",
        "payment_provider",
        "branch",
        "member",
        "customer_name",
        "customer_email",
        "flash_sale",
        "subtotal",
        "tax_total",
        "total",
        "refunded_total",
        "currency",
        "expires_at",
        "invoice_id",
        "created_by",
        "created_at",
        "paid_at",
        "collected_at",
    ]
    actions = ["mark_collected", "expire_due"]

    @admin.display(description=_("customer"))
    def customer_display(self, obj):
        return obj.customer

    def has_add_permission(self, request):
        return False  # sales are made at the till (/shop/pos/) or by members

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark as handed over"), permissions=["change"])
    def mark_collected(self, request, queryset):
        done = 0
        for order in queryset.filter(status=Order.Status.PAID):
            try:
                services.order_collect(order=order, actor=request.user)
                done += 1
            except ServiceError as exc:
                self.message_user(request, f"{order}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(n)s orders handed over.") % {"n": done})

    @admin.action(description=_("Release holds that have run out"), permissions=["change"])
    def expire_due(self, request, queryset):
        count = services.orders_expire_due()
        self.message_user(request, _("%(n)s expired holds released.") % {"n": count})
