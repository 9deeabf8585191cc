"""Money is a Decimal amount with a currency; never a float."""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel import Locale
from babel.numbers import get_currency_name, get_territory_currencies
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import capfirst
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
    locale = babel_locale()
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


# One place writes an amount the way the reader's language does (£80.00, 80,00 kr.),
# through Babel's CLDR data (the same definitions as the portal's ``money`` filter).


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
