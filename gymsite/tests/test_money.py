"""Currencies come from the ISO 4217 list, never free text; amounts read as the locale
writes them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.urls import reverse

from accounts.models import Organisation
from gymsite.money import currency_choices, money_format, validate_currency


def test_only_iso_currencies_are_valid():
    for code in ("GBP", "EUR", "DKK", "USD"):
        validate_currency(code)
    for bad in ("€€€", "gbp", "XYZ", ""):
        with pytest.raises(ValidationError):
            validate_currency(bad)
    assert ("DKK", "DKK - Danish Krone") in currency_choices()


def test_money_format_uses_the_locale():
    assert money_format(Decimal("12345.5"), "GBP", language="en-gb") == "£12,345.50"
    assert money_format(Decimal("12345.5"), "DKK", language="da") == "12.345,50\xa0kr."
    assert money_format(None, "GBP") == ""


@pytest.mark.django_db
def test_full_clean_refuses_a_made_up_currency(gym):
    gym.currency = "€€€"
    with pytest.raises(ValidationError) as refused:
        gym.full_clean()
    assert "currency" in refused.value.message_dict


@pytest.mark.django_db
def test_admin_offers_a_currency_list_and_refuses_free_text(client_for, owner, gym):
    client = client_for(owner)
    url = reverse("admin:accounts_organisation_change", args=[gym.pk])
    page = client.get(url).content.decode()
    assert '<select name="currency"' in page and '<option value="DKK"' in page
    form = client.get(url).context["adminform"].form
    # (the branding images are left out: an empty file is not a value to post)
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and not isinstance(v, list | FieldFile)
    }
    data["currency"] = "€€€"
    response = client.post(url, {**data, "name": gym.name})
    assert response.status_code == 200
    assert "currency" in response.context["adminform"].form.errors
    assert Organisation.objects.get(pk=gym.pk).currency == "GBP"
