"""The member home's entry card: the code one tap away and this month's visits."""

from django import template
from django.utils import timezone

from access import selectors

register = template.Library()


@register.inclusion_tag("access/_home_card.html")
def entry_card(member):
    month_start = timezone.localdate().replace(day=1)
    visits = selectors.member_visits(member=member).filter(occurred_at__date__gte=month_start)
    return {"visits": visits.count()}
