"""Money is a Decimal amount with a currency; never a float."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

CENT = Decimal("0.01")


def quantize(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_field(verbose_name=None, **kwargs) -> models.DecimalField:
    kwargs.setdefault("max_digits", 12)
    kwargs.setdefault("decimal_places", 2)
    return models.DecimalField(verbose_name, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("default", "EUR")
    return models.CharField(**kwargs)


def tax_rate_field(verbose_name=None, **kwargs) -> models.DecimalField:
    """A tax rate as a fraction of one (0.2000 for 20%)."""
    kwargs.setdefault("max_digits", 5)
    kwargs.setdefault("decimal_places", 4)
    kwargs.setdefault("validators", [MinValueValidator(0), MaxValueValidator(1)])
    return models.DecimalField(verbose_name, **kwargs)


def tax_on(net: Decimal, rate: Decimal) -> Decimal:
    """The tax on a net amount at a rate (a fraction of one), to the cent.

    The one tax rule: invoice lines, till and shop receipts, price breakdowns and
    refunds all take it from here, so a receipt equals its invoice.
    """
    return quantize(net * rate)


def with_tax(net: Decimal, rate: Decimal) -> Decimal:
    """A net amount (in cents) plus its tax (``tax_on``)."""
    return net + tax_on(net, rate)


# --- Showing money to people ------------------------------------------------------
# One place writes an amount the way the reader's language does (£80.00, 80,00 kr.),
# through Babel's CLDR data; templates use the ``money`` filter and ``consumer_price``
# tag (gymsite/templatetags/spotter.py), emails the same filter.

# A Django language code → the CLDR locale whose conventions it reads in. Our English
# is British English (the first gyms are in the UK).
BABEL_LOCALES = {"en": "en_GB", "da": "da_DK"}


def babel_locale(language: str | None = None) -> str:
    from django.utils import translation

    language = (language or translation.get_language() or "en").lower()
    return BABEL_LOCALES.get(language, BABEL_LOCALES.get(language.split("-")[0], "en_GB"))


def money_format(amount, currency: str, *, language: str | None = None) -> str:
    from babel.numbers import format_currency

    if amount is None or amount == "":
        return ""
    return format_currency(
        quantize(Decimal(amount)), (currency or "EUR").upper(), locale=babel_locale(language)
    )


def gross_price(*, net, tax_rate) -> tuple[Decimal, Decimal]:
    """A consumer price with its tax, from a net price: (gross, tax part).

    UK and EU consumer law wants prices shown to members with VAT included; we store
    net prices and the branch's rate, so the page adds the tax the invoice will add
    (rounded per line, as billing rounds).
    """
    net = quantize(Decimal(net))
    tax = tax_on(net, Decimal(tax_rate or 0))
    return net + tax, tax
