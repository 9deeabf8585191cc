"""Back office for access control: devices (keys shown once), credentials, the log."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import RangeDateTimeFilter, RelatedDropdownFilter

from access import credentials as creds
from access import selectors, services
from access.models import AccessDevice, AccessLog, AccessPolicy, Credential, Result
from accounts.admin_base import MemberSearchMixin, TenantAdmin, recent_window_filter
from gymsite.errors import ServiceError

ALERT_WINDOW = timedelta(hours=24)
ALERT_THRESHOLD = 3


class FlaggedFilter(admin.SimpleListFilter):
    title = _("flagged")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("Flagged")), ("no", _("Not flagged"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(flagged_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(flagged_at__isnull=True)
        return queryset


@admin.register(AccessDevice)
class AccessDeviceAdmin(TenantAdmin):
    list_display = [
        "name",
        "branch",
        "kind",
        "direction",
        "status",
        "key_rotated_at",
        "last_seen",
        "flag",
    ]
    list_filter = [FlaggedFilter, "status", "kind", ("branch", RelatedDropdownFilter)]
    list_select_related = ["branch"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = [
        "status",
        "key_prefix",
        "key_rotated_at",
        "revoked_at",
        "last_seen_at",
        "flagged_at",
        "flag_reason",
    ]
    actions = ["rotate_keys", "revoke", "clear_flag"]

    @admin.display(description=_("flagged"), ordering="flagged_at")
    def flag(self, obj):
        return f"⚠ {obj.flag_reason}" if obj.flagged_at else "—"

    def changelist_view(self, request, extra_context=None):
        flagged = self.get_queryset(request).filter(flagged_at__isnull=False)
        for device in flagged.order_by("-flagged_at")[:5]:
            self.message_user(
                request,
                _("Flagged: %(device)s, %(reason)s (%(at)s).")
                % {"device": device, "reason": device.flag_reason, "at": device.flagged_at},
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Clear the flag (after looking into it)"))
    def clear_flag(self, request, queryset):
        devices = list(queryset.filter(flagged_at__isnull=False).order_by("pk"))
        for device in devices:
            services.device_clear_flag(device=device, actor=request.user)
        self.message_user(
            request,
            ngettext("%(n)d flag cleared.", "%(n)d flags cleared.", len(devices))
            % {"n": len(devices)},
            messages.SUCCESS,
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["branch", "name", "kind", "direction"]
        return ["branch", "name", "kind", "direction", *self.readonly_fields]

    @admin.display(description=_("last seen"), ordering="last_seen_at")
    def last_seen(self, obj):
        if not obj.last_seen_at:
            return _("never")
        return _("%(ago)s ago") % {"ago": timesince(obj.last_seen_at)}

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        issued = services.device_register(
            branch=obj.branch,
            name=obj.name,
            kind=obj.kind,
            direction=obj.direction,
            actor=request.user,
        )
        obj.pk = issued.device.pk
        obj.organisation_id = issued.device.organisation_id
        obj._state.adding = False
        self.message_user(
            request,
            _("Device key for %(device)s (shown only now, copy it into the device): %(key)s")
            % {"device": issued.device, "key": issued.key},
            messages.WARNING,
        )

    @admin.action(description=_("Rotate the key (the old key stops working)"))
    def rotate_keys(self, request, queryset):
        for device in queryset.order_by("pk"):
            issued = services.device_rotate_key(device=device, actor=request.user)
            self.message_user(
                request,
                _("New key for %(device)s (shown only now): %(key)s")
                % {"device": device, "key": issued.key},
                messages.WARNING,
            )

    @admin.action(description=_("Revoke (the device is refused at once)"))
    def revoke(self, request, queryset):
        devices = list(queryset.order_by("pk"))
        for device in devices:
            services.device_revoke(device=device, actor=request.user)
        self.message_user(
            request,
            ngettext("%(n)d device revoked.", "%(n)d devices revoked.", len(devices))
            % {"n": len(devices)},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request, obj=None):
        # Devices are referenced by the log: revoke instead.
        return False


@admin.register(AccessPolicy)
class AccessPolicyAdmin(TenantAdmin):
    list_display = [
        "branch",
        "anti_passback_minutes",
        "reentry_minutes",
        "class_arrival_minutes",
        "occupancy_hours",
    ]
    list_select_related = ["branch"]


class CardCredentialForm(forms.ModelForm):
    class Meta:
        model = Credential
        fields = ["member", "number", "label"]

    def clean_number(self):
        number = creds.card_number_normalise(self.cleaned_data["number"])
        if not number:
            raise forms.ValidationError(_("Enter the card number."))
        taken = Credential.objects.filter(
            kind=Credential.Kind.CARD, status=Credential.Status.ACTIVE, number=number
        )
        if taken.exists():
            raise forms.ValidationError(_("This card is already registered to a member."))
        return number


@admin.register(Credential)
class CredentialAdmin(TenantAdmin):
    list_display = ["__str__", "member", "kind", "status", "label", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["member"]
    search_fields = ["number", "member__first_name", "member__last_name", "member__email"]
    raw_id_fields = ["member"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CardCredentialForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["member", "number", "label"]
        return ["member", "kind", "number", "label", "status", "created_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["member", "kind", "number", "status", "created_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["label", "updated_at"])
            return
        try:
            credential = services.credential_card_register(
                member=obj.member,
                number=obj.number,
                label=obj.label,
                actor=request.user,
            )
        except ServiceError as exc:
            # Lost a race for the same card number after the form checked it.
            self.message_user(request, exc.message, messages.ERROR)
            raise
        obj.pk = credential.pk
        obj.organisation_id = credential.organisation_id
        obj._state.adding = False

    @admin.action(description=_("Revoke (refused at the next scan)"))
    def revoke(self, request, queryset):
        credentials = list(queryset.filter(status=Credential.Status.ACTIVE).order_by("pk"))
        for credential in credentials:
            services.credential_revoke(credential=credential, actor=request.user)
        self.message_user(
            request,
            ngettext("%(n)d credential revoked.", "%(n)d credentials revoked.", len(credentials))
            % {"n": len(credentials)},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request, obj=None):
        return False


class AlertFilter(admin.SimpleListFilter):
    """Denied-attempt alerts: members refused again and again, or a reader being probed
    with unknown credentials, in the last 24 hours."""

    title = _("alerts")
    parameter_name = "alert"

    def lookups(self, request, model_admin):
        return [
            ("repeated", _("Members refused %(n)d+ times (24 h)") % {"n": ALERT_THRESHOLD}),
            ("unknown", _("Unknown credentials (24 h)")),
        ]

    def queryset(self, request, queryset):
        since = timezone.now() - ALERT_WINDOW
        recent_denied = queryset.filter(result=Result.DENIED, occurred_at__gte=since)
        if self.value() == "repeated":
            members = (
                AccessLog.objects.filter(
                    result=Result.DENIED, occurred_at__gte=since, member__isnull=False
                )
                .values("member_id")
                .annotate(n=Count("id"))
                .filter(n__gte=ALERT_THRESHOLD)
                .values("member_id")
            )
            return recent_denied.filter(member_id__in=members)
        if self.value() == "unknown":
            return recent_denied.filter(member__isnull=True)
        return queryset


class DeviceDropdownFilter(RelatedDropdownFilter):
    """The device choices, each named with its branch, in one query (not one per device)."""

    def field_choices(self, field, request, model_admin):
        devices = AccessDevice.objects.select_related("branch").order_by("branch__name", "name")
        return [(device.pk, str(device)) for device in devices]


@admin.register(AccessLog)
class AccessLogAdmin(MemberSearchMixin, TenantAdmin):
    list_display = [
        "occurred_at",
        "branch",
        "device",
        "member",
        "direction",
        "result_badge",
        "reason",
        "source",
        "entry_consumed",
    ]
    list_filter = [
        AlertFilter,
        recent_window_filter("occurred_at"),
        ("occurred_at", RangeDateTimeFilter),
        ("branch", RelatedDropdownFilter),
        ("device", DeviceDropdownFilter),
        "result",
        "reason",
        "source",
    ]
    list_filter_submit = True
    list_select_related = ["branch", "device__branch", "member"]
    search_fields = ["member__last_name", "member__email", "request_id"]
    search_help_text = _("A member's name or email, or a device request id.")
    exact_search_fields = ("request_id",)
    raw_id_fields = ["member", "device", "credential", "membership", "staff"]

    @admin.display(description=_("result"), ordering="result")
    def result_badge(self, obj):
        return ("✔ " if obj.result == Result.GRANTED else "✖ ") + obj.get_result_display()

    def changelist_view(self, request, extra_context=None):
        alerts = selectors.denied_alerts(
            since=timezone.now() - ALERT_WINDOW, threshold=ALERT_THRESHOLD
        )
        for alert in alerts[:5]:
            who = (
                f"{alert['member__first_name']} {alert['member__last_name']}"
                if alert["member_id"]
                else _("unknown credentials")
            )
            self.message_user(
                request,
                _("Alert: %(who)s refused %(n)d times at %(branch)s in 24 h (%(reason)s).")
                % {
                    "who": who,
                    "n": alert["attempts"],
                    "branch": alert["branch__name"],
                    "reason": alert["reason"],
                },
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
