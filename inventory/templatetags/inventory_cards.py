"""The member home's offers card: flash sales on now or coming soon."""

from django import template

from inventory import selectors

register = template.Library()


@register.inclusion_tag("inventory/_home_card.html")
def offers_card():
    return {"sales": list(selectors.flash_sale_list()[:3])}
