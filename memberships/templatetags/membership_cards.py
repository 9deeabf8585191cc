"""The member dashboard's membership card: what decides today and what is owed."""

from django import template
from django.db.models import Sum
from django.utils import timezone

from billing.models import Invoice
from memberships.selectors import membership_deciding

register = template.Library()


@register.inclusion_tag("memberships/_dashboard_card.html")
def membership_card(member):
    membership = membership_deciding(member=member, on=timezone.localdate())
    owed = Invoice.objects.filter(payer=member, status=Invoice.Status.OPEN).aggregate(
        total=Sum("total"), paid=Sum("amount_paid"), credited=Sum("amount_credited")
    )
    due = None
    if owed["total"] is not None:
        due = owed["total"] - (owed["paid"] or 0) - (owed["credited"] or 0)
    return {"membership": membership, "due": due, "currency": member.organisation.currency}
