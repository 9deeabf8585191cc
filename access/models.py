"""Door and turnstile access: devices, member credentials, the access log.

The access log is the platform's highest-volume table (every attempt at every door).
It is append-only, indexed for the two questions asked of it ("a member's visits",
"a branch's day") plus a BRIN index on time, and carries no more foreign-key indexes
than those questions need, so each insert stays cheap. docs/access.md explains how
it would be partitioned by month.
"""

from __future__ import annotations

import secrets

from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel


class AccessDevice(TenantModel):
    """A turnstile, door controller or kiosk at one branch, with its own API key.

    Only a SHA-256 hash of the key is stored (the key is 32 random bytes, so a fast
    hash is safe; a slow password hash would cost every check-in milliseconds). The
    key's prefix is stored in clear to find the device in one indexed lookup.
    """

    class Kind(models.TextChoices):
        TURNSTILE = "turnstile", _("Turnstile")
        DOOR = "door", _("Door")
        KIOSK = "kiosk", _("Kiosk")

    class Direction(models.TextChoices):
        ENTRY = "in", _("Entry")
        EXIT = "out", _("Exit")
        BOTH = "both", _("Entry and exit")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.PROTECT, related_name="access_devices"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.TURNSTILE)
    direction = models.CharField(
        _("direction"),
        max_length=4,
        choices=Direction.choices,
        default=Direction.ENTRY,
        help_text=_("Which way people pass. 'Both' devices say so in each request."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    key_rotated_at = models.DateTimeField(_("key issued"), default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    # Set when the device floods with invalid keys or unknown credentials
    # (access.services.device_flag); staff clear it once they have looked.
    flagged_at = models.DateTimeField(_("flagged"), null=True, blank=True, editable=False)
    flag_reason = models.CharField(_("why flagged"), max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("access device")
        verbose_name_plural = _("access devices")
        ordering = ["branch__name", "name"]

    def __str__(self):
        return f"{self.name} ({self.branch})" if self.branch_id else self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class AccessPolicy(TenantModel):
    """Per-branch access rules. A branch without a row uses the defaults."""

    branch = models.OneToOneField(
        "accounts.Branch", on_delete=models.CASCADE, related_name="access_policy"
    )
    anti_passback_minutes = models.PositiveSmallIntegerField(
        _("anti-passback (minutes)"),
        default=0,
        help_text=_(
            "Refuse a second entry with the same credential within this many minutes "
            "unless the member has checked out. 0 turns anti-passback off."
        ),
    )
    reentry_minutes = models.PositiveSmallIntegerField(
        _("re-entry window (minutes)"),
        default=240,
        help_text=_(
            "A member coming back within this time is on the same visit: a "
            "limited-entry ticket is not charged a second entry."
        ),
    )
    class_arrival_minutes = models.PositiveSmallIntegerField(
        _("class arrival window (minutes)"),
        default=30,
        help_text=_("A check-in this long before a booked class marks the booking attended."),
    )
    occupancy_hours = models.PositiveSmallIntegerField(
        _("assume left after (hours)"),
        default=4,
        help_text=_("Members who never check out stop counting as inside after this long."),
    )

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("access policy")
        verbose_name_plural = _("access policies")

    def __str__(self):
        return str(self.branch)


def new_qr_secret() -> str:
    return secrets.token_hex(32)


class Credential(TenantModel):
    """Something a member opens the door with: their rotating QR code or a card.

    A QR credential holds a random secret; the code shown to the member is an HMAC
    of the credential id and the current time window under that secret
    (``access.credentials``), so a screenshot stops working within minutes and
    rotating or revoking the credential kills every code made from it. A card
    credential is its RFID/card number.
    """

    class Kind(models.TextChoices):
        QR = "qr", _("QR code")
        CARD = "card", _("Card / RFID")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.PROTECT, related_name="access_credentials"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # The card number for cards; empty for QR credentials.
    number = models.CharField(_("card number"), max_length=64, blank=True)
    secret = models.CharField(max_length=64, default=new_qr_secret, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"],
                condition=Q(kind="card", status="active"),
                name="access_card_number_unique_active",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(kind="qr", status="active"),
                name="access_one_active_qr_per_member",
            ),
            models.CheckConstraint(
                condition=Q(kind="qr") | ~Q(number=""), name="access_card_has_number"
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.CARD:
            return f"{self.get_kind_display()} {self.number}"
        return f"{self.get_kind_display()} #{self.pk}"


class Result(models.TextChoices):
    GRANTED = "granted", _("Granted")
    DENIED = "denied", _("Denied")


class Reason(models.TextChoices):
    """Why an attempt was decided as it was: machine-readable, shown to staff."""

    OK = "ok", _("Allowed")
    REENTRY = "reentry", _("Re-entry on the same visit")
    CHECKOUT = "checkout", _("Checked out")
    MANUAL = "manual", _("Manual check-in by staff")
    UNKNOWN_CREDENTIAL = "unknown_credential", _("Unknown credential")
    CODE_EXPIRED = "code_expired", _("QR code expired")
    NO_MEMBERSHIP = "no_membership", _("No membership")
    PENDING = "pending", _("Membership not started or awaiting payment")
    FROZEN = "frozen", _("Membership frozen")
    PAST_DUE = "past_due", _("Payment overdue")
    SUSPENDED = "suspended", _("Membership suspended")
    CANCELLED = "cancelled", _("Membership cancelled")
    EXPIRED = "expired", _("Membership expired")
    BRANCH_NOT_INCLUDED = "branch_not_included", _("Branch not included in plan")
    OUTSIDE_PLAN_HOURS = "outside_plan_hours", _("Outside the plan's hours")
    BRANCH_CLOSED = "branch_closed", _("Branch closed")
    NO_ENTRIES_LEFT = "no_entries_left", _("No entries left")
    ALREADY_INSIDE = "already_inside", _("Already inside (anti-passback)")


class AccessLog(TenantModel):
    """One attempt to pass a door, granted or denied. Append-only.

    ``request_id`` is the device's idempotency key: a device retrying the same
    request (or uploading the same offline decision twice) hits the unique
    constraint of ``AccessRequest`` on (device, request_id), written by the same
    statement, and only the first attempt counts.

    The table is range-partitioned by month on ``occurred_at`` (migration 0002;
    ``access.partitions`` creates months ahead and detaches old ones): its primary
    key in the database is (id, occurred_at), and a unique constraint would have to
    include the time, hence the separate key table.
    """

    class Direction(models.TextChoices):
        ENTRY = "in", _("Entry")
        EXIT = "out", _("Exit")

    class Source(models.TextChoices):
        ONLINE = "online", _("Device, online")
        OFFLINE = "offline", _("Device, offline upload")
        KIOSK = "kiosk", _("Front desk scan")
        MANUAL = "manual", _("Manual check-in")

    # Redeclared without its own index: the composite indexes below lead with the
    # columns every query filters on, and each extra index costs every insert.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    device = models.ForeignKey(
        AccessDevice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    member = models.ForeignKey(
        "accounts.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    credential = models.ForeignKey(
        Credential,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    membership = models.ForeignKey(
        "memberships.Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.ENTRY
    )
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.ONLINE
    )
    entry_consumed = models.BooleanField(_("entry used"), default=False)
    request_id = models.CharField(max_length=64, null=True, blank=True)
    # What a device presented, for unknown credentials (truncated; never a secret).
    presented = models.CharField(_("presented"), max_length=64, blank=True)
    staff = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-occurred_at"]
        indexes = [
            # A replayed request finds its original attempt.
            models.Index(
                fields=["device", "request_id"],
                condition=Q(request_id__isnull=False),
                name="access_log_request",
            ),
            # A member's visits (portal, anti-passback, re-entry): newest first.
            models.Index(fields=["member", "-occurred_at"], name="access_log_member_time"),
            # A branch's day (occupancy, the kiosk, admin by branch).
            models.Index(fields=["branch", "-occurred_at"], name="access_log_branch_time"),
            # The organisation's latest attempts (admin list, alerts, reports).
            models.Index(fields=["organisation", "-occurred_at"], name="access_log_org_time"),
            # Refusals (one attempt in twenty): the alerts on every log page and the
            # admin's result filter, without reading the grants between them.
            models.Index(
                fields=["organisation", "-occurred_at"],
                condition=Q(result="denied"),
                name="access_log_denied_time",
            ),
            # Range scans over time across gyms (retention, archiving) stay cheap
            # at hundreds of millions of rows: rows arrive in time order.
            BrinIndex(fields=["occurred_at"], name="access_log_time_brin"),
        ]

    def __str__(self):
        when = f"{self.occurred_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.get_result_display()}: {self.get_reason_display()}"

    @property
    def granted(self) -> bool:
        return self.result == Result.GRANTED


class AccessRequest(models.Model):
    """A device request id, once per device across every month of the access log.

    Written by the log's INSERT (one statement: both rows or neither), so a retried
    request or a re-uploaded offline decision fails on this unique constraint and
    the first attempt's log row is returned. ``occurred_at`` is the log row's, so
    retention can drop the keys of the months it detaches.
    """

    device = models.ForeignKey(
        AccessDevice, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    request_id = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "request_id"], name="access_request_once")
        ]
        indexes = [BrinIndex(fields=["occurred_at"], name="access_request_time_brin")]

    def __str__(self):
        return self.request_id
