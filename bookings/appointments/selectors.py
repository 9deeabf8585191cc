"""Read-side questions about personal training: the rules in force for a service, the
trainer's and members' appointments, and what keeps a trainer busy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import APPOINTMENT_ACTIVE, Appointment, AppointmentService, BookingPolicy
from bookings.selectors import default_policy
from classes.hooks import TrainerCommitment

APPOINTMENT = "appointment"


def appointments_overlapping(*, trainer_id: int, starts_at: datetime, ends_at: datetime):
    """The trainer's appointments that hold the time (as the exclusion constraint), in
    every branch of the gym (``classes.selectors.trainer_classes`` says why)."""
    return Appointment.objects.across_branches().filter(
        APPOINTMENT_ACTIVE, trainer_id=trainer_id, starts_at__lt=ends_at, ends_at__gt=starts_at
    )


# A trainer's personal training keeps them busy for the timetable's "is the trainer
# busy?" (``classes.selectors.trainer_busy``); registered in ``BookingsConfig.ready``.
APPOINTMENTS_COMMITMENT = TrainerCommitment(
    kind=APPOINTMENT,
    overlapping=appointments_overlapping,
    busy_message=gettext_lazy("The trainer has a personal training appointment then."),
)


def trainer_appointments(*, trainer, start: datetime, end: datetime) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(trainer=trainer, starts_at__gte=start, starts_at__lt=end)
        .select_related("member", "service", "branch")
        .order_by("starts_at")
    )


def member_appointments(*, members) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(member__in=members)
        .select_related("member", "service", "trainer", "branch")
        .order_by("-starts_at")
    )


@dataclass(frozen=True)
class AppointmentRules:
    """The rules in force for a service: its own, else the gym's default booking rules."""

    cancellation_cutoff_minutes: int
    late_cancel_fee: Decimal
    no_show_fee: Decimal
    reminder_hours: int

    def cancel_free_until(self, appointment: Appointment) -> datetime:
        return appointment.starts_at - timedelta(minutes=self.cancellation_cutoff_minutes)


def appointment_rules(
    *, service: AppointmentService, default: BookingPolicy | None = None
) -> AppointmentRules:
    """A service's cut-off, fees and reminder; an empty field follows the gym's default
    booking rules, whose fees count only when their penalty is "fee" (an appointment
    holds no class credit to forfeit). Pass ``default`` when reading many services."""
    own_fields = ("cancellation_cutoff_minutes", "late_cancel_fee", "no_show_fee", "reminder_hours")
    if all(getattr(service, name) is not None for name in own_fields):
        return AppointmentRules(**{name: getattr(service, name) for name in own_fields})
    gym = default or default_policy()

    def own_or(name: str, fallback):
        value = getattr(service, name)
        return value if value is not None else fallback

    def gym_fee(penalty: str, amount: Decimal) -> Decimal:
        return amount if penalty == BookingPolicy.Penalty.FEE else Decimal("0")

    return AppointmentRules(
        cancellation_cutoff_minutes=own_or(
            "cancellation_cutoff_minutes", gym.cancellation_cutoff_minutes
        ),
        late_cancel_fee=own_or(
            "late_cancel_fee", gym_fee(gym.late_cancel_penalty, gym.late_cancel_fee)
        ),
        no_show_fee=own_or("no_show_fee", gym_fee(gym.no_show_penalty, gym.no_show_fee)),
        reminder_hours=own_or("reminder_hours", gym.reminder_hours),
    )


def appointment_rules_summary(*, service: AppointmentService, branch) -> list[str]:
    """The service's cancellation and no-show rules in words, for the booking page."""
    rules = appointment_rules(service=service)
    hours, minutes = divmod(rules.cancellation_cutoff_minutes, 60)
    notice = (
        _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
        if minutes
        else _("%(h)s hours") % {"h": hours}
    )
    currency = branch.organisation.currency
    lines = []
    if service.price > 0:
        lines.append(
            _(
                "%(price)s %(cur)s, on your account once the session is over (or if you "
                "cancel too late), billed with your next invoice."
            )
            % {"price": service.price, "cur": currency}
        )
    if rules.late_cancel_fee > 0:
        lines.append(
            _("Free cancellation until %(notice)s before; after that a fee of %(fee)s %(cur)s.")
            % {"notice": notice, "fee": rules.late_cancel_fee, "cur": currency}
        )
    else:
        lines.append(
            _("Please cancel at least %(notice)s before if you cannot come.") % {"notice": notice}
        )
    if rules.no_show_fee > 0:
        lines.append(
            _("Not turning up costs a fee of %(fee)s %(cur)s.")
            % {"fee": rules.no_show_fee, "cur": currency}
        )
    return lines
