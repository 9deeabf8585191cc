"""A class type may require certifications: a trainer without one, or with it
expired on the day, is refused where a trainer is assigned."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import CertificationFactory, TrainerCertificationFactory
from classes import services
from classes.tests.factories import ClassSessionFactory, ClassTypeFactory
from gymsite.errors import ServiceError


@pytest.fixture
def spin(gym):
    class_type = ClassTypeFactory(organisation=gym, name="Spin")
    certificate = CertificationFactory(organisation=gym, name="Indoor cycling")
    class_type.required_certifications.add(certificate)
    return class_type, certificate


@pytest.mark.django_db
def test_a_trainer_without_the_certification_is_refused(gym, branch, trainer, owner, spin):
    class_type, _certificate = spin
    session = ClassSessionFactory(organisation=gym, branch=branch, class_type=class_type)
    with tenant_scope(gym), pytest.raises(ServiceError) as refused:
        services.session_update(session=session.pk, actor=owner, trainer=trainer)
    assert refused.value.code == "trainer_not_certified"
    assert refused.value.field == "trainer"
    assert "Indoor cycling" in refused.value.message


@pytest.mark.django_db
def test_an_expired_certification_is_refused_and_a_valid_one_accepted(
    gym, branch, trainer, owner, spin
):
    class_type, certificate = spin
    session = ClassSessionFactory(organisation=gym, branch=branch, class_type=class_type)
    held = TrainerCertificationFactory(
        organisation=gym,
        trainer=trainer,
        certification=certificate,
        expires_on=session.occurrence_date - timedelta(days=1),
    )
    with tenant_scope(gym):
        with pytest.raises(ServiceError):
            services.session_update(session=session.pk, actor=owner, trainer=trainer)
        held.expires_on = session.occurrence_date
        held.save()
        updated = services.session_update(session=session.pk, actor=owner, trainer=trainer)
    assert updated.trainer_id == trainer.pk


@pytest.mark.django_db
def test_a_schedule_with_an_uncertified_trainer_is_refused(gym, branch, trainer, owner, spin):
    class_type, _certificate = spin
    with tenant_scope(gym), pytest.raises(ServiceError) as refused:
        services.schedule_create(
            actor=owner,
            branch=branch,
            class_type=class_type,
            trainer=trainer,
            weekdays=[0],
            start_time="07:00",
            starts_on=timezone.localdate(),
        )
    assert refused.value.code == "trainer_not_certified"
