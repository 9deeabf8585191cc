"""Back-office lists cost the same number of statements however many rows they show.

Each case grows its table (every row with its own related rows, so a per-row
lookup shows up as one more statement per row) and asserts that page 1 of the
changelist runs the same number of statements before and after.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.tests.factories import AccessDeviceFactory, AccessLogFactory
from accounts.tests.factories import MemberFactory, TrainerProfileFactory
from billing.tests.factories import InvoiceFactory, PaymentFactory
from bookings.tests.factories import BookingFactory
from classes.tests.factories import ClassSessionFactory
from memberships.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _grow_access_log(branch):
    device = AccessDeviceFactory(branch=branch, organisation=branch.organisation)
    AccessLogFactory(branch=branch, device=device)


def _grow_sessions(branch):
    gym = branch.organisation
    ClassSessionFactory(branch=branch, trainer=TrainerProfileFactory(organisation=gym))


def _grow_bookings(branch):
    BookingFactory(session=ClassSessionFactory(branch=branch))


def _grow_invoices(branch):
    InvoiceFactory(branch=branch)


def _grow_payments(branch):
    PaymentFactory(invoice=InvoiceFactory(branch=branch))


def _grow_members(branch):
    MemberFactory(home_branch=branch)


def _grow_memberships(branch):
    MembershipFactory(member=MemberFactory(home_branch=branch))


CASES = {
    "/admin/access/accesslog/": _grow_access_log,
    "/admin/classes/classsession/": _grow_sessions,
    "/admin/bookings/booking/": _grow_bookings,
    "/admin/billing/invoice/": _grow_invoices,
    "/admin/billing/payment/": _grow_payments,
    "/admin/accounts/member/": _grow_members,
    "/admin/memberships/membership/": _grow_memberships,
}


def _statements(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("url", list(CASES))
@pytest.mark.parametrize("who", ["owner", "manager"])
def test_a_changelist_page_costs_the_same_with_more_rows(request, client_for, branch, url, who):
    # given a few rows, the page warmed once (session, content types, caches)
    client = client_for(request.getfixturevalue(who))
    grow = CASES[url]
    for _ in range(2):
        grow(branch)
    client.get(url)
    few = _statements(client, url)
    # when the table grows by rows that each point at their own related rows
    for _ in range(8):
        grow(branch)
    many = _statements(client, url)
    # then page 1 runs the same statements
    assert many == few, f"{url}: {few} statements with 2 rows, {many} with 10"


def _listed(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def test_a_list_searched_by_member_finds_them_by_name_email_or_its_own_key(
    client_for, owner, branch
):
    # given two payers' invoices
    alice = MemberFactory(home_branch=branch, first_name="Alice", last_name="Zephyrine")
    bob = MemberFactory(home_branch=branch, first_name="Bob", last_name="Quill")
    hers, his = InvoiceFactory(branch=branch, payer=alice), InvoiceFactory(branch=branch, payer=bob)
    client = client_for(owner)
    # when the list is searched by part of a name, an email, or the invoice number
    by_name = client.get("/admin/billing/invoice/", {"q": "ephyr"})
    by_email = client.get("/admin/billing/invoice/", {"q": bob.email.upper()})
    by_number = client.get("/admin/billing/invoice/", {"q": str(his.number)})
    # then each finds only its invoice
    assert _listed(by_name) == {hers.pk}
    assert _listed(by_email) == {his.pk}
    assert _listed(by_number) == {his.pk}


def test_sessions_are_searched_by_class_type_or_trainer(client_for, owner, gym, branch):
    # given two sessions with different types and trainers
    ada = TrainerProfileFactory(organisation=gym, display_name="Ada Lovelace")
    spin = ClassSessionFactory(branch=branch, class_type__name="Spin Power")
    yoga = ClassSessionFactory(branch=branch, class_type__name="Hatha Flow", trainer=ada)
    client = client_for(owner)
    # when searched by the type's name and by the trainer's
    by_type = client.get("/admin/classes/classsession/", {"q": "spin pow"})
    by_trainer = client.get("/admin/classes/classsession/", {"q": "lovelace"})
    # then each finds its session
    assert _listed(by_type) == {spin.pk}
    assert _listed(by_trainer) == {yoga.pk}


def test_a_branch_manager_finds_a_payer_from_another_branch_but_not_its_invoices_there(
    client_for, manager, branch, other_branch
):
    # given a member of another branch with an invoice here and one there
    visitor = MemberFactory(home_branch=other_branch, last_name="Wanderley")
    here = InvoiceFactory(branch=branch, payer=visitor)
    InvoiceFactory(branch=other_branch, payer=visitor)
    # when this branch's manager searches by the member's name
    response = client_for(manager).get("/admin/billing/invoice/", {"q": "wanderley"})
    # then the invoice of this branch is found, the other branch's is not listed
    assert _listed(response) == {here.pk}
