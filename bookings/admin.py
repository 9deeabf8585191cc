from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.utils import dateformat
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import (
    MemberSearchMixin,
    ServiceAdminForm,
    ServiceAdminMixin,
    TenantAdmin,
    TenantTabularInline,
)
from bookings import services
from bookings.models import (
    Appointment,
    AppointmentService,
    Booking,
    BookingPolicy,
    CalendarFeed,
    TrainerAvailability,
)
from classes import hooks as class_hooks
from gymsite.errors import ServiceError


@class_hooks.session_admin_inline_register
class RosterInline(TenantTabularInline):
    """The roster and waitlist on a class session's admin page (the session's admin is
    the timetable's; it shows the inlines registered in ``classes.hooks``)."""

    model = Booking
    fields = ["member", "status", "arrival", "is_override", "booked_by", "created_at"]
    readonly_fields = fields
    ordering = ["status", "arrival"]
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("Roster and waitlist")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "booked_by")


@admin.register(BookingPolicy)
class BookingPolicyAdmin(TenantAdmin):
    list_display = [
        "__str__",
        "booking_opens_days",
        "cancellation_cutoff_minutes",
        "late_cancel_penalty",
        "no_show_penalty",
        "promotion_cutoff_minutes",
        "waitlist_enabled",
    ]
    list_select_related = ["class_type"]
    autocomplete_fields = ["class_type"]


class StaffBookingForm(ServiceAdminForm):
    """Staff booking: overrides the booking rules (never the capacity) and says why."""

    override_reason = forms.CharField(
        label=_("Reason for the override"), max_length=255, required=True
    )

    class Meta:
        model = Booking
        fields = ["session", "member", "override_reason"]

    def perform(self, data):
        return services.booking_create(
            session=data["session"].pk,
            member=data["member"],
            actor=self.actor,
            override=True,
            override_reason=data["override_reason"],
        )


class WaitlistFilter(admin.SimpleListFilter):
    title = _("list")
    parameter_name = "list"

    def lookups(self, request, model_admin):
        return [("roster", _("Roster (booked, attended)")), ("waitlist", _("Waitlist"))]

    def queryset(self, request, queryset):
        if self.value() == "roster":
            return queryset.filter(status__in=[Booking.Status.BOOKED, Booking.Status.ATTENDED])
        if self.value() == "waitlist":
            return queryset.filter(status=Booking.Status.WAITLISTED).order_by("session", "arrival")
        return queryset


@admin.register(Booking)
class BookingAdmin(MemberSearchMixin, ServiceAdminMixin, TenantAdmin):
    list_display = [
        "member",
        "session_name",
        "session_start",
        "status",
        "arrival",
        "is_override",
        "fee_charged",
    ]
    list_filter = [
        WaitlistFilter,
        "status",
        "is_override",
        "session__branch",
        "session__class_type",
    ]
    list_select_related = ["member", "session", "session__class_type", "session__branch"]
    search_fields = ["member__first_name", "member__last_name", "member__email"]
    search_help_text = _("The member's name or email.")
    # Newest first by the primary key: ordering by the session's start is a sort of
    # the whole join at hundreds of thousands of bookings.
    ordering = ["-pk"]
    raw_id_fields = ["session"]
    autocomplete_fields = ["member"]
    actions = ["promote", "cancel_waived", "mark_attended", "mark_no_show"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StaffBookingForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["session", "member", "override_reason"]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # State changes only through the actions below (services), never by editing.
        return [f.name for f in Booking._meta.fields if f.name != "id"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        obj.pk, obj.status = form.performed.pk, form.performed.status

    def save_related(self, request, form, formsets, change):
        pass

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Class"), ordering="session__class_type__name")
    def session_name(self, obj):
        return obj.session.class_type.name

    @admin.display(description=_("Starts (local)"), ordering="session__starts_at")
    def session_start(self, obj):
        tz = ZoneInfo(obj.session.branch.timezone)
        return dateformat.format(obj.session.starts_at.astimezone(tz), "D j M H:i")

    def _run(self, request, queryset, action, done_text):
        done, errors = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                action(pk)
                done += 1
            except ServiceError as exc:
                errors.append(f"#{pk}: {exc.message}")
        if done:
            self.message_user(request, done_text % {"n": done}, messages.SUCCESS)
        for error in errors[:10]:
            self.message_user(request, error, messages.WARNING)

    @admin.action(description=_("Promote from the waitlist into a free place"))
    def promote(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda pk: services.booking_promote(booking=pk, actor=request.user),
            _("%(n)s promoted."),
        )

    @admin.action(description=_("Cancel without penalty"))
    def cancel_waived(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda pk: services.booking_cancel(
                booking=pk, actor=request.user, waive_penalty=True, reason="staff"
            ),
            _("%(n)s cancelled."),
        )

    @admin.action(description=_("Mark attended"))
    def mark_attended(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda pk: services.booking_mark_attended(booking=pk, actor=request.user),
            _("%(n)s marked attended."),
        )

    @admin.action(description=_("Mark no-show"))
    def mark_no_show(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda pk: services.booking_mark_no_show(booking=pk, actor=request.user),
            _("%(n)s marked as no-show."),
        )


@admin.register(AppointmentService)
class AppointmentServiceAdmin(TenantAdmin):
    list_display = [
        "name",
        "duration_minutes",
        "price",
        "currency",
        "cancellation_cutoff_minutes",
        "late_cancel_fee",
        "no_show_fee",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(TrainerAvailability)
class TrainerAvailabilityAdmin(TenantAdmin):
    list_display = [
        "trainer",
        "branch",
        "weekday",
        "start_time",
        "end_time",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["branch", "weekday", "trainer"]
    list_select_related = ["trainer", "branch"]
    autocomplete_fields = ["trainer"]


class AppointmentBookForm(ServiceAdminForm):
    """Staff book a slot for a member: the service checks the trainer and the member
    are free (outside the trainer's published hours is allowed for staff)."""

    class Meta:
        model = Appointment
        fields = ["service", "trainer", "member", "branch", "starts_at", "notes"]

    def perform(self, data):
        return services.appointment_book(
            service=data["service"],
            trainer=data["trainer"],
            member=data["member"],
            branch=data["branch"],
            starts_at=data["starts_at"],
            actor=self.actor,
            notes=data.get("notes", ""),
            check_availability=False,
        )


@admin.register(Appointment)
class AppointmentAdmin(ServiceAdminMixin, TenantAdmin):
    list_display = ["starts_at", "service", "trainer", "member", "branch", "status", "price"]
    list_filter = ["status", "branch", "trainer", "service"]
    list_select_related = ["service", "trainer", "member", "branch"]
    autocomplete_fields = ["trainer", "member"]
    date_hierarchy = "starts_at"
    readonly_fields = [
        "status",
        "cancelled_at",
        "booked_by",
        "created_at",
        "ends_at",
        "price",
        "billed_at",
        "fee_charged",
        "attendance_marked_at",
    ]
    actions = ["cancel", "cancel_waived"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AppointmentBookForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Another time, trainer or member is another booking: cancel and book again
            # (the service checks who is free); only the notes are edited here.
            fields += ["service", "trainer", "member", "branch", "starts_at"]
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.pk = form.performed.pk

    def has_delete_permission(self, request, obj=None):
        return False

    def _cancel(self, request, queryset, *, waive_penalty: bool):
        done = 0
        for pk in queryset.filter(status=Appointment.Status.BOOKED).values_list("pk", flat=True):
            try:
                services.appointment_cancel(
                    appointment=pk, actor=request.user, waive_penalty=waive_penalty
                )
            except ServiceError as exc:
                self.message_user(request, f"#{pk}: {exc.message}", messages.WARNING)
            else:
                done += 1
        self.message_user(request, _("%(n)s cancelled.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Cancel appointments (late-cancellation rules apply)"))
    def cancel(self, request, queryset):
        self._cancel(request, queryset, waive_penalty=False)

    @admin.action(description=_("Cancel appointments without penalty"))
    def cancel_waived(self, request, queryset):
        self._cancel(request, queryset, waive_penalty=True)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(TenantAdmin):
    list_display = ["member", "created_at"]
    list_select_related = ["member"]
    search_fields = ["member__first_name", "member__last_name"]
    readonly_fields = ["member", "token", "created_at"]

    def has_add_permission(self, request):
        return False
