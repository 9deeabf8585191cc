from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db.models import DecimalField, ExpressionWrapper, F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateTimeFilter

from accounts.admin_actions import each, form_action
from accounts.admin_base import (
    MemberSearchMixin,
    TenantAdmin,
    TenantTabularInline,
    money_column,
    recent_window_filter,
)
from billing import services
from billing.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
    PendingCharge,
    Refund,
)
from billing.providers.base import available_providers
from gymsite.errors import ServiceError
from gymsite.money import money_format


class ReadOnlyInline(TenantTabularInline):
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ["description", "quantity", "unit_price", "tax_rate", "tax_amount", "total"]
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["created_at", "amount", "provider", "reference", "status", "failure_code"]
    readonly_fields = fields


class CreditNoteInline(ReadOnlyInline):
    model = CreditNote
    fields = ["number", "amount", "reason", "created_at", "created_by"]
    readonly_fields = fields


class OverdueFilter(admin.SimpleListFilter):
    title = _("collection")
    parameter_name = "collection"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("dunning", _("Retry scheduled")),
            ("failed", _("Last attempt failed")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(status=Invoice.Status.OPEN, due_date__lt=timezone.localdate())
        if self.value() == "dunning":
            return queryset.filter(status=Invoice.Status.OPEN, next_collection_at__isnull=False)
        if self.value() == "failed":
            return queryset.filter(status=Invoice.Status.OPEN, collection_attempts__gt=0)
        return queryset


class PartialPaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (empty: everything due)"),
        max_digits=12,
        decimal_places=2,
        required=False,
    )
    reference = forms.CharField(label=_("Reference (optional)"), max_length=100, required=False)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class CreditForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2)
    reason = forms.CharField(label=_("Reason"), max_length=255)


@admin.register(Invoice)
class InvoiceAdmin(MemberSearchMixin, TenantAdmin):
    list_display = [
        "__str__",
        "payer",
        "branch",
        "status",
        "total_shown",
        "due",
        "due_date",
        "issued_at",
        "collection_attempts",
    ]
    list_filter = ["status", OverdueFilter, "branch", ("issued_at", RangeDateTimeFilter)]
    list_filter_submit = True
    list_select_related = ["payer", "branch"]
    search_fields = ["number", "payer__first_name", "payer__last_name", "payer__email"]
    search_help_text = _("The invoice number, or the payer's name or email.")
    member_search_path = "payer"
    exact_search_fields = ("number",)
    raw_id_fields = ["payer"]
    # A date range, not date_hierarchy: its year links are a DISTINCT over every row.
    inlines = [LineInline, PaymentInline, CreditNoteInline]
    actions = ["record_payment", "collect_now", "credit", "void", "write_off"]
    readonly_fields = [
        "number",
        "status",
        "payer",
        "branch",
        "currency",
        "subtotal",
        "tax_total",
        "total",
        "amount_paid",
        "amount_credited",
        "amount_refunded",
        "issued_at",
        "paid_at",
        "voided_at",
        "collection_attempts",
        "next_collection_at",
        "billing_key",
    ]
    fields = [*readonly_fields, "due_date"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                due_amount=ExpressionWrapper(
                    F("total") - F("amount_credited") - F("amount_paid"),
                    output_field=DecimalField(max_digits=12, decimal_places=2),
                )
            )
        )

    total_shown = money_column("total", _("total"))

    @admin.display(description=_("amount due"), ordering="due_amount")
    def due(self, obj):
        due = obj.due_amount if obj.status == Invoice.Status.OPEN else Decimal("0.00")
        return money_format(due, obj.currency)

    def has_add_permission(self, request):
        # Invoices are issued by services (purchases, renewals, sales), numbered on issue.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_payment_permission(self, request):
        return request.user.has_perm("billing.add_payment")

    @admin.action(description=_("Record a payment (front desk)…"), permissions=["payment"])
    def record_payment(self, request, queryset):
        def apply(invoice, data):
            services.payment_record(
                invoice=invoice,
                amount=data["amount"] or invoice.amount_due,
                provider="manual",
                reference=data["reference"],
                actor=request.user,
            )

        return form_action(
            self,
            request,
            queryset,
            form_class=PartialPaymentForm,
            title=_("Record payment"),
            submit_label=_("Record payment"),
            apply=apply,
        )

    @admin.action(description=_("Charge the saved payment method now"), permissions=["payment"])
    def collect_now(self, request, queryset):
        def apply(invoice):
            payment = services.invoice_collect(invoice=invoice)
            if payment is None:
                raise ServiceError(_("Nothing to collect."))
            if payment.status == Payment.Status.FAILED:
                raise ServiceError(_("Declined: %(code)s") % {"code": payment.failure_code})

        each(self, request, queryset, title=_("Charge"), apply=apply)

    @admin.action(description=_("Issue a credit note…"), permissions=["change"])
    def credit(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=CreditForm,
            title=_("Credit note"),
            submit_label=_("Issue credit note"),
            apply=lambda invoice, data: services.credit_note_issue(
                invoice=invoice, amount=data["amount"], reason=data["reason"], actor=request.user
            ),
        )

    @admin.action(description=_("Void…"), permissions=["change"])
    def void(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=VoidForm,
            title=_("Void invoices"),
            submit_label=_("Void"),
            apply=lambda invoice, data: services.invoice_void(
                invoice=invoice, actor=request.user, reason=data["reason"]
            ),
        )

    @admin.action(description=_("Write off (uncollectible)"), permissions=["change"])
    def write_off(self, request, queryset):
        each(
            self,
            request,
            queryset,
            title=_("Write off"),
            apply=lambda invoice: services.invoice_mark_uncollectible(
                invoice=invoice, actor=request.user
            ),
        )


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (empty: all that is refundable)"),
        max_digits=12,
        decimal_places=2,
        required=False,
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)


class ProviderFilter(admin.SimpleListFilter):
    """The installed payment providers: a plain field filter would list them with a
    ``SELECT DISTINCT provider`` over every payment."""

    title = _("provider")
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(name, cls.label) for name, cls in sorted(available_providers().items())]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(provider=self.value())
        return queryset


@admin.register(Payment)
class PaymentAdmin(MemberSearchMixin, TenantAdmin):
    list_display = [
        "created_at",
        "invoice",
        "payer",
        "amount_shown",
        "provider",
        "status",
        "failure_code",
        "refunded_shown",
    ]
    amount_shown = money_column("amount", _("amount"))
    refunded_shown = money_column("amount_refunded", _("amount refunded"))
    list_filter = [
        recent_window_filter("created_at"),
        ("created_at", RangeDateTimeFilter),
        "status",
        ProviderFilter,
        "branch",
    ]
    list_filter_submit = True
    list_select_related = ["invoice", "payer"]
    search_fields = ["reference", "payer__last_name", "payer__email"]
    search_help_text = _("The provider's reference, or the payer's name or email.")
    member_search_path = "payer"
    exact_search_fields = ("reference",)
    # A date range, not date_hierarchy: its year links are a DISTINCT over every row.
    actions = ["refund"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_refund_permission(self, request):
        return request.user.has_perm("billing.add_refund")

    @admin.action(description=_("Refund…"), permissions=["refund"])
    def refund(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=RefundForm,
            title=_("Refund payments"),
            submit_label=_("Refund"),
            apply=lambda payment, data: services.refund_create(
                payment=payment,
                amount=data["amount"] or payment.refundable,
                reason=data["reason"],
                actor=request.user,
            ),
        )


class ReadOnlyAdmin(TenantAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payment", "amount_shown", "status", "reason", "created_by"]
    amount_shown = money_column("amount", _("amount"))
    list_filter = ["status"]
    list_select_related = ["payment", "created_by"]
    date_hierarchy = "created_at"


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "invoice", "amount_shown", "reason", "created_at", "created_by"]
    amount_shown = money_column("amount", _("amount"))
    list_select_related = ["invoice", "created_by"]
    search_fields = ["number", "invoice__number"]


@admin.register(PendingCharge)
class PendingChargeAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "member",
        "payer",
        "branch",
        "description",
        "amount_shown",
        "status",
    ]
    amount_shown = money_column("amount", _("amount"))
    list_filter = ["status", "branch", "source_type"]
    list_select_related = ["member", "payer", "branch"]
    search_fields = ["member__last_name", "description", "source_id"]
    actions = ["waive", "bill_now"]

    @admin.action(description=_("Waive (take off the account)"), permissions=["change"])
    def waive(self, request, queryset):
        each(
            self,
            request,
            queryset,
            title=_("Waive"),
            apply=lambda charge: services.member_charge_cancel(charge=charge, actor=request.user),
        )

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("billing.change_invoice")

    @admin.action(description=_("Invoice now"), permissions=["change"])
    def bill_now(self, request, queryset):
        pairs = {
            (c.payer, c.branch)
            for c in queryset.filter(status=PendingCharge.Status.PENDING).select_related(
                "payer", "branch__organisation"
            )
        }
        each(
            self,
            request,
            sorted(pairs, key=lambda p: (p[0].pk, p[1].pk)),
            title=_("Invoiced"),
            apply=lambda pair: services.account_charges_invoice(
                payer=pair[0], branch=pair[1], actor=request.user
            ),
        )


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = [
        "member",
        "provider",
        "__str__",
        "exp_month",
        "exp_year",
        "is_default",
        "is_active",
    ]
    list_filter = [ProviderFilter, "is_active"]
    list_select_related = ["member"]
    search_fields = ["member__last_name", "member__email"]
