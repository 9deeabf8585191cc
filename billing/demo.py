"""Demo data for billing beyond what memberships made: a refund with its credit note,
a goodwill credit, a voided invoice, and front-desk sales put on members' accounts."""

import random
from decimal import Decimal

from django.utils import timezone

from accounts.models import Member
from billing import services
from billing.models import Invoice, Payment, Refund


def seed(*, organisation, rng: random.Random) -> None:
    if Refund.objects.exists() or not Invoice.objects.exists():
        return
    paid = list(
        Payment.objects.filter(status=Payment.Status.SUCCEEDED, provider="manual")
        .select_related("invoice")
        .order_by("pk")[:3]
    )
    if paid:
        services.refund_create(
            payment=paid[0], amount=paid[0].amount, reason="Charged twice at the desk"
        )
    if len(paid) > 1:
        services.refund_create(
            payment=paid[1], amount=Decimal("10.00"), reason="Spa closed for a week"
        )
    members = list(Member.objects.filter(payer__isnull=True).order_by("pk")[1:12])
    for index, member in enumerate(members):
        services.member_charge_add(
            member=member,
            branch=member.home_branch,
            description=rng.choice(["Protein shake", "Towel hire", "Padlock", "Water bottle"]),
            amount=Decimal(rng.choice(["3.50", "2.00", "6.00", "8.50"])),
            source_type="demo.desk_sale",
            source_id=f"desk-{member.pk}-{index}",
        )
    # One payer's account charges billed now, one goodwill credit, one mistake voided.
    if members:
        invoice = services.account_charges_invoice(payer=members[0], branch=members[0].home_branch)
        if invoice is not None:
            services.credit_note_issue(
                invoice=invoice, amount=Decimal("1.00"), reason="Loyalty discount"
            )
    if len(members) > 1:
        invoice = services.invoice_issue(
            payer=members[1],
            branch=members[1].home_branch,
            lines=[
                services.InvoiceLineSpec(
                    description="Personal training (issued by mistake)",
                    quantity=1,
                    unit_price=Decimal("45.00"),
                )
            ],
            due_date=timezone.localdate(),
            notify=False,
        )
        services.invoice_void(invoice=invoice, reason="Issued to the wrong member")
