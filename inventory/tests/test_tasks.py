from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from inventory import services, tasks
from inventory.models import Order, Stock


@pytest.mark.django_db
def test_holds_expire_job_releases_every_gyms_due_holds(stocked, branch, member, gym):
    # given a shop order whose hold ran out a minute ago
    with tenant_scope(gym):
        order = services.shop_order_place(member=member, branch=branch, items=[(stocked, 4)])
        Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    # when the periodic job runs (no scope: it enters each gym's)
    released = tasks.holds_expire()

    # then the hold is gone and the stock free again
    assert released == 1
    with tenant_scope(gym):
        assert Order.objects.get(pk=order.pk).status == Order.Status.EXPIRED
        assert Stock.objects.get(product=stocked, branch=branch).reserved == 0
