"""The rules written once on the models, and the hand-written purchase statement that
uses them: its Python, ORM and SQL forms agree, and its column lists follow the models."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import MemberFactory
from gymsite.db import insert_list
from gymsite.errors import ServiceError
from inventory import services
from inventory.models import FlashSale, FlashSaleAllowance, Order, OrderLine, Stock, StockMovement
from inventory.services import flash_sales
from inventory.tests.factories import FlashSaleFactory, ProductFactory, StockFactory


def _inserted_columns(sql: str, model) -> list[str]:
    found = re.search(rf"INSERT INTO {model._meta.db_table}(?: AS \w+)? \(([^)]*)\)", sql)
    assert found, f"no INSERT into {model._meta.db_table}"
    return [column.strip().strip('"') for column in found.group(1).split(",")]


@pytest.mark.parametrize("model", [FlashSaleAllowance, Order, OrderLine, StockMovement])
def test_the_purchase_statement_writes_every_column_of_each_row_it_inserts(model):
    # given every column of the model but its id (OrderLine's includes ticket_id, which
    # the hand-written list once left out)
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]

    # then the purchase statement, by member and by signed-in user, names each of them
    for sql in (flash_sales._PURCHASE_BY_MEMBER_SQL, flash_sales._PURCHASE_BY_USER_SQL):
        assert _inserted_columns(sql, model) == columns
    assert "ticket_id" in _inserted_columns(flash_sales._PURCHASE_SQL, OrderLine)


def test_an_insert_missing_a_column_of_the_model_fails_when_it_is_built():
    # given the flash-sale line's values without one column (as if the model gained it)
    values = {f.attname: "NULL" for f in OrderLine._meta.concrete_fields if f.attname != "id"}
    del values["ticket_id"]

    # when the statement's column list is built, then it refuses, naming the column
    with pytest.raises(ImproperlyConfigured, match="ticket_id"):
        insert_list(OrderLine, values)
    with pytest.raises(ImproperlyConfigured, match="no_such_field"):
        insert_list(OrderLine, {**values, "ticket_id": "NULL", "no_such_field": "1"})


@pytest.mark.django_db
def test_the_sale_window_agrees_in_python_the_orm_and_sql(product, in_gym):
    # given sales that are scheduled, running, ended and cancelled
    now = timezone.now().replace(microsecond=0)
    hour = timedelta(hours=1)
    sales = [
        FlashSaleFactory(product=product, starts_at=now + hour, ends_at=now + 2 * hour),
        FlashSaleFactory(product=product, starts_at=now, ends_at=now + hour),
        FlashSaleFactory(product=product, starts_at=now - hour, ends_at=now),
        FlashSaleFactory(
            product=product, starts_at=now - hour, ends_at=now + hour, is_cancelled=True
        ),
    ]
    ids = [sale.pk for sale in sales]

    # when each form of the rule is asked at the edges of the windows
    for moment in (now - hour, now - timedelta(microseconds=1), now, now + hour):
        python = {sale.pk: sale.phase_at(moment) for sale in sales}
        for phase in (FlashSale.SCHEDULED, FlashSale.OPEN, FlashSale.CLOSED):
            orm = set(
                FlashSale.objects.filter(FlashSale.phase_q(phase, moment), pk__in=ids).values_list(
                    "pk", flat=True
                )
            )
            # then they agree
            assert orm == {pk for pk, found in python.items() if found == phase}, (moment, phase)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {FlashSale._meta.db_table} s "  # noqa: S608
                f"WHERE id = ANY(%(ids)s) AND {FlashSale.open_sql('%(at)s', 's')}",
                {"ids": ids, "at": moment},
            )
            in_sql = {row[0] for row in cursor.fetchall()}
        assert in_sql == {sale.pk for sale in sales if sale.is_open_at(moment)}
    assert [sale.phase_at(now) for sale in sales] == ["scheduled", "open", "closed", "closed"]


@pytest.mark.django_db
def test_free_stock_agrees_in_python_the_orm_and_sql(gym, branch, in_gym):
    # given stock rows with some units held
    rows = [
        StockFactory(
            product=ProductFactory(category__organisation=gym),
            branch=branch,
            on_hand=on_hand,
            reserved=held,
        )
        for on_hand, held in ((5, 0), (5, 5), (9, 2))
    ]

    # then the property, the expression and the SQL fragment give the same units
    ids = [row.pk for row in rows]
    orm = dict(
        Stock.objects.filter(pk__in=ids)
        .annotate(units=Stock.available_expression())
        .values_list("pk", "units")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {Stock.available_sql('st')} FROM {Stock._meta.db_table} st "  # noqa: S608
            "WHERE id = ANY(%s)",
            [ids],
        )
        in_sql = dict(cursor.fetchall())
    assert (
        orm
        == in_sql
        == {row.pk: row.available for row in rows}
        == {
            ids[0]: 5,
            ids[1]: 0,
            ids[2]: 7,
        }
    )


@pytest.mark.django_db
def test_a_cancelled_sale_is_closed_to_buyers(stocked, branch, in_gym):
    # given a sale inside its window but cancelled
    sale = FlashSaleFactory(product=stocked, branch=branch, quantity=5, is_cancelled=True)

    # when a member tries to buy, then the sale is closed, and nothing was written
    with pytest.raises(ServiceError) as refused:
        services.flash_sale_buy(sale=sale, member=MemberFactory(home_branch=branch))
    assert refused.value.code == "sale_closed"
    assert not Order.objects.filter(flash_sale=sale).exists()
