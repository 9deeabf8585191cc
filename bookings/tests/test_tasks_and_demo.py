"""Periodic jobs run per gym; the demo seed is quick and idempotent."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from bookings import tasks as booking_tasks
from bookings.models import Booking
from classes import tasks as class_tasks
from classes.models import ClassSession
from classes.tests.factories import ClassScheduleFactory

pytestmark = pytest.mark.django_db


def test_materialise_task_covers_every_gym(gym, other_gym, branch, foreign_branch):
    ClassScheduleFactory(organisation=gym, branch=branch, weekdays=list(range(7)))
    ClassScheduleFactory(organisation=other_gym, branch=foreign_branch, weekdays=[0])
    assert class_tasks.classes_materialise_sessions() > 0
    assert ClassSession.objects.unscoped().filter(organisation=gym).count() >= 6 * 7
    assert ClassSession.objects.unscoped().filter(organisation=other_gym).exists()
    assert class_tasks.classes_materialise_sessions() == 0


def test_reminder_and_settle_tasks(gym, make_member, session_factory):
    from bookings import services

    soon = session_factory(starts_at=timezone.now() + timedelta(hours=3))
    with tenant_scope(gym):
        booking = services.booking_create(session=soon, member=make_member(), actor=None)
    assert booking_tasks.bookings_send_reminders() == 1
    ClassSession.objects.unscoped().filter(pk=soon.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    assert booking_tasks.bookings_settle_finished() == 1
    assert Booking.objects.unscoped().get(pk=booking.pk).status == "no_show"


def test_demo_seed(gym):
    from accounts import demo as accounts_demo
    from bookings import demo as bookings_demo
    from classes import demo as classes_demo

    rng = random.Random(1)
    with tenant_scope(gym):
        accounts_demo.seed(organisation=gym, rng=rng)
        classes_demo.seed(organisation=gym, rng=rng)
        bookings_demo.seed(organisation=gym, rng=rng)
        sessions = ClassSession.objects.all()
        assert sessions.values("branch").distinct().count() == 3
        assert sessions.filter(starts_at__lt=timezone.now()).exists()
        assert sessions.filter(starts_at__gt=timezone.now() + timedelta(days=10)).exists()
        statuses = set(Booking.objects.values_list("status", flat=True))
        assert {"attended", "no_show", "booked", "waitlisted"} <= statuses
        for session in sessions:
            assert session.booked_count <= session.capacity
        count = Booking.objects.count()
        classes_demo.seed(organisation=gym, rng=rng)
        bookings_demo.seed(organisation=gym, rng=rng)
        assert Booking.objects.count() == count
