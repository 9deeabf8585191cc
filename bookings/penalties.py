"""What a late cancellation or a no-show costs, and undoing it: the class credit kept,
returned or taken again, a fee put on the member's account (billing) or withdrawn.
Shared by class bookings and personal training; called inside their services'
transactions, with the rows locked."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from billing.models import PendingCharge
from billing.services import member_charge_add, member_charge_cancel
from bookings import selectors
from bookings.models import Appointment, Booking, BookingPolicy
from classes.models import ClassSession
from gymsite.errors import ServiceError
from memberships.models import Membership
from memberships.services import membership_consume_credit, membership_return_credit


def booking_fee_charge(
    *, booking: Booking, session: ClassSession, amount: Decimal, kind: str, actor
):
    """Put a late-cancel or no-show fee on the member's next invoice (billing app)."""
    if amount <= 0:
        return Decimal("0")
    labels = {"late_cancel": _("Late cancellation"), "no_show": _("No-show")}
    member_charge_add(
        member=booking.member,
        branch=session.branch,
        description=f"{labels[kind]}: {session.class_type.name} "
        f"{selectors.session_local_start(session):%d/%m/%Y %H:%M}",
        amount=amount,
        source_type=f"bookings.booking.{kind}",
        source_id=str(booking.pk),
        actor=actor,
    )
    return amount


def credit_return(booking: Booking, memberships: dict[int, Membership]) -> None:
    if booking.credit_held and booking.membership_id:
        membership = memberships.get(booking.membership_id) or booking.membership
        membership_return_credit(membership=membership)
        booking.credit_held = False


def credit_retake(booking: Booking, memberships: dict[int, Membership]) -> None:
    """A no-show that gave the credit back, corrected to attended: the class was used,
    so the credit is taken again, if the membership still has one (the correction is
    the trainer's, and stands either way)."""
    membership = memberships.get(booking.membership_id) or booking.membership
    if membership.credits_remaining is None:
        return
    try:
        membership_consume_credit(membership=membership)
    except ServiceError:
        return
    booking.credit_held = True


def no_show_fee_waive(record: Booking | Appointment, actor) -> None:
    """A no-show corrected to attended: take the fee off the account if not billed yet."""
    fee_withdraw(record, "no_show", actor)


def fee_withdraw(record: Booking | Appointment, kind: str, actor) -> None:
    """Take a fee of ``kind`` off the account if it is not invoiced yet (once invoiced,
    staff credit it on the invoice, as for any charge)."""
    charge = PendingCharge.objects.filter(
        source_type=f"bookings.{record._meta.model_name}.{kind}",
        source_id=str(record.pk),
        status=PendingCharge.Status.PENDING,
    ).first()
    if charge is not None:
        member_charge_cancel(charge=charge, actor=actor)
        record.fee_charged = Decimal("0")


def no_show_penalty_apply(
    *,
    booking: Booking,
    session: ClassSession,
    policy: BookingPolicy,
    memberships: dict[int, Membership],
    actor,
) -> None:
    """The class type's no-show penalty, on a booking just marked no-show (by the
    trainer or the settle job): "none" gives the credit back, "fee" puts the no-show
    fee on the member's account, "forfeit" keeps the credit. The caller saves
    ``credit_held`` and ``fee_charged``."""
    if policy.no_show_penalty == BookingPolicy.Penalty.NONE:
        credit_return(booking, memberships)
    elif policy.no_show_penalty == BookingPolicy.Penalty.FEE:
        booking.fee_charged = booking_fee_charge(
            booking=booking,
            session=session,
            amount=policy.no_show_fee,
            kind="no_show",
            actor=actor,
        )
