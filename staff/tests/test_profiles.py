"""Trainer profiles: reminders before a certification expires; the pay page."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tenancy import tenant_scope
from accounts.tests.factories import TrainerCertificationFactory, TrainerProfileFactory, UserFactory
from conftest import LOGIN_BACKEND
from gymsite.models import OutboxMessage
from staff.services import certifications_remind
from staff.tests.factories import PayLineFactory, PayPeriodFactory


@pytest.mark.django_db
def test_a_reminder_goes_once_before_expiry(gym, trainer):
    TrainerCertificationFactory(
        organisation=gym, trainer=trainer, expires_on=date.today() + timedelta(days=10)
    )
    with tenant_scope(gym):
        assert certifications_remind() == 1
        assert certifications_remind() == 0
    assert OutboxMessage.objects.filter(dedupe_key__startswith="cert-expiry:").count() == 1


@pytest.mark.django_db
def test_trainers_see_their_own_pay_lines_only(client, gym, branch, trainer):
    period = PayPeriodFactory(organisation=gym, branch=branch)
    PayLineFactory(
        organisation=gym,
        period=period,
        user=trainer.user,
        description="Mine",
        amount=Decimal("31.00"),
    )
    colleague = TrainerProfileFactory(organisation=gym, user=UserFactory())
    PayLineFactory(
        organisation=gym,
        period=period,
        user=colleague.user,
        description="Theirs",
        amount=Decimal("77.00"),
    )
    client.force_login(trainer.user, backend=LOGIN_BACKEND)

    body = client.get(reverse("staff:my_pay"), HTTP_HOST="gym-a.test").content.decode()

    assert "Mine" in body and "31.00" in body
    assert "Theirs" not in body and "77.00" not in body


@pytest.mark.django_db
def test_the_class_page_shows_the_trainer_profile(client, gym, branch, trainer, member):
    from classes.tests.factories import ClassSessionFactory

    trainer.bio = "Twenty years of yoga."
    trainer.specialities = ["Vinyasa", "Mobility"]
    trainer.languages = ["es"]
    trainer.save()
    TrainerCertificationFactory(organisation=gym, trainer=trainer, certification__name="RYT 500")
    session = ClassSessionFactory(organisation=gym, branch=branch, trainer=trainer)
    client.force_login(member.user, backend=LOGIN_BACKEND)

    body = client.get(reverse("classes:session", args=[session.pk]), HTTP_HOST="gym-a.test")

    text = body.content.decode()
    for shown in ("Twenty years of yoga.", "Vinyasa, Mobility", "Spanish", "RYT 500"):
        assert shown in text
