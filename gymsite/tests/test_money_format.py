"""Money as the reader's language writes it, consumer prices with VAT, plural periods."""

from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from gymsite.money import gross_price, money_format


def render(text: str, **context) -> str:
    return Template(text).render(Context(context))


def test_amounts_read_as_the_language_writes_them():
    with translation.override("en"):
        assert money_format(Decimal("80"), "GBP") == "£80.00"
        assert money_format("1234.5", "EUR") == "€1,234.50"
    with translation.override("da"):
        assert money_format(Decimal("80"), "DKK") == "80,00\xa0kr."
        assert money_format(Decimal("1234.5"), "GBP") == "1.234,50\xa0£"


def test_the_money_filter_is_the_one_helper_templates_use():
    with translation.override("en"):
        assert render("{{ amount|money:currency }}", amount="80.00", currency="GBP") == "£80.00"


def test_consumer_prices_include_vat_with_the_tax_part_beside_them():
    assert gross_price(net=Decimal("80.00"), tax_rate=Decimal("0.2000")) == (
        Decimal("96.00"),
        Decimal("16.00"),
    )
    with translation.override("en"):
        html = render("{% consumer_price net 'GBP' rate %}", net=Decimal("80"), rate=Decimal("0.2"))
        untaxed = render("{% consumer_price net 'GBP' rate %}", net=Decimal("80"), rate=0)
    assert html == '£96.00 <span class="help">incl. £16.00 VAT</span>'
    assert untaxed == "£80.00"
    assert "0.2000" not in html


def test_periods_use_the_languages_plurals():
    with translation.override("en"):
        assert render("{% every 'month' 1 %}") == "every month"
        assert render("{% every 'month' 3 %}") == "every 3 months"
        assert render("{{ rate|percent }}", rate=Decimal("0.2000")) == "20%"
    with translation.override("da"):
        assert render("{% every 'month' 1 %}") == "hver måned"
        assert render("{% every 'week' 2 %}") == "hver 2. uge"


def test_one_date_format_per_language():
    from datetime import date

    with translation.override("en"):
        assert render("{{ d|date }}", d=date(2027, 1, 2)) == "2 January 2027"
        assert render("{{ d|date:'SHORT_DATE_FORMAT' }}", d=date(2027, 1, 2)) == "02/01/2027"
    with translation.override("da"):
        assert render("{{ d|date }}", d=date(2027, 1, 2)) == "2. januar 2027"
