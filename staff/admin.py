from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_actions import each
from accounts.admin_base import (
    ServiceAdminForm,
    ServiceAdminMixin,
    TenantAdmin,
    TenantTabularInline,
)
from accounts.models import TrainerProfile
from gymsite.errors import ServiceError
from staff import selectors, services
from staff.models import Employment, Invitation, PayLine, PayPeriod, PayRate, Shift


class InvitationForm(ServiceAdminForm):
    class Meta:
        model = Invitation
        fields = ["email", "role", "branches"]

    def perform(self, data):
        return services.invitation_create(
            actor=self.actor,
            email=data["email"],
            role=data["role"],
            branches=list(data.get("branches") or []),
        )


@admin.register(Invitation)
class InvitationAdmin(ServiceAdminMixin, TenantAdmin):
    """Staff from outside the gym join here: the invitee's case (new, a member here,
    a login elsewhere) is decided when they open the link, and not shown before."""

    form = InvitationForm
    list_display = ["email", "role", "branch_names", "status", "expires_at", "invited_by", "case"]
    list_filter = ["status", "role"]
    search_fields = ["email"]
    actions = ["resend", "revoke"]

    def get_queryset(self, request):
        return selectors.invitations_visible(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["email", "role", "branches", "status", "expires_at", "accepted_at", "case"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("branches"))
    def branch_names(self, obj):
        return ", ".join(branch.name for branch in obj.branches.all())

    def save_model(self, request, obj, form, change):
        obj.pk = form.performed.pk  # saved by the form's service call

    def save_related(self, request, form, formsets, change):
        pass

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, _("Invitation sent."), messages.SUCCESS)
        return redirect("admin:staff_invitation_changelist")

    @admin.action(description=_("Resend (a new link; the old one stops working)"))
    def resend(self, request, queryset):
        each(
            self,
            request,
            queryset,
            apply=lambda inv: services.invitation_resend(actor=request.user, invitation=inv),
            done_message=_("%(count)s invitations sent again."),
        )

    @admin.action(description=_("Revoke"))
    def revoke(self, request, queryset):
        each(
            self,
            request,
            queryset,
            apply=lambda inv: services.invitation_revoke(actor=request.user, invitation=inv),
            done_message=_("%(count)s invitations revoked."),
        )


class EndEmploymentForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)
    substitute = forms.ModelChoiceField(
        label=_("Substitute for their classes"),
        queryset=TrainerProfile.objects.filter(is_active=True),
        required=False,
        help_text=_("Empty: their future classes are left without a trainer and listed."),
    )


@admin.register(Employment)
class EmploymentAdmin(TenantAdmin):
    list_display = ["user", "started_at", "ended_at", "end_reason", "end_link"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    readonly_fields = ["user", "invitation", "started_at", "ended_at", "ended_by", "end_reason"]

    def has_add_permission(self, request):
        return False  # by invitation

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("offboarding"))
    def end_link(self, obj):
        if obj.ended_at:
            return ""
        url = reverse("admin:staff_employment_end", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("End employment…"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/end/",
                self.admin_site.admin_view(self.end_employment),
                name="staff_employment_end",
            ),
            *super().get_urls(),
        ]

    def end_employment(self, request, pk):
        employment = get_object_or_404(Employment.objects.select_related("user"), pk=pk)
        if not self.has_change_permission(request, employment):
            return redirect("admin:index")
        form = EndEmploymentForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                result = services.employment_end(
                    actor=request.user,
                    user=employment.user,
                    reason=form.cleaned_data["reason"],
                    substitute=form.cleaned_data["substitute"],
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Employment ended: their sessions and API tokens were revoked."),
                    messages.SUCCESS,
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("End employment"),
            "employment": employment,
            "form": form,
            "result": result,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "staff/admin/end_employment.html", context)


class PayRateForm(ServiceAdminForm):
    class Meta:
        model = PayRate
        fields = [
            "user",
            "kind",
            "class_type",
            "service",
            "amount",
            "per_attendee",
            "attendee_threshold",
            "percent",
            "currency",
            "effective_from",
        ]

    def perform(self, data):
        terms = {k: v for k, v in data.items() if k not in ("user", "kind", "effective_from")}
        return services.pay_rate_create(
            actor=self.actor,
            user=data["user"],
            kind=data["kind"],
            effective_from=data["effective_from"],
            **terms,
        )


@admin.register(PayRate)
class PayRateAdmin(ServiceAdminMixin, TenantAdmin):
    """Rates are added, never edited: a change is a new rate from its date on."""

    form = PayRateForm
    list_display = [
        "user",
        "kind",
        "class_type",
        "service",
        "amount",
        "per_attendee",
        "attendee_threshold",
        "percent",
        "effective_from",
    ]
    list_filter = ["kind"]
    list_select_related = ["user", "class_type", "service"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = form.performed.pk  # saved by the form's service call

    def save_related(self, request, form, formsets, change):
        pass


class ShiftPlanForm(ServiceAdminForm):
    class Meta:
        model = Shift
        fields = ["branch", "user", "starts_at", "ends_at", "notes"]

    def perform(self, data):
        return services.shift_plan(actor=self.actor, **data)


class ShiftCorrectForm(ServiceAdminForm):
    class Meta:
        model = Shift
        fields = ["clock_in_at", "clock_out_at", "correction_reason"]

    def perform(self, data):
        if not data.get("clock_out_at"):
            raise ServiceError(
                str(_("Enter the time the shift really ended.")), field="clock_out_at"
            )
        return services.shift_correct(
            actor=self.actor,
            shift=self.instance,
            clock_in_at=data.get("clock_in_at"),
            clock_out_at=data["clock_out_at"],
            reason=data.get("correction_reason", ""),
        )


class MissedClockOutFilter(admin.SimpleListFilter):
    title = _("clock-out")
    parameter_name = "missed"

    def lookups(self, request, model_admin):
        return [("yes", _("Missed (needs the real time)"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(clock_out_missed_at__isnull=False, clock_out_at__isnull=True)
        return queryset


@admin.register(Shift)
class ShiftAdmin(ServiceAdminMixin, TenantAdmin):
    list_display = [
        "user",
        "branch",
        "starts_at",
        "ends_at",
        "clock_in_at",
        "clock_out_at",
        "missed",
    ]
    list_filter = [MissedClockOutFilter, "branch"]
    list_select_related = ["user", "branch"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["user"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    actions = ["clock_in", "clock_out"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ShiftCorrectForm if obj is not None else ShiftPlanForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ShiftPlanForm._meta.fields
        return ["branch", "user", "starts_at", "ends_at", *ShiftCorrectForm._meta.fields]

    def get_readonly_fields(self, request, obj=None):
        return ["branch", "user", "starts_at", "ends_at"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("missed clock-out"), boolean=True)
    def missed(self, obj):
        return obj.clock_out_missed_at is not None and obj.clock_out_at is None

    def save_model(self, request, obj, form, change):
        obj.pk = form.performed.pk  # saved by the form's service call

    def save_related(self, request, form, formsets, change):
        pass

    @admin.action(description=_("Clock in now"))
    def clock_in(self, request, queryset):
        each(
            self,
            request,
            queryset,
            apply=lambda s: services.shift_clock_in(actor=request.user, shift=s),
            done_message=_("%(count)s clocked in."),
        )

    @admin.action(description=_("Clock out now"))
    def clock_out(self, request, queryset):
        each(
            self,
            request,
            queryset,
            apply=lambda s: services.shift_clock_out(actor=request.user, shift=s),
            done_message=_("%(count)s clocked out."),
        )


class PayLineInline(TenantTabularInline):
    model = PayLine
    fields = ["user", "kind", "work_date", "description", "quantity", "amount", "source", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["user", "work_date", "pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("from"))
    def source(self, obj):
        return f"{obj.source_type}#{obj.source_id}" if obj.source_id else "—"


class PayPeriodForm(ServiceAdminForm):
    class Meta:
        model = PayPeriod
        fields = ["branch", "starts_on", "ends_on"]

    def perform(self, data):
        return services.pay_period_create(actor=self.actor, **data)


@admin.register(PayPeriod)
class PayPeriodAdmin(ServiceAdminMixin, TenantAdmin):
    form = PayPeriodForm
    list_display = ["__str__", "status", "computed_at", "locked_total", "csv_link"]
    list_filter = ["status", "branch"]
    list_select_related = ["branch"]
    inlines = [PayLineInline]
    actions = ["compute", "approve", "reopen", "lock"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["branch", "starts_on", "ends_on", "status", "computed_at", "locked_total"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Added by the form's service call; nothing is edited in it later (actions are).
        if not change:
            obj.pk = form.performed.pk

    def save_related(self, request, form, formsets, change):
        pass

    @admin.display(description=_("export"))
    def csv_link(self, obj):
        url = reverse("admin:staff_payperiod_csv", args=[obj.pk])
        return format_html('<a href="{}">CSV</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:pk>/csv/",
                self.admin_site.admin_view(self.export_csv),
                name="staff_payperiod_csv",
            ),
            *super().get_urls(),
        ]

    def export_csv(self, request, pk):
        period = get_object_or_404(PayPeriod.objects.select_related("branch"), pk=pk)
        if not self.has_view_permission(request, period):
            return redirect("admin:index")
        response = HttpResponse(
            selectors.payroll_csv(period=period), content_type="text/csv; charset=utf-8"
        )
        filename = f"payroll-{period.branch.slug}-{period.starts_on.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(description=_("Compute from what happened"))
    def compute(self, request, queryset):
        each(
            self,
            request,
            queryset,
            apply=lambda p: services.pay_period_compute(period=p.pk, actor=request.user),
            done_message=_("%(count)s periods computed."),
        )

    @admin.action(description=_("Approve"))
    def approve(self, request, queryset):
        each(
            self,
            request,
            queryset,
            apply=lambda p: services.pay_period_approve(period=p.pk, actor=request.user),
            done_message=_("%(count)s periods approved."),
        )

    @admin.action(description=_("Reopen (approved only)"))
    def reopen(self, request, queryset):
        each(
            self,
            request,
            queryset,
            apply=lambda p: services.pay_period_reopen(period=p.pk, actor=request.user),
            done_message=_("%(count)s periods reopened."),
        )

    @admin.action(description=_("Lock for good"))
    def lock(self, request, queryset):
        each(
            self,
            request,
            queryset,
            apply=lambda p: services.pay_period_lock(period=p.pk, actor=request.user),
            done_message=_("%(count)s periods locked."),
        )


class AdjustmentForm(ServiceAdminForm):
    class Meta:
        model = PayLine
        fields = ["period", "user", "amount", "reason"]

    def perform(self, data):
        return services.pay_line_adjust(actor=self.actor, **data)


@admin.register(PayLine)
class PayLineAdmin(ServiceAdminMixin, TenantAdmin):
    """Computed lines are read only; "add" is a manager's adjustment with a reason."""

    form = AdjustmentForm
    list_display = ["user", "period", "kind", "work_date", "description", "amount"]
    list_filter = ["kind", "period__status"]
    list_select_related = ["user", "period__branch"]
    raw_id_fields = ["user"]
    search_fields = ["user__email", "description"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = form.performed.pk  # saved by the form's service call

    def save_related(self, request, form, formsets, change):
        pass
