"""Personal training: booking a trainer, cancelling, attendance, billing the price,
reminders. Each public function is one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from accounts.services import audit_record
from billing.models import PendingCharge
from billing.services import member_charge_add, member_charge_cancel
from bookings import selectors
from bookings.emails import recipient
from bookings.models import APPOINTMENT_ACTIVE, Appointment, AppointmentService
from bookings.penalties import no_show_fee_waive
from classes.locks import lock_trainer
from classes.selectors import CLASS, trainer_busy
from gymsite.errors import Conflict, ServiceError
from gymsite.outbox import email_enqueue

from . import selectors as appointment_selectors
from .availability import slot_is_available
from .selectors import APPOINTMENT

# The source of an appointment's price on the member's account (one per appointment).
APPOINTMENT_PRICE_SOURCE = "bookings.appointment.price"


def _appointment_context(appointment: Appointment) -> dict:
    local = appointment.starts_at.astimezone(ZoneInfo(appointment.branch.timezone))
    return {
        "member_name": appointment.member.first_name,
        "service_name": appointment.service.name,
        "trainer_name": appointment.trainer.display_name,
        "branch_name": appointment.branch.name,
        "starts_local": dateformat.format(local, "l j F Y, H:i"),
        "timezone": appointment.branch.timezone,
    }


def _notify_appointment(appointment: Appointment, template: str, dedupe: str) -> None:
    to = recipient(appointment.member)
    if not to:
        return
    email_enqueue(
        to=to,
        template=f"bookings/{template}",
        context=_appointment_context(appointment),
        organisation_id=appointment.organisation_id,
        dedupe_key=f"appointment-{appointment.pk}-{dedupe}",
    )


def _charge_appointment_fee(
    *, appointment: Appointment, amount: Decimal, kind: str, actor
) -> Decimal:
    """A late-cancel or no-show fee on the member's next invoice, as for classes."""
    if amount <= 0:
        return Decimal("0")
    labels = {"late_cancel": _("Late cancellation"), "no_show": _("No-show")}
    local = appointment.starts_at.astimezone(ZoneInfo(appointment.branch.timezone))
    member_charge_add(
        member=appointment.member,
        branch=appointment.branch,
        description=f"{labels[kind]}: {appointment.service.name} {local:%d/%m/%Y %H:%M}",
        amount=amount,
        source_type=f"bookings.appointment.{kind}",
        source_id=str(appointment.pk),
        actor=actor,
    )
    return amount


def _bill_appointment_price(appointment: Appointment, *, actor, now: datetime) -> None:
    """Put the appointment's price on the member's account (billed to their payer on
    the next invoice at the branch) and stamp ``billed_at``; a free one is only stamped.
    The charge's source makes it once per appointment, whoever asks."""
    appointment.billed_at = now
    if appointment.price <= 0:
        return
    local = appointment.starts_at.astimezone(ZoneInfo(appointment.branch.timezone))
    member_charge_add(
        member=appointment.member,
        branch=appointment.branch,
        description=f"{appointment.service.name}: {appointment.trainer.display_name} "
        f"{local:%d/%m/%Y %H:%M}",
        amount=appointment.price,
        source_type=APPOINTMENT_PRICE_SOURCE,
        source_id=str(appointment.pk),
        actor=actor,
    )


def _withdraw_appointment_price(appointment: Appointment, *, actor) -> None:
    """Take a waived appointment's price off the account if it is not invoiced yet
    (once invoiced, staff credit it on the invoice, as for any charge)."""
    charge = PendingCharge.objects.filter(
        source_type=APPOINTMENT_PRICE_SOURCE,
        source_id=str(appointment.pk),
        status=PendingCharge.Status.PENDING,
    ).first()
    if charge is not None:
        member_charge_cancel(charge=charge, actor=actor)


def appointments_bill_finished(*, now: datetime | None = None, limit: int = 500) -> int:
    """After an appointment ends its price goes on the member's account, attended or
    not (a no-show used the trainer's time as a late cancellation does). Each is
    claimed with a conditional UPDATE on ``billed_at``, so two runs bill it once.
    Returns how many were charged."""
    now = now or timezone.now()
    due = list(
        Appointment.objects.filter(APPOINTMENT_ACTIVE, billed_at__isnull=True, ends_at__lte=now)
        .select_related("member", "member__payer", "service", "trainer", "branch")
        .order_by("ends_at")[:limit]
    )
    charged = 0
    for appointment in due:
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                APPOINTMENT_ACTIVE, pk=appointment.pk, billed_at__isnull=True
            ).update(billed_at=now)
            if claimed:
                _bill_appointment_price(appointment, actor=None, now=now)
                charged += appointment.price > 0
    return charged


def _lock_appointment(appointment: Appointment | int) -> Appointment:
    appointment_id = appointment if isinstance(appointment, int) else appointment.pk
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("service", "trainer", "branch", "member", "member__payer")
        .get(pk=appointment_id)
    )


@transaction.atomic
def appointment_book(
    *,
    service: AppointmentService,
    trainer,
    member: Member,
    branch,
    starts_at: datetime,
    actor: User | None,
    notes: str = "",
    check_availability: bool = True,
) -> Appointment:
    """Book a trainer for a slot. Neither the trainer nor the member may be double-booked.

    Two guards: the trainer's and the member's rows are locked (trainer first, then
    member) so concurrent requests queue, and two exclusion constraints on
    (id range, time range) reject any overlap in the database itself.
    """
    if not service.is_active:
        raise ServiceError(_("This service is not offered any more."), code="service_inactive")
    if starts_at <= timezone.now():
        raise ServiceError(_("Pick a time in the future."), code="in_the_past", field="starts_at")
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    if check_availability and not slot_is_available(
        trainer=trainer, branch=branch, starts_at=starts_at, ends_at=ends_at
    ):
        raise ServiceError(
            _("The trainer is not available at that time."),
            code="trainer_unavailable",
            field="starts_at",
        )
    lock_trainer(trainer.pk)
    Member.objects.select_for_update().get(pk=member.pk)
    when = {"trainer_id": trainer.pk, "starts_at": starts_at, "ends_at": ends_at}
    if trainer_busy(**when, order=(APPOINTMENT,)):
        raise Conflict(_("That slot has just been taken."), code="slot_taken", field="starts_at")
    if Appointment.objects.filter(
        APPOINTMENT_ACTIVE, member=member, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists():
        raise Conflict(
            _("You already have an appointment at that time."),
            code="member_overlap",
            field="starts_at",
        )
    if trainer_busy(**when, order=(CLASS,)):
        raise Conflict(_("The trainer teaches a class then."), code="slot_taken", field="starts_at")
    appointment = Appointment(
        service=service,
        trainer=trainer,
        member=member,
        branch=branch,
        starts_at=starts_at,
        ends_at=ends_at,
        booked_by=actor if actor is not None and actor.is_authenticated else None,
        notes=notes,
        price=service.price,
    )
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError:
        raise Conflict(_("That slot has just been taken."), code="slot_taken") from None
    _notify_appointment(appointment, "appointment_confirmed", "confirmed")
    return appointment


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment | int,
    actor: User | None,
    waive_penalty: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Cancel an appointment. Before the service's cut-off: ``cancelled``. After it:
    ``late_cancelled`` and the late-cancellation fee (if the rules have one) goes on
    the member's next invoice, unless staff waive it (audited)."""
    now = now or timezone.now()
    appointment = _lock_appointment(appointment)
    if appointment.status != Appointment.Status.BOOKED:
        raise Conflict(_("This appointment can no longer be cancelled."), code="not_cancellable")
    if appointment.starts_at <= now and not waive_penalty:
        raise ServiceError(_("The appointment has already started."), code="already_started")
    rules = appointment_selectors.appointment_rules(service=appointment.service)
    late = now > rules.cancel_free_until(appointment)
    appointment.status = Appointment.Status.LATE_CANCELLED if late else Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    if late and not waive_penalty:
        appointment.fee_charged = _charge_appointment_fee(
            appointment=appointment, amount=rules.late_cancel_fee, kind="late_cancel", actor=actor
        )
        # Too late for the trainer to fill the slot: its price is due, as if it ended.
        _bill_appointment_price(appointment, actor=actor, now=now)
    elif appointment.billed_at is not None:
        # Waived after the billing job ran (the appointment has ended): no price either.
        _withdraw_appointment_price(appointment, actor=actor)
    appointment.save(update_fields=["status", "cancelled_at", "fee_charged", "billed_at"])
    if waive_penalty:
        audit_record(actor=actor, action="appointment.cancel_waived", target=appointment)
    return appointment


def appointment_mark(
    *,
    appointment: Appointment | int,
    attended: bool,
    actor: User | None,
    now: datetime | None = None,
) -> Appointment:
    """The trainer marks attended or no-show (a no-show may be corrected to attended).

    A no-show costs the service's no-show fee, if the rules have one; correcting it
    to attended cancels the fee if it has not been invoiced yet."""
    now = now or timezone.now()
    appointment = _lock_appointment(appointment)
    allowed_from = (
        (Appointment.Status.BOOKED, Appointment.Status.NO_SHOW)
        if attended
        else (Appointment.Status.BOOKED,)
    )
    if appointment.status not in allowed_from:
        raise Conflict(_("This appointment cannot be marked."), code="invalid_transition")
    if appointment.starts_at - timedelta(minutes=30) > now:
        raise ServiceError(_("Attendance is taken once the appointment starts."), code="too_early")
    if appointment.status == Appointment.Status.NO_SHOW and appointment.fee_charged > 0:
        no_show_fee_waive(appointment, actor)
    appointment.status = Appointment.Status.ATTENDED if attended else Appointment.Status.NO_SHOW
    appointment.attendance_marked_at = now
    if not attended:
        rules = appointment_selectors.appointment_rules(service=appointment.service)
        appointment.fee_charged = _charge_appointment_fee(
            appointment=appointment, amount=rules.no_show_fee, kind="no_show", actor=actor
        )
    appointment.save(update_fields=["status", "attendance_marked_at", "fee_charged"])
    return appointment


def appointments_send_reminders(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Email a reminder once per appointment, N hours before it (the service's rule,
    else the gym's). Claimed with a conditional UPDATE, so two runs send one email."""
    now = now or timezone.now()
    candidates = list(
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            reminder_sent_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=168),
        )
        .select_related("member", "member__payer", "service", "trainer", "branch")
        .order_by("starts_at")[:limit]
    )
    if not candidates:
        return 0
    gym_rules = selectors.default_policy()
    rules_by_service: dict[int, appointment_selectors.AppointmentRules] = {}
    sent = 0
    for appointment in candidates:
        if appointment.service_id not in rules_by_service:
            rules_by_service[appointment.service_id] = appointment_selectors.appointment_rules(
                service=appointment.service, default=gym_rules
            )
        hours = rules_by_service[appointment.service_id].reminder_hours
        if appointment.starts_at - timedelta(hours=hours) > now:
            continue
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                pk=appointment.pk,
                status=Appointment.Status.BOOKED,
                reminder_sent_at__isnull=True,
            ).update(reminder_sent_at=now)
            if claimed:
                _notify_appointment(
                    appointment,
                    "appointment_reminder",
                    f"reminder-{int(appointment.starts_at.timestamp())}",
                )
                sent += 1
    return sent
