"""Money is a Decimal amount with a currency; never a float."""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel import Locale
from babel.numbers import format_currency, get_currency_name, get_territory_currencies
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")


def quantize(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_field(verbose_name=None, **kwargs) -> models.DecimalField:
    kwargs.setdefault("max_digits", 12)
    kwargs.setdefault("decimal_places", 2)
    return models.DecimalField(verbose_name, **kwargs)


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes of the currencies legal tender somewhere today (CLDR, by Babel)."""
    today = datetime.date.today()
    codes = set()
    for territory in Locale("en").territories:
        codes.update(get_territory_currencies(territory, today, tender=True))
    return frozenset(codes)


def currency_choices() -> list[tuple[str, str]]:
    """("GBP", "GBP - British Pound") for each code, named in the active language."""
    locale = _babel_locale()
    return [
        (code, f"{code} - {get_currency_name(code, locale=locale)}")
        for code in sorted(currency_codes())
    ]


def validate_currency(value: str) -> None:
    if value not in currency_codes():
        raise ValidationError(
            _("Choose a currency from the list (ISO 4217, e.g. GBP, EUR, DKK)."),
            code="invalid_currency",
        )


class CurrencyField(models.CharField):
    """A currency as its ISO 4217 code, chosen from a list and validated everywhere
    (forms, ``full_clean``, DRF serializers): never free text.

    It is stored and migrated as the plain ``CharField`` it always was (``deconstruct``),
    so the list, which changes with the world, never needs a migration.
    """

    default_validators = [validate_currency]

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs

    def formfield(self, **kwargs):
        widget = kwargs.get("widget")
        if widget is None or not (
            isinstance(widget, forms.Select)
            or (isinstance(widget, type) and issubclass(widget, forms.Select))
        ):
            widget = forms.Select
        return forms.TypedChoiceField(
            choices=currency_choices,
            required=not self.blank,
            label=capfirst(self.verbose_name),
            help_text=self.help_text,
            initial=self.default if self.has_default() else None,
            widget=widget,
        )


def currency_field(**kwargs) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("default", "EUR")
    return CurrencyField(**kwargs)


def _babel_locale(locale: str | None = None) -> str:
    return to_locale(locale or get_language() or "en-gb")


def money_format(amount, currency: str, locale: str | None = None) -> str:
    """An amount as the locale writes it: "£12,345.50" in en-GB, "12.345,50 kr." in da.

    The one money formatter: admin lists here, and the portal's template filter."""
    if amount is None:
        return "—"
    try:
        return format_currency(Decimal(amount), currency, locale=_babel_locale(locale))
    except (ValueError, LookupError):
        return f"{quantize(Decimal(amount)):,} {currency}"


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
