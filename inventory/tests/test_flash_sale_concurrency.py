"""Flash sales under a rush: real threads, real PostgreSQL, ≤30 connections at once."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Member
from accounts.tenancy import tenant_scope
from gymsite.errors import Conflict
from inventory import selectors, services
from inventory.models import FlashSale, FlashSaleAllowance, Order, Stock, StockMovement
from inventory.tests.concurrency import run_in_waves
from inventory.tests.factories import FlashSaleFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _members(gym, branch, count):
    with tenant_scope(gym):
        return Member.objects.bulk_create(
            Member(
                organisation=gym,
                first_name=f"Buyer{n}",
                last_name="Rush",
                home_branch=branch,
            )
            for n in range(count)
        )


def _sale_with_stock(gym, branch, owner, *, units, stock_units=None, per_member_limit=1):
    product = ProductFactory(category__organisation=gym)
    with tenant_scope(gym):
        services.stock_receive(
            product=product, branch=branch, quantity=stock_units or units, actor=owner
        )
    return FlashSaleFactory(
        product=product, branch=branch, quantity=units, per_member_limit=per_member_limit
    )


def test_500_buyers_for_100_units_sell_exactly_100(gym, branch, owner):
    # given 100 units on offer (and 150 on the shelf) and 500 members
    sale = _sale_with_stock(gym, branch, owner, units=100, stock_units=150)
    buyers = _members(gym, branch, 500)

    # when all 500 buy at once (30 at a time, each wave released together)
    def buy(member):
        return services.flash_sale_buy(sale=sale, member=member, quantity=1)

    results = run_in_waves(buy, buyers, organisation_id=gym.pk)

    # then exactly 100 won, the rest were told it is sold out
    won = [r for r in results if isinstance(r, Order)]
    lost = [r for r in results if not isinstance(r, Order)]
    assert len(won) == 100
    assert all(isinstance(r, Conflict) and r.code == "sold_out" for r in lost), lost[:3]
    with tenant_scope(gym):
        sale.refresh_from_db()
        stock = Stock.objects.get(product=sale.product, branch=branch)
        assert sale.remaining == 0
        assert stock.reserved == 100 and stock.on_hand == 150
        assert Order.objects.filter(flash_sale=sale, status=Order.Status.HELD).count() == 100
        assert len({o.member_id for o in won}) == 100
        ledger = StockMovement.objects.filter(stock=stock).aggregate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
        assert ledger == {"on_hand": 150, "reserved": 100}
        assert selectors.stock_ledger_mismatches() == []
        assert selectors.flash_sale_state(sale_id=sale.pk).status == "sold_out"


def test_shelf_stock_not_sale_quantity_can_be_the_limit(gym, branch, owner):
    # given a sale of 50 units but only 20 on the shelf
    sale = _sale_with_stock(gym, branch, owner, units=50, stock_units=20)
    buyers = _members(gym, branch, 60)

    # when 60 members buy at once
    results = run_in_waves(
        lambda m: services.flash_sale_buy(sale=sale, member=m), buyers, organisation_id=gym.pk
    )

    # then the shelf decides: 20 sold, never a negative count
    assert sum(isinstance(r, Order) for r in results) == 20
    with tenant_scope(gym):
        stock = Stock.objects.get(product=sale.product, branch=branch)
        sale.refresh_from_db()
        assert (stock.on_hand, stock.reserved) == (20, 20)
        assert sale.remaining == 30
        assert selectors.stock_ledger_mismatches() == []


def test_one_member_twenty_requests_limit_two_gets_two(gym, branch, owner, member):
    # given a sale with a per-member limit of 2
    sale = _sale_with_stock(gym, branch, owner, units=100, per_member_limit=2)

    # when the same member sends 20 requests at once
    results = run_in_waves(
        lambda _: services.flash_sale_buy(sale=sale, member=member),
        range(20),
        organisation_id=gym.pk,
    )

    # then exactly 2 succeed; the others are refused as over the limit
    won = [r for r in results if isinstance(r, Order)]
    assert len(won) == 2
    assert all(
        isinstance(r, Conflict) and r.code == "over_limit"
        for r in results
        if not isinstance(r, Order)
    )
    with tenant_scope(gym):
        sale.refresh_from_db()
        assert sale.remaining == 98
        assert FlashSaleAllowance.objects.get(sale=sale, member=member).quantity == 2
        assert Stock.objects.get(product=sale.product, branch=branch).reserved == 2


def test_expired_holds_are_free_again_at_read_time_without_the_job(gym, branch, owner):
    # given a sale of 3 units, all held by orders whose hold has just run out
    sale = _sale_with_stock(gym, branch, owner, units=3)
    first, late = _members(gym, branch, 3), _members(gym, branch, 1)[0]
    with tenant_scope(gym):
        for buyer in first:
            services.flash_sale_buy(sale=sale, member=buyer)
        Order.objects.filter(flash_sale=sale).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        # when no job has run, the page already shows the units back
        state = selectors.flash_sale_state(sale_id=sale.pk)
        assert (state.status, state.remaining) == ("open", 3)
        assert selectors.stock_free(product=sale.product, branch=branch) == 3

        # and a new buyer gets one
        order = services.flash_sale_buy(sale=sale, member=late)

    # then the expired holds were released through the ledger
    assert order.status == Order.Status.HELD
    with tenant_scope(gym):
        sale.refresh_from_db()
        assert sale.remaining == 2
        assert Order.objects.filter(flash_sale=sale, status=Order.Status.EXPIRED).count() == 3
        assert Stock.objects.get(product=sale.product, branch=branch).reserved == 1
        assert selectors.stock_ledger_mismatches() == []


@pytest.mark.parametrize("round_", range(6))
def test_expiry_racing_payment_has_exactly_one_outcome(gym, branch, owner, member, round_):
    # given the only unit held by an order whose hold ends right now, and a rival buyer
    sale = _sale_with_stock(gym, branch, owner, units=1, stock_units=1)
    rival = _members(gym, branch, 1)[0]
    with tenant_scope(gym):
        order = services.flash_sale_buy(sale=sale, member=member)
    deadline = timezone.now()
    with tenant_scope(gym):
        Order.objects.filter(pk=order.pk).update(expires_at=deadline)
    # Even rounds: the payment is just in time; odd rounds: just too late.
    paid_at = deadline + timedelta(microseconds=-1 if round_ % 2 == 0 else 1)

    # when the expiry job, the payment and a rival buyer all arrive together
    def act(which):
        if which == "expire":
            return services.orders_expire_due(now=deadline)
        if which == "pay":
            return services.order_mark_paid(order=order, now=paid_at)
        return services.flash_sale_buy(sale=sale, member=rival, now=deadline)

    results = run_in_waves(act, ["expire", "pay", "rival"], organisation_id=gym.pk)

    # then the unit went exactly once: to the payer, or (hold lost) to the rival
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert not unexpected, unexpected
    with tenant_scope(gym):
        order.refresh_from_db()
        sale.refresh_from_db()
        stock = Stock.objects.get(product=sale.product, branch=branch)
        assert selectors.stock_ledger_mismatches() == []
        rival_orders = list(Order.objects.filter(member=rival, status=Order.Status.HELD))
        assert order.status in (Order.Status.PAID, Order.Status.REFUND_DUE)
        if order.status == Order.Status.PAID:
            assert (stock.on_hand, stock.reserved, sale.remaining) == (0, 0, 0)
            assert StockMovement.objects.filter(order=order, kind="sold").count() == 1
            assert rival_orders == []
            assert results[1].sold is True
        else:
            assert len(rival_orders) == 1
            assert (stock.on_hand, stock.reserved, sale.remaining) == (1, 1, 0)
            assert not StockMovement.objects.filter(order=order, kind="sold").exists()
            assert results[1].sold is False
        if round_ % 2 == 0 and results[0] == 0 and rival_orders == []:
            # Payment in time, and neither the job nor the rival's read-time sweep (a
            # purchase at the deadline returns expired holds first) expired the hold:
            # payment won outright.
            assert order.status == Order.Status.PAID
        assert sum(a.quantity for a in FlashSaleAllowance.objects.filter(sale=sale)) == (
            1 - sale.remaining
        )


def test_expiry_waits_for_a_payment_in_progress_and_then_does_nothing(gym, branch, owner, member):
    # given a held order and a payment that has taken its locks but not committed yet
    import threading

    from django.db import connection, transaction

    sale = _sale_with_stock(gym, branch, owner, units=1, stock_units=1)
    with tenant_scope(gym):
        order = services.flash_sale_buy(sale=sale, member=member)
    deadline = timezone.now() + timedelta(minutes=11)  # past the 10-minute hold
    paying, release = threading.Event(), threading.Event()
    outcome = {}

    def pay():
        try:
            with tenant_scope(gym), transaction.atomic():
                outcome["pay"] = services.order_mark_paid(order=order)
                paying.set()
                release.wait(10)
        finally:
            connection.close()

    def expire():
        try:
            with tenant_scope(gym):
                outcome["expire"] = services.orders_expire_due(now=deadline)
        except Exception as exc:
            outcome["expire_error"] = exc
        finally:
            connection.close()

    payer = threading.Thread(target=pay)
    payer.start()
    assert paying.wait(10)
    # when the expiry job runs (the clock says the hold is over) while payment holds the rows
    expirer = threading.Thread(target=expire)
    expirer.start()
    expirer.join(0.5)
    assert expirer.is_alive(), f"expiry must wait for the payment's locks: {outcome}"
    release.set()
    payer.join()
    expirer.join()

    # then the payment won and expiry found nothing held
    assert outcome["pay"].sold is True
    assert outcome["expire"] == 0
    with tenant_scope(gym):
        order.refresh_from_db()
        assert order.status == Order.Status.PAID
        assert selectors.stock_ledger_mismatches() == []


def test_counters_cannot_go_negative_even_bypassing_services(gym, branch, owner):
    # given a sold-out sale
    sale = _sale_with_stock(gym, branch, owner, units=1)
    from django.db import IntegrityError, transaction

    with tenant_scope(gym):
        # when code tries to decrement below zero directly
        with pytest.raises(IntegrityError), transaction.atomic():
            FlashSale.objects.filter(pk=sale.pk).update(remaining=-1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Stock.objects.filter(product=sale.product).update(on_hand=-1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Stock.objects.filter(product=sale.product).update(reserved=999)


@pytest.mark.parametrize("in_callers_transaction", [False, True])
def test_losing_the_last_unit_after_writing_the_order_undoes_the_whole_purchase(
    gym, branch, owner, member, in_callers_transaction
):
    # given one unit, and a first buyer whose purchase holds the shelf row (not committed)
    import threading
    import time

    from django.db import connection, transaction

    sale = _sale_with_stock(gym, branch, owner, units=1)
    second = _members(gym, branch, 1)[0]
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def first():
        try:
            with tenant_scope(gym), transaction.atomic():
                outcome["first"] = services.flash_sale_buy(sale=sale, member=member)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def buy_second():
        try:
            with tenant_scope(gym):
                if in_callers_transaction:
                    with transaction.atomic():
                        try:
                            services.flash_sale_buy(sale=sale, member=second)
                        except Conflict as exc:
                            outcome["second"] = exc
                        # the caller's transaction is still usable afterwards
                        outcome["after"] = Order.objects.filter(member=second).count()
                else:
                    services.flash_sale_buy(sale=sale, member=second)
        except Conflict as exc:
            outcome["second"] = exc
        finally:
            connection.close()

    buyer = threading.Thread(target=first)
    buyer.start()
    assert holding.wait(10)
    # when the second buyer, who still sees the unit, writes their order and then
    # queues for the shelf row the first buyer holds
    rival = threading.Thread(target=buy_second)
    rival.start()
    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            release.set()
            pytest.fail("the second purchase never queued for the shelf row")
    release.set()
    buyer.join()
    rival.join()

    # then the second purchase failed as a whole: no order, no allowance, no ledger row
    assert isinstance(outcome.get("second"), Conflict) and outcome["second"].code == "sold_out"
    if in_callers_transaction:
        assert outcome["after"] == 0
    with tenant_scope(gym):
        assert Order.objects.filter(member=second).count() == 0
        assert not FlashSaleAllowance.objects.filter(member=second).exists()
        sale.refresh_from_db()
        assert sale.remaining == 0
        assert Stock.objects.get(product=sale.product, branch=branch).reserved == 1
        assert selectors.stock_ledger_mismatches() == []
