"""Tools answer as the caller (tenant, branch, role), and every change needs the person's
confirmation and goes through the booking services with all their rules."""

from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, UserFactory
from assistant import tools
from assistant.models import AssistantLog, AssistantSetting
from assistant.services import assistant_ask, assistant_confirm, caller_for
from assistant.tests.factories import AssistantSettingFactory
from bookings.models import Booking
from bookings.tests.factories import BookingPolicyFactory
from classes.tests.factories import ClassSessionFactory
from gymsite.errors import ServiceError
from memberships.models import Membership

pytestmark = pytest.mark.django_db


def confirm(user, gym, token, role=None):
    return assistant_confirm(caller=caller_for(user=user, organisation=gym, role=role), token=token)


def keys(demo, reply) -> set[str]:
    return {demo.key_of(row["session_id"]) for row in reply.classes}


# --- tenant, branch and role ---------------------------------------------------------


def test_another_gyms_member_gets_nothing_of_this_gym(demo, outsider, other_gym, ask):
    # given: gym B switched its assistant on too
    AssistantSetting.objects.create(organisation=other_gym, is_enabled=True)
    # then: gym A's assistant does not know them
    with pytest.raises(ServiceError) as refused:
        caller_for(user=outsider.user, organisation=demo.gym)
    assert refused.value.code == "not_member"
    # and in their own gym, gym A's classes, plans and hours are nowhere
    caller = caller_for(user=outsider.user, organisation=other_gym)
    for question in ["any yoga tomorrow?", "prices?", "opening hours", "next spin class"]:
        reply = assistant_ask(caller=caller, message=question)
        assert reply.classes == []
        for word in ["Vinyasa", "Camden", "49.00", "Monthly Unlimited", "06:00"]:
            assert word not in reply.answer
    with tenant_scope(other_gym):
        found = tools.call_tool(
            caller, "book_class", {"session_id": demo.sessions["camden_flow"].pk}
        )
    assert found.result == {"error": "No such class."}


def test_a_branch_manager_sees_only_their_branch(demo, manager, owner, ask):
    mine = ask(manager, "tomorrow's classes with waitlists", role="staff")
    assert "HIIT Blast at North" in mine.answer
    assert "Camden" not in mine.answer and "Riverside" not in mine.answer
    everything = ask(owner, "tomorrow's classes with waitlists", role="staff")
    assert "Camden" in everything.answer and "Riverside" in everything.answer


def test_a_member_has_no_staff_tools(demo, member, owner):
    caller = caller_for(user=member.user, organisation=demo.gym)
    with tenant_scope(demo.gym):
        for name, args in [
            ("today_figures", {}),
            ("at_risk_members", {}),
            ("member_status", {"member_number": member.pk}),
        ]:
            call = tools.call_tool(caller, name, args)
            assert call.refused and call.result == {"error": "No such tool for you."}
    with pytest.raises(ServiceError) as refused:
        caller_for(user=member.user, organisation=demo.gym, role="staff")
    assert refused.value.code == "role"
    assert {t.name for t in tools.tools_for("member")} >= {"book_class", "my_membership"}
    assert "my_bookings" not in {t.name for t in tools.tools_for("staff")}


def test_staff_see_members_by_number_only(demo, member, owner, ask):
    reply = ask(owner, f"member {member.pk}", role="staff")
    assert f"Member #{member.pk}" in reply.answer
    log = AssistantLog.objects.unscoped().latest("pk")
    logged = str(log.tool_calls)
    for personal in [member.first_name, member.last_name, member.email]:
        assert personal not in reply.answer and personal not in logged


def test_a_trainer_sees_their_own_classes_tomorrow(demo, trainer, ask):
    session = demo.sessions["north_hiit"]
    session.trainer = trainer
    session.save()
    reply = ask(trainer.user, "what are my classes tomorrow?", role="trainer")
    assert "HIIT Blast at North" in reply.answer
    assert "Vinyasa" not in reply.answer


# --- confirmation and booking rules --------------------------------------------------


def test_booking_needs_the_members_confirmation(demo, member, ask):
    reply = ask(member.user, f"book session {demo.sessions['camden_flow'].pk}")
    assert reply.outcome == "confirm"
    with tenant_scope(demo.gym):
        assert not Booking.objects.filter(member=member).exists()
    done = confirm(member.user, demo.gym, reply.confirmation["token"])
    assert done.answer.startswith("Booked: Vinyasa Flow at Camden")
    with tenant_scope(demo.gym):
        booking = Booking.objects.get(member=member)
        assert booking.booked_by == member.user and booking.membership == demo.membership
    # a replayed token does nothing twice
    with pytest.raises(ServiceError) as replayed:
        confirm(member.user, demo.gym, reply.confirmation["token"])
    assert replayed.value.code == "already_confirmed"


def test_a_token_works_only_for_whom_it_was_made(demo, member, ask):
    reply = ask(member.user, f"book session {demo.sessions['camden_flow'].pk}")
    someone = MemberFactory(home_branch=demo.branches["Camden"], user=UserFactory())
    with pytest.raises(ServiceError) as refused:
        confirm(someone.user, demo.gym, reply.confirmation["token"])
    assert refused.value.code == "confirmation_invalid"
    tampered = reply.confirmation["token"][:-2] + "xx"
    with pytest.raises(ServiceError):
        confirm(member.user, demo.gym, tampered)
    with tenant_scope(demo.gym):
        assert not Booking.objects.exists()


def test_an_expired_confirmation_is_refused(demo, member):
    class Yesterday(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(timezone.now().timestamp()) - tools.CONFIRM_MAX_AGE - 5)

    old = Yesterday(salt=tools.CONFIRM_SALT).sign_object(
        {
            "t": "book_class",
            "a": {"session_id": demo.sessions["camden_flow"].pk},
            "u": member.user.pk,
            "o": demo.gym.pk,
            "r": "member",
        },
        compress=True,
    )
    with pytest.raises(ServiceError) as expired:
        confirm(member.user, demo.gym, old)
    assert "expired" in expired.value.message


def test_a_branch_outside_the_plan_is_refused_before_any_confirmation(demo, member, ask):
    reply = ask(member.user, f"book session {demo.sessions['river_flow'].pk}")
    assert reply.confirmation is None
    assert reply.answer == "I couldn't do that: Your plan does not include this branch."
    with tenant_scope(demo.gym):
        assert not Booking.objects.filter(member=member).exists()


def test_the_booking_service_checks_again_at_confirmation(demo, member, ask):
    # given: a proposal made while the membership was active
    reply = ask(member.user, f"book session {demo.sessions['camden_flow'].pk}")
    # when: the membership is suspended before the member confirms
    Membership.objects.unscoped().filter(pk=demo.membership.pk).update(
        status=Membership.Status.SUSPENDED
    )
    # then: the booking service refuses, as it would in the portal
    with pytest.raises(ServiceError) as refused:
        confirm(member.user, demo.gym, reply.confirmation["token"])
    assert refused.value.status_code == 403
    with tenant_scope(demo.gym):
        assert not Booking.objects.filter(member=member).exists()


def test_a_full_class_puts_the_member_on_its_waitlist(demo, member, ask):
    yin = demo.sessions["camden_yin"]
    refused = ask(member.user, f"book session {demo.sessions['camden_flow'].pk} waitlist")
    assert refused.confirmation["action"] == "book_class"
    offer = ask(member.user, f"join the waitlist for session {yin.pk}")
    assert offer.confirmation["action"] == "join_waitlist"
    done = confirm(member.user, demo.gym, offer.confirmation["token"])
    assert done.answer.startswith("You are number 1 on the waitlist for Yin Yoga")
    with tenant_scope(demo.gym):
        assert Booking.objects.get(member=member).status == Booking.Status.WAITLISTED
    # and leaving it takes a confirmation too
    leave = ask(member.user, "take me off the waitlist")
    assert leave.confirmation["action"] == "leave_waitlist"
    confirm(member.user, demo.gym, leave.confirmation["token"])
    with tenant_scope(demo.gym):
        assert Booking.objects.get(member=member).status == Booking.Status.CANCELLED


def test_joining_a_waitlist_of_a_class_with_places_is_refused(demo, member, ask):
    reply = ask(member.user, f"join the waitlist for session {demo.sessions['camden_flow'].pk}")
    assert reply.confirmation is None
    assert "still has 15 places left: book it instead" in reply.answer


def test_booking_twice_is_refused(demo, member, ask):
    first = ask(member.user, f"book session {demo.sessions['camden_flow'].pk}")
    second = ask(member.user, f"book session {demo.sessions['camden_flow'].pk}")
    confirm(member.user, demo.gym, first.confirmation["token"])
    with pytest.raises(ServiceError) as refused:
        confirm(member.user, demo.gym, second.confirmation["token"])
    assert refused.value.code == "already_booked"


def test_booking_before_the_window_opens_is_refused(demo, member, ask):
    BookingPolicyFactory(organisation=demo.gym, booking_opens_days=1)
    later = ClassSessionFactory(
        branch=demo.branches["Camden"],
        organisation=demo.gym,
        class_type=demo.types["Spin 45"],
        starts_at=timezone.now() + timedelta(days=5),
    )
    reply = ask(member.user, f"book session {later.pk}")
    with pytest.raises(ServiceError) as refused:
        confirm(member.user, demo.gym, reply.confirmation["token"])
    assert refused.value.code == "booking_not_open"


def test_a_member_without_a_membership_cannot_book(demo, ask):
    lapsed = MemberFactory(home_branch=demo.branches["Camden"], user=UserFactory())
    reply = ask(lapsed.user, f"book session {demo.sessions['camden_flow'].pk}")
    assert reply.confirmation is None
    assert reply.answer == "I couldn't do that: You need a membership to book classes."


def test_cancelling_says_when_it_is_late_and_needs_confirmation(demo, member, ask):
    soon = ClassSessionFactory(
        branch=demo.branches["Camden"],
        organisation=demo.gym,
        class_type=demo.types["Mat Pilates"],
        starts_at=timezone.now() + timedelta(minutes=90),
    )
    booked = ask(member.user, f"book session {soon.pk}")
    confirm(member.user, demo.gym, booked.confirmation["token"])
    offer = ask(member.user, "cancel my pilates class")
    assert offer.confirmation["action"] == "cancel_booking"
    assert "It is a late cancellation." in offer.confirmation["summary"]
    with tenant_scope(demo.gym):
        assert Booking.objects.get(member=member).status == Booking.Status.BOOKED
    done = confirm(member.user, demo.gym, offer.confirmation["token"])
    assert done.answer.startswith("Cancelled: Mat Pilates at Camden")
    with tenant_scope(demo.gym):
        assert Booking.objects.get(member=member).status == Booking.Status.LATE_CANCELLED


def test_a_branch_setting_overrides_the_gyms(demo, member, ask):
    # given: the member's home branch switched the assistant off
    AssistantSettingFactory(branch=member.home_branch, organisation=demo.gym, is_enabled=False)
    with pytest.raises(ServiceError) as refused:
        ask(member.user, "prices?")
    assert refused.value.code == "assistant_disabled"
    camden = MemberFactory(home_branch=demo.branches["Camden"], user=UserFactory())
    assert "49.00" in ask(camden.user, "prices?").answer


def test_what_a_member_owes_is_not_in_the_review_log(demo, member, ask):
    reply = ask(member.user, "how much do I owe?")
    assert "12.50" in reply.answer
    log = AssistantLog.objects.unscoped().latest("pk")
    assert log.tool_calls[0]["result"]["owed"] == "[not logged]"
    assert "12.50" not in str(log.tool_calls)
    booked = ask(member.user, f"book session {demo.sessions['camden_flow'].pk}")
    log = AssistantLog.objects.unscoped().latest("pk")
    assert booked.confirmation["token"] not in str(log.tool_calls)


def test_finding_classes_costs_the_same_queries_for_more_classes(
    demo, member, django_assert_num_queries
):
    caller = caller_for(user=member.user, organisation=demo.gym)
    with tenant_scope(demo.gym):
        with CaptureQueriesContext(connection) as few:
            found = tools.call_tool(caller, "find_classes", {"class_type": "yoga"})
        assert found.result["count"] == 3
        assert len(few.captured_queries) <= 10
        for hours in range(30, 36):
            ClassSessionFactory(
                branch=demo.branches["Camden"],
                organisation=demo.gym,
                class_type=demo.types["Yin Yoga"],
                starts_at=timezone.now() + timedelta(hours=hours),
            )
        with django_assert_num_queries(len(few.captured_queries)):
            more = tools.call_tool(caller, "find_classes", {"class_type": "yoga"})
        assert more.result["count"] == 8
