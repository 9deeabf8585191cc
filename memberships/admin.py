from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateFilter

from accounts.admin_actions import each, form_action
from accounts.admin_base import MemberSearchMixin, TenantAdmin, TenantTabularInline
from accounts.models import AuditLog, Branch, Member
from billing.models import Invoice, Payment, PendingCharge
from gymsite.errors import ServiceError
from memberships import selectors, services
from memberships.models import Membership, MembershipFreeze, MembershipStatusChange, Plan


@admin.register(Plan)
class PlanAdmin(TenantAdmin):
    list_display = ["name", "kind", "price_display", "status", "active_members", "branch_list"]
    list_filter = ["kind", "status"]
    search_fields = ["name"]
    filter_horizontal = ["branches", "class_categories"]
    readonly_fields = ["retired_at", "created_at"]
    actions = ["retire", "put_on_sale"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "status", "description", "features"]}),
        (_("Price"), {"fields": ["price", "currency", "signup_fee", "intro_price"]}),
        (
            _("Billing and term"),
            {
                "fields": [
                    "billing_interval",
                    "interval_count",
                    "auto_renew",
                    "minimum_term_months",
                    "notice_period_days",
                    "duration_days",
                ]
            },
        ),
        (
            _("Credits and entries"),
            {
                "fields": [
                    "credits",
                    "credit_validity_days",
                    "class_categories",
                    "entries",
                    "valid_from",
                    "valid_until",
                ]
            },
        ),
        (
            _("Access"),
            {"fields": ["branches", "access_from", "access_until", "weekly_attendance_limit"]},
        ),
        (
            _("Freezes"),
            {"fields": ["min_freeze_days", "max_freeze_days_per_year", "max_freezes_per_year"]},
        ),
        (_("History"), {"fields": ["retired_at", "created_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("branches")
            .annotate(
                active_count=Count(
                    "memberships",
                    filter=Q(memberships__status__in=["active", "frozen", "past_due"]),
                )
            )
        )

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, obj):
        suffix = f" / {obj.interval_count} {obj.billing_interval}" if obj.billing_interval else ""
        return f"{obj.price} {obj.currency}{suffix}"

    @admin.display(description=_("members"), ordering="active_count")
    def active_members(self, obj):
        return obj.active_count

    @admin.display(description=_("branches"))
    def branch_list(self, obj):
        return ", ".join(b.name for b in obj.branches.all()) or _("All")

    @admin.action(description=_("Retire (stop selling)"), permissions=["change"])
    def retire(self, request, queryset):
        count = queryset.filter(status=Plan.Status.ACTIVE).update(
            status=Plan.Status.RETIRED, retired_at=timezone.now()
        )
        self.message_user(request, _("%(count)s plan(s) retired.") % {"count": count})

    @admin.action(description=_("Put back on sale"), permissions=["change"])
    def put_on_sale(self, request, queryset):
        count = queryset.filter(status=Plan.Status.RETIRED).update(
            status=Plan.Status.ACTIVE, retired_at=None
        )
        self.message_user(request, _("%(count)s plan(s) on sale.") % {"count": count})

    def has_delete_permission(self, request, obj=None):
        # Plans carry history once sold: retire them instead.
        return False


class StatusHistoryInline(TenantTabularInline):
    model = MembershipStatusChange
    fields = ["created_at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class FreezeInline(TenantTabularInline):
    model = MembershipFreeze
    fields = ["start_date", "end_date", "ended_on", "status", "reason", "created_by"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class BillingBranchFilter(admin.SimpleListFilter):
    title = _("branch")
    parameter_name = "branch"

    def lookups(self, request, model_admin):
        return [(b.pk, b.name) for b in Branch.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                Q(branch_id=self.value()) | Q(branch__isnull=True, member__home_branch=self.value())
            )
        return queryset


class RenewalFilter(admin.SimpleListFilter):
    title = _("billing")
    parameter_name = "billing"

    def lookups(self, request, model_admin):
        return [
            ("due", _("Renewal due")),
            ("unpaid", _("Has an unpaid invoice")),
            ("cancelling", _("Set to end")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.filter(pk__in=services.renewals_due(today=timezone.localdate()))
        if self.value() == "unpaid":
            return queryset.filter(services._unpaid_invoice_exists())
        if self.value() == "cancelling":
            return queryset.filter(cancels_on__isnull=False).exclude(status__in=services.TERMINAL)
        return queryset


class FreezeActionForm(forms.Form):
    start_date = forms.DateField(
        label=_("First frozen day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("Last frozen day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["start_date"].initial = today
        self.fields["end_date"].initial = today + timedelta(days=13)


class CancelActionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000)
    immediately = forms.BooleanField(
        label=_("End now (otherwise at the earliest date the plan allows)"), required=False
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class SellForm(forms.Form):
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.filter(status=Plan.Status.ACTIVE), label=_("Plan")
    )
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.filter(is_active=True), label=_("Sold at")
    )
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )


class PaymentActionForm(forms.Form):
    reference = forms.CharField(
        label=_("Terminal receipt / reference (optional)"), max_length=100, required=False
    )


@admin.register(Membership)
class MembershipAdmin(MemberSearchMixin, TenantAdmin):
    list_display = [
        "member_link",
        "plan",
        "status",
        "period",
        "end_date",
        "cancels_on",
        "auto_renew",
        "price",
    ]
    list_filter = [
        "status",
        RenewalFilter,
        "plan",
        BillingBranchFilter,
        "auto_renew",
        ("start_date", RangeDateFilter),
    ]
    list_filter_submit = True
    list_select_related = ["member", "plan"]
    search_fields = ["member__first_name", "member__last_name", "member__email"]
    search_help_text = _("The member's name or email.")
    raw_id_fields = ["member", "payer"]
    # A date range, not date_hierarchy: its year links are a DISTINCT over every row.
    inlines = [FreezeInline, StatusHistoryInline]
    actions = ["freeze", "unfreeze", "cancel", "comp_period", "record_payment"]
    readonly_fields = [
        "status",
        "member",
        "payer",
        "plan",
        "branch",
        "start_date",
        "end_date",
        "current_period_start",
        "current_period_end",
        "price",
        "currency",
        "cancels_on",
        "cancellation_reason",
        "cancel_requested_at",
        "created_at",
    ]
    fields = [*readonly_fields, "auto_renew", "credits_remaining", "entries_remaining"]

    @admin.display(description=_("member"), ordering="member__last_name")
    def member_link(self, obj):
        url = reverse("admin:memberships_member_overview", args=[obj.member_id])
        return format_html('<a href="{}">{}</a>', url, obj.member.full_name)

    @admin.display(description=_("current period"), ordering="current_period_end")
    def period(self, obj):
        if not obj.current_period_end:
            return "—"
        return f"{obj.current_period_start} – {obj.current_period_end}"

    def has_add_permission(self, request):
        # Memberships are sold through the portal, the API or the member page (a
        # purchase creates the invoice too), not typed in here.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_staff_permission(self, request):
        return request.user.has_perm("memberships.change_membership")

    def has_payment_permission(self, request):
        return request.user.has_perm("billing.add_payment")

    @admin.action(description=_("Freeze…"), permissions=["staff"])
    def freeze(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=FreezeActionForm,
            title=_("Freeze memberships"),
            submit_label=_("Freeze"),
            apply=lambda m, data: services.membership_freeze(
                membership=m, actor=request.user, **data
            ),
        )

    @admin.action(description=_("Unfreeze"), permissions=["staff"])
    def unfreeze(self, request, queryset):
        each(
            self,
            request,
            queryset,
            title=_("Unfreeze"),
            apply=lambda m: services.membership_unfreeze(membership=m, actor=request.user),
        )

    @admin.action(description=_("Cancel…"), permissions=["staff"])
    def cancel(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=CancelActionForm,
            title=_("Cancel memberships"),
            submit_label=_("Cancel memberships"),
            help=_(
                "Without 'End now', each membership runs to the earliest date its notice "
                "period and minimum term allow, and is billed until then."
            ),
            apply=lambda m, data: services.membership_cancel(
                membership=m,
                reason=data["reason"],
                immediately=data["immediately"],
                staff=True,
                actor=request.user,
            ),
        )

    @admin.action(description=_("Comp a period…"), permissions=["staff"])
    def comp_period(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Give a period free"),
            submit_label=_("Comp"),
            help=_(
                "Settles the open period invoice with a credit note, or extends the "
                "current period by one billing period at no charge."
            ),
            apply=lambda m, data: services.membership_comp_period(
                membership=m, actor=request.user, reason=data["reason"]
            ),
        )

    @admin.action(description=_("Record a payment (front desk)…"), permissions=["payment"])
    def record_payment(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=PaymentActionForm,
            title=_("Record payment in full"),
            submit_label=_("Record payment"),
            help=_("Records cash or card-terminal payment of everything owed on each membership."),
            apply=lambda m, data: services.membership_record_payment(
                membership=m, actor=request.user, reference=data["reference"]
            ),
        )

    def get_urls(self):
        return [
            path(
                "member/<int:member_id>/",
                self.admin_site.admin_view(self.member_overview),
                name="memberships_member_overview",
            ),
            *super().get_urls(),
        ]

    def member_overview(self, request, member_id):
        """Everything about one member at a glance: household, memberships, money."""
        if not request.user.has_perm("memberships.view_membership"):
            raise PermissionDenied
        member = get_object_or_404(
            Member.objects.select_related("home_branch", "payer", "user"), pk=member_id
        )
        sell_form = None
        if request.user.has_perm("memberships.add_membership"):
            sell_form = SellForm(
                request.POST or None,
                initial={"branch": member.home_branch_id, "start_date": timezone.localdate()},
            )
            if request.method == "POST" and sell_form.is_valid():
                try:
                    membership = services.membership_purchase(
                        member=member, actor=request.user, **sell_form.cleaned_data
                    )
                except ServiceError as exc:
                    sell_form.add_error(
                        exc.field if exc.field in sell_form.fields else None, exc.message
                    )
                else:
                    self.message_user(
                        request,
                        _("Sold %(plan)s: take payment with 'Record a payment'.")
                        % {"plan": membership.plan.name}
                        if membership.status == Membership.Status.PENDING
                        else _("Sold %(plan)s.") % {"plan": membership.plan.name},
                    )
                    return redirect("admin:memberships_member_overview", member.pk)
        household = list(
            Member.objects.filter(Member.household_of(member.payer_id or member.pk))
            .exclude(pk=member.pk)
            .order_by("first_name")
        )
        memberships = list(
            Membership.objects.filter(member=member)
            .select_related("plan")
            .prefetch_related("freezes")
            .order_by("-start_date", "-pk")
        )
        history = (
            MembershipStatusChange.objects.filter(membership__member=member)
            .select_related("membership__plan", "actor")
            .order_by("-created_at", "-pk")[:30]
        )
        payer = member.billing_member
        invoices = Invoice.objects.filter(payer=payer).select_related("branch").order_by("-pk")[:30]
        payments = (
            Payment.objects.filter(payer=payer).select_related("invoice").order_by("-pk")[:30]
        )
        charges = PendingCharge.objects.filter(member=member, status="pending").order_by("pk")
        audit = AuditLog.objects.filter(
            Q(target_type="accounts.member", target_id=str(member.pk))
            | Q(
                target_type="memberships.membership",
                target_id__in=[str(m.pk) for m in memberships],
            )
        ).select_related("actor")[:20]
        context = {
            **self.admin_site.each_context(request),
            "title": member.full_name,
            "member": member,
            "payer": payer,
            "household": household,
            "memberships": memberships,
            "history": history,
            "invoices": invoices,
            "payments": payments,
            "charges": charges,
            "audit": audit,
            "deciding": selectors.membership_deciding(member=member, on=timezone.localdate()),
            "sell_form": sell_form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "memberships/admin/member_overview.html", context)
