"""Front desk: scan or look up a member, check them in (or by hand, audited), occupancy."""

import pytest

from access import credentials as creds
from access.models import AccessLog, Reason, Result
from access.tests.factories import CredentialFactory, QrCredentialFactory, membership_make
from accounts.models import AuditLog, Role
from accounts.tests.factories import MemberFactory, RoleAssignmentFactory, UserFactory
from memberships.models import Membership

pytestmark = pytest.mark.django_db

DESK = "/access/desk/"


def test_desk_is_for_staff_only(client_for, member):
    assert client_for(member.user).get(DESK).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(DESK, HTTP_HOST="gym-a.test")
    assert response.status_code == 302


def test_front_desk_only_works_at_their_branch(client_for, front_desk, branch, other_branch):
    response = client_for(front_desk).get(DESK, {"branch": other_branch.pk})
    assert response.status_code == 200
    assert response.context["branch"] == branch
    assert [b.pk for b in response.context["branches"]] == [branch.pk]


def test_scanning_a_qr_code_checks_in_and_shows_the_decision(client_for, front_desk, active_member):
    # given
    qr = QrCredentialFactory(member=active_member)
    payload = creds.qr_payload(credential_id=qr.pk, secret=qr.secret)
    client = client_for(front_desk)
    # when
    response = client.post(DESK, {"q": payload, "branch": active_member.home_branch.pk})
    # then
    assert response.status_code == 302
    page = client.get(response["Location"])
    log = page.context["log"]
    assert (log.result, log.source, log.staff) == (Result.GRANTED, "kiosk", front_desk)
    assert page.context["member"] == active_member
    assert active_member.full_name in page.content.decode()
    assert [o.member_id for o in page.context["occupancy"]] == [active_member.pk]


def test_scanning_a_card_of_a_frozen_member_is_refused(client_for, front_desk, branch):
    member = MemberFactory(home_branch=branch, user=UserFactory())
    membership_make(member, status=Membership.Status.FROZEN)
    card = CredentialFactory(member=member)
    client = client_for(front_desk)
    page = client.get(client.post(DESK, {"q": card.number})["Location"])
    assert (page.context["log"].result, page.context["log"].reason) == ("denied", "frozen")
    assert any("frozen" in str(a).lower() for a in page.context["alerts"])


def test_typing_a_name_finds_members(client_for, front_desk, active_member):
    client = client_for(front_desk)
    response = client.post(DESK, {"q": active_member.last_name})
    page = client.get(response["Location"])
    assert active_member in page.context["results"]


def test_member_panel_shows_plan_and_alerts(client_for, front_desk, branch):
    member = MemberFactory(home_branch=branch, user=UserFactory())
    membership_make(member, status=Membership.Status.PAST_DUE)
    page = client_for(front_desk).get(DESK, {"member": member.pk})
    assert page.context["preview"].reason == Reason.PAST_DUE
    assert any("overdue" in str(a).lower() for a in page.context["alerts"])


def test_manual_checkin_needs_a_reason(client_for, front_desk, branch):
    member = MemberFactory(home_branch=branch, user=UserFactory())
    response = client_for(front_desk).post(
        "/access/desk/manual/", {"member": member.pk, "reason": ""}
    )
    assert response.status_code == 400
    assert "reason" in response.context["manual_form"].errors
    assert not AccessLog.objects.unscoped().exists()


def test_manual_checkin_overrides_and_is_audited(client_for, front_desk, branch):
    # given: a member with no valid membership
    member = MemberFactory(home_branch=branch, user=UserFactory())
    membership_make(member, status=Membership.Status.PAST_DUE)
    # when
    response = client_for(front_desk).post(
        "/access/desk/manual/", {"member": member.pk, "reason": "Paid at the desk, card failed"}
    )
    # then
    assert response.status_code == 302
    log = AccessLog.objects.unscoped().get(member=member)
    assert (log.result, log.reason, log.source, log.staff) == (
        Result.GRANTED,
        Reason.MANUAL,
        "manual",
        front_desk,
    )
    audit = AuditLog.objects.unscoped().get(action="access.manual_checkin")
    assert audit.actor == front_desk
    assert audit.data["reason"] == "Paid at the desk, card failed"
    assert audit.data["rules_said"] == "past_due"


def test_desk_checkin_and_checkout_drive_occupancy(client_for, front_desk, active_member):
    client = client_for(front_desk)
    client.post("/access/desk/checkin/", {"member": active_member.pk})
    assert len(client.get(DESK).context["occupancy"]) == 1
    client.post("/access/desk/checkout/", {"member": active_member.pk})
    assert client.get(DESK).context["occupancy"] == []


def test_branch_staff_cannot_act_on_another_branch(client_for, gym, branch, other_branch):
    user = UserFactory()
    RoleAssignmentFactory(user=user, branch=other_branch, role=Role.FRONT_DESK)
    member = MemberFactory(home_branch=branch, user=UserFactory())
    membership_make(member)
    client_for(user).post("/access/desk/checkin/", {"member": member.pk, "branch": branch.pk})
    log = AccessLog.objects.unscoped().get(member=member)
    assert log.branch == other_branch


def test_desk_page_query_count_is_bounded(
    client_for, front_desk, branch, django_assert_max_num_queries
):
    for _ in range(5):
        m = MemberFactory(home_branch=branch, user=UserFactory())
        membership_make(m)
        AccessLog.objects.unscoped().create(
            organisation=branch.organisation, branch=branch, member=m, result="granted", reason="ok"
        )
    client = client_for(front_desk)
    with django_assert_max_num_queries(25):
        response = client.get(DESK)
    assert len(response.context["occupancy"]) == 5


def test_the_desk_says_why_in_plain_words_and_shows_a_photo_placeholder(
    client_for, front_desk, branch
):
    # given: a member with an overdue payment and no photo
    member = MemberFactory(home_branch=branch, user=UserFactory(), first_name="Ada")
    membership_make(member, status=Membership.Status.PAST_DUE)
    # when
    html = client_for(front_desk).get(DESK, {"member": member.pk}).content.decode()
    # then: the door's answer in words, never its codes
    assert "Denied</strong>: Payment overdue" in html
    assert "(past_due)" not in html and "denied (" not in html
    assert "No photo on file" in html
    # and the camera's absence is explained where the browser has none
    assert 'id="scanner-missing"' in html


def test_occupancy_panel_refreshes_from_its_own_address(client_for, front_desk, active_member):
    client = client_for(front_desk)
    page = client.get(DESK).content.decode()
    assert 'data-refresh-url="/access/desk/occupancy/?branch=' in page
    client.post("/access/desk/checkin/", {"member": active_member.pk})
    panel = client.get("/access/desk/occupancy/")
    assert panel.status_code == 200
    assert "1 person inside" in panel.content.decode()
    assert active_member.full_name in panel.content.decode()


def test_occupancy_panel_is_for_staff_only(client_for, member):
    assert client_for(member.user).get("/access/desk/occupancy/").status_code == 403
