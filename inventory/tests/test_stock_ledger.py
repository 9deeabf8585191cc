"""Stock changes: every one is a ledger row, and the ledger sums to the counters."""

import pytest
from django.db.models import Sum

from accounts.tenancy import tenant_scope
from gymsite.errors import NotAllowed, ServiceError
from gymsite.models import OutboxMessage
from inventory import selectors, services
from inventory.models import Stock, StockMovement


def _ledger(stock):
    return StockMovement.objects.filter(stock=stock).aggregate(
        on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
    )


def test_receive_count_adjust_transfer_each_write_the_ledger(
    stocked, branch, other_branch, owner, in_gym
):
    # given 20 units received at North
    # when stock is counted, written off and transferred
    services.stock_count(product=stocked, branch=branch, counted=18, actor=owner, reason="count")
    services.stock_adjust(product=stocked, branch=branch, delta=-3, actor=owner, reason="damaged")
    services.stock_transfer(
        product=stocked, from_branch=branch, to_branch=other_branch, quantity=5, actor=owner
    )

    # then the counters and the ledger agree, movement by movement
    north = Stock.objects.get(product=stocked, branch=branch)
    south = Stock.objects.get(product=stocked, branch=other_branch)
    assert (north.on_hand, south.on_hand) == (10, 5)
    assert _ledger(north) == {"on_hand": 10, "reserved": 0}
    assert list(
        StockMovement.objects.filter(product=stocked).order_by("pk").values_list("kind", flat=True)
    ) == ["received", "adjusted", "adjusted", "transfer_out", "transfer_in"]
    assert StockMovement.objects.filter(kind="adjusted", reason="damaged").get().actor == owner
    assert selectors.stock_ledger_mismatches() == []


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (
            lambda p, b, u: services.stock_receive(product=p, branch=b, quantity=-4, actor=u),
            "invalid_quantity",
        ),
        (
            lambda p, b, u: services.stock_receive(product=p, branch=b, quantity="x", actor=u),
            "invalid_quantity",
        ),
        (
            lambda p, b, u: services.stock_count(product=p, branch=b, counted=-1, actor=u),
            "invalid_count",
        ),
        (
            lambda p, b, u: services.stock_adjust(
                product=p, branch=b, delta=-50, actor=u, reason="x"
            ),
            "insufficient_stock",
        ),
        (
            lambda p, b, u: services.stock_adjust(
                product=p, branch=b, delta=2, actor=u, reason=" "
            ),
            "required",
        ),
        (
            lambda p, b, u: services.stock_transfer(
                product=p, from_branch=b, to_branch=b, quantity=1, actor=u
            ),
            "same_branch",
        ),
    ],
)
def test_bad_stock_input_is_refused_and_changes_nothing(stocked, branch, owner, in_gym, call, code):
    # given 20 units and their ledger
    before = StockMovement.objects.count()

    # when a bad change is asked for
    with pytest.raises(ServiceError) as error:
        call(stocked, branch, owner)

    # then a clear error, and nothing moved
    assert error.value.code == code
    assert Stock.objects.get(product=stocked, branch=branch).on_hand == 20
    assert StockMovement.objects.count() == before


def test_branch_staff_cannot_move_another_branchs_stock(
    stocked, branch, other_branch, gym, manager
):
    # given a manager of North only, working in their staff scope
    # when they try to receive stock at South
    with tenant_scope(gym, branch_ids=[branch.pk]), pytest.raises(NotAllowed):
        services.stock_receive(product=stocked, branch=other_branch, quantity=1, actor=manager)


def test_low_stock_emails_branch_managers_once_per_dip(stocked, branch, manager, owner, in_gym):
    # given a product that alerts at 5 free units, and North's manager
    stocked.low_stock_threshold = 5
    stocked.save()

    # when stock falls to 5, then lower
    services.stock_adjust(product=stocked, branch=branch, delta=-15, actor=owner, reason="count")
    services.stock_adjust(product=stocked, branch=branch, delta=-1, actor=owner, reason="count")

    # then one email to the manager, through the outbox
    alerts = OutboxMessage.objects.filter(kind="email", payload__subject__startswith="Low stock")
    assert alerts.count() == 1
    assert alerts.get().payload["to"] == ["manager@gym-a.test"]

    # and a delivery re-arms the alert for the next dip
    services.stock_receive(product=stocked, branch=branch, quantity=10, actor=owner)
    services.stock_adjust(product=stocked, branch=branch, delta=-10, actor=owner, reason="count")
    assert alerts.count() == 2
