"""Staff journeys in Chromium at phone and desktop sizes, with axe checks: a manager
refunds a payment, sells at the till, and checks a member in at the desk."""

from decimal import Decimal

import pytest

from access.models import AccessLog, Result
from access.tests.factories import membership_make
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, UserFactory
from billing.models import Refund
from billing.services import InvoiceLineSpec, invoice_issue, payment_record
from inventory import services as inventory_services
from inventory.models import Order
from inventory.tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer(branch):
    member = MemberFactory(
        home_branch=branch, first_name="Yusuf", last_name="Jackson", user=UserFactory()
    )
    membership_make(member)
    return member


def test_manager_refunds_a_payment(journey, gym, branch, manager, customer):
    # given: a paid invoice
    with tenant_scope(gym):
        invoice = invoice_issue(
            payer=customer,
            branch=branch,
            lines=[InvoiceLineSpec(description="PT", quantity=1, unit_price=Decimal("50"))],
        )
        payment = payment_record(invoice=invoice, amount=invoice.total)
    journey.sign_in(manager)

    # when: they pick the payment and the Refund… action
    journey.go("/admin/billing/payment/", check=False)
    journey.shot("payments")
    journey.page.locator(f'input[name="_selected_action"][value="{payment.pk}"]').check()
    journey.page.locator('select[name="action"]').select_option("refund")
    with journey.page.expect_navigation():
        journey.page.locator('button[name="index"], button[type="submit"][title]').first.click()
    journey.check()
    journey.shot("refund form")

    # then: the inputs are visible; too much is refused with the input kept
    amount = journey.page.get_by_label("Amount (empty: all that is refundable)")
    assert amount.is_visible() and amount.bounding_box()["height"] > 20
    amount.fill("500")
    journey.page.get_by_label("Reason").fill("Charged twice")
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="Refund").click()
    journey.shot("refund refused")
    assert journey.page.get_by_label("Reason").input_value() == "Charged twice"
    assert not Refund.objects.unscoped().exists()

    # when: a right amount
    journey.page.get_by_label("Amount (empty: all that is refundable)").fill("10")
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="Refund").click()
    journey.shot("refunded")
    refund = Refund.objects.unscoped().get()
    assert refund.amount == Decimal("10.00")


def test_manager_sells_at_the_till(journey, gym, branch, owner, manager, customer):
    with tenant_scope(gym):
        product = ProductFactory(
            category__organisation=gym, name="Protein bar", sku="BAR-1", price="2.50"
        )
        inventory_services.stock_receive(product=product, branch=branch, quantity=10, actor=owner)
    journey.sign_in(manager)

    journey.go("/shop/pos/")
    journey.shot("till")
    journey.page.get_by_label("Member").fill("Yusu")
    journey.page.wait_for_timeout(600)
    journey.page.get_by_label("Member").fill("Yusuf Jackson · " + customer.email)
    journey.page.get_by_label("Scan or type SKUs").fill("BAR-1 BAR-1")
    journey.page.get_by_label("Scan or type SKUs").dispatch_event("input")
    assert journey.page.locator("#till-total").inner_text() == "5.00"
    journey.page.locator('select[name="payment"]').select_option("paid_now")
    journey.shot("till filled")
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="Record sale").click()
    journey.check()
    journey.shot("sale recorded")
    order = Order.objects.unscoped().get(channel="pos")
    assert order.member_id == customer.pk


def test_manager_checks_a_member_in_at_the_desk(journey, gym, branch, manager, customer):
    journey.sign_in(manager)
    journey.go(f"/access/desk/?branch={branch.pk}")
    journey.shot("desk")
    journey.page.get_by_label("Scan a code, or type a name or card number").fill("Jackson")
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="Go").click()
    journey.check()
    with journey.page.expect_navigation():
        journey.page.get_by_role("link", name="Yusuf Jackson").first.click()
    journey.check()
    journey.shot("member")
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="Check in", exact=True).click()
    journey.check()
    journey.shot("checked in")
    assert "Welcome in" in journey.page.content()
    assert AccessLog.objects.unscoped().filter(member=customer, result=Result.GRANTED).exists()
