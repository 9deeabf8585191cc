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
