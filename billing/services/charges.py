"""Account charges: amounts put on a member's account and billed later."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, Member, User
from accounts.services import audit_record
from billing.models import (
    Invoice,
    PendingCharge,
)
from billing.services.invoices import _as_decimal, invoice_issue
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize


@transaction.atomic
def member_charge_add(
    *,
    member: Member,
    branch: Branch,
    description: str,
    amount: Decimal,
    source_type: str,
    source_id: str,
    actor: User | None = None,
    tax_rate: Decimal | None = None,
) -> PendingCharge:
    """Put a charge on a member's account; it is billed to their payer on the next
    invoice at that branch, taxed at ``tax_rate`` (empty: the branch's rate). One
    charge per (source_type, source_id): asking again returns the first."""
    if tax_rate is not None:
        tax_rate = _as_decimal(tax_rate, field="tax_rate")
        if not Decimal(0) <= tax_rate <= Decimal(1):
            raise ServiceError(_("Invalid tax rate."), code="invalid_tax_rate", field="tax_rate")
    amount = quantize(_as_decimal(amount, field="amount"))
    if amount <= 0:
        raise ServiceError(
            _("The amount must be greater than zero."), code="invalid_amount", field="amount"
        )
    if not description or not description.strip():
        raise ServiceError(_("Enter a description."), code="required", field="description")
    if not source_type or not str(source_id):
        raise ServiceError(_("A charge needs a source."), code="required", field="source_type")
    if member.organisation_id != branch.organisation_id:
        raise ServiceError(_("Unknown member."), code="unknown_member", field="member")
    existing = (
        PendingCharge.objects.filter(source_type=source_type, source_id=str(source_id))
        .exclude(status=PendingCharge.Status.CANCELLED)
        .first()
    )
    if existing is not None:
        return existing
    charge = PendingCharge(
        organisation_id=branch.organisation_id,
        member=member,
        payer=member.billing_member,
        branch=branch,
        description=description.strip()[:255],
        amount=amount,
        currency=branch.organisation.currency,
        tax_rate=tax_rate,
        source_type=source_type,
        source_id=str(source_id),
        created_by=actor if actor and actor.is_authenticated else None,
    )
    try:
        with transaction.atomic():
            charge.save()
    except IntegrityError:
        return PendingCharge.objects.exclude(status=PendingCharge.Status.CANCELLED).get(
            source_type=source_type, source_id=str(source_id)
        )
    if actor is not None:
        audit_record(actor=actor, action="charge.add", target=charge, data={"amount": str(amount)})
    return charge


@transaction.atomic
def member_charge_cancel(*, charge: PendingCharge, actor: User | None = None) -> PendingCharge:
    """Take an unbilled charge off the account (a waived fee)."""
    updated = PendingCharge.objects.filter(
        pk=charge.pk, status=PendingCharge.Status.PENDING
    ).update(status=PendingCharge.Status.CANCELLED)
    if not updated:
        raise Conflict(_("This charge has already been billed."), code="charge_billed")
    charge.refresh_from_db()
    if actor is not None:
        audit_record(actor=actor, action="charge.cancel", target=charge)
    return charge


@transaction.atomic
def account_charges_invoice(
    *, payer: Member, branch: Branch, actor: User | None = None
) -> Invoice | None:
    """Bill a payer's unbilled account charges at a branch now (None if there are none)."""
    payer = payer.billing_member
    if not PendingCharge.objects.filter(
        payer=payer, branch=branch, status=PendingCharge.Status.PENDING
    ).exists():
        return None
    return invoice_issue(
        payer=payer, branch=branch, lines=[], actor=actor, include_account_charges=True
    )


def account_charges_bill_stale(*, now: datetime | None = None) -> int:
    """Invoice every payer's account charges older than ``BILLING_ACCOUNT_CHARGES_MAX_DAYS``
    (default 7) at their branch; returns how many invoices were issued."""
    now = now or timezone.now()
    max_age = timedelta(days=getattr(settings, "BILLING_ACCOUNT_CHARGES_MAX_DAYS", 7))
    groups = (
        PendingCharge.objects.filter(
            status=PendingCharge.Status.PENDING, created_at__lt=now - max_age
        )
        .values_list("payer_id", "branch_id")
        .distinct()
    )
    issued = 0
    for payer_id, branch_id in list(groups):
        payer = Member.objects.get(pk=payer_id)
        branch = Branch.objects.select_related("organisation").get(pk=branch_id)
        issued += account_charges_invoice(payer=payer, branch=branch) is not None
    return issued
