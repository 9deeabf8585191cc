"""The design system's template helpers: icons, money, nav state, plurals of periods.

Loaded as a builtin (settings.TEMPLATES), so every template can use them.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_percent
from django import template
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gymsite.money import babel_locale, gross_price, money_format

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = ""):
    """One of our own icons from static/icons/sprite.svg; decorative unless labelled."""
    href = f"{static('icons/sprite.svg')}#{name}"
    if label:
        return format_html(
            '<svg class="icon" role="img" aria-label="{}"><use href="{}"></use></svg>', label, href
        )
    return format_html('<svg class="icon" aria-hidden="true"><use href="{}"></use></svg>', href)


@register.simple_tag(takes_context=True)
def current(context, url_name: str, exact: bool = False):
    """``aria-current="page"`` on the nav link of the page (or section) being shown."""
    request = context.get("request")
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return ""
    if request is None:
        return ""
    path = request.path
    if path == url or (not exact and url != "/" and path.startswith(url)):
        return mark_safe(' aria-current="page"')
    return ""


@register.filter
def money(amount, currency="EUR"):
    """``{{ invoice.total|money:invoice.currency }}`` → £80.00 (en), 80,00 £ (da)."""
    return money_format(amount, currency)


@register.simple_tag
def consumer_price(net, currency, tax_rate):
    """A price as a member must see it: tax included, the tax part beside it."""
    if net is None:
        return ""
    gross, tax = gross_price(net=net, tax_rate=tax_rate)
    if not tax:
        return money_format(gross, currency)
    return format_html(
        '{} <span class="help">{}</span>',
        money_format(gross, currency),
        _("incl. %(tax)s VAT") % {"tax": money_format(tax, currency)},
    )


_PERIODS = {
    "day": lambda n: ngettext("every day", "every %(count)d days", n),
    "week": lambda n: ngettext("every week", "every %(count)d weeks", n),
    "month": lambda n: ngettext("every month", "every %(count)d months", n),
    "year": lambda n: ngettext("every year", "every %(count)d years", n),
}


@register.simple_tag
def every(interval: str, count: int = 1):
    """``every month`` / ``every 3 months``, with the language's plural rules."""
    phrase = _PERIODS.get(str(interval).lower())
    if phrase is None:
        return ""
    count = int(count or 1)
    return phrase(count) % {"count": count}


@register.inclusion_tag("includes/fill_bar.html")
def fill_bar(session):
    """How full a class is, as a bar beside the places-left text (which stays the label)."""
    capacity = max(int(session.capacity or 0), 1)
    booked = min(int(session.booked_count or 0), capacity)
    percent = round(100 * booked / capacity)
    state = "full" if booked >= capacity else "nearly" if percent >= 75 else ""
    return {"percent": percent, "state": state, "session": session}


@register.filter
def percent(rate):
    """A rate as a fraction of one (0.2000) as the language writes a percentage (20%)."""
    if rate in (None, ""):
        return ""
    return format_percent(Decimal(rate), locale=babel_locale())
