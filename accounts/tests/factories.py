"""Factories for people, organisations and branches.

Factories always pass ``organisation`` explicitly, so tests can build data for
several gyms without entering a tenant scope.
"""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from accounts.models import (
    AuditLog,
    Branch,
    Certification,
    Member,
    OpeningHours,
    Organisation,
    Role,
    RoleAssignment,
    TrainerCertification,
    TrainerProfile,
    User,
)

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Gym {n}")
    slug = factory.Sequence(lambda n: f"gym-{n}")
    currency = "GBP"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class BranchFactory(DjangoModelFactory):
    class Meta:
        model = Branch

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Branch {n}")
    slug = factory.Sequence(lambda n: f"branch-{n}")
    address_line = "1 High Street"
    city = "London"
    latitude = Decimal("51.507400")
    longitude = Decimal("-0.127800")
    timezone = "Europe/London"
    tax_rate = Decimal("0.2000")


class OpeningHoursFactory(DjangoModelFactory):
    class Meta:
        model = OpeningHours

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    weekday = 0
    opens_at = "06:00"
    closes_at = "22:00"


class RoleAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    role = Role.BRANCH_MANAGER


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = Member

    home_branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("home_branch.organisation")
    user = factory.SubFactory(UserFactory)
    first_name = factory.SelfAttribute("user.first_name")
    last_name = factory.SelfAttribute("user.last_name")
    email = factory.SelfAttribute("user.email")


class TrainerProfileFactory(DjangoModelFactory):
    class Meta:
        model = TrainerProfile

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda o: f"{o.user.first_name} {o.user.last_name}")
    hourly_rate = Decimal("45.00")


class AuditLogFactory(DjangoModelFactory):
    class Meta:
        model = AuditLog

    organisation = factory.SubFactory(OrganisationFactory)
    action = "member.edit"
    target_type = "accounts.member"
    target_id = "1"


class CertificationFactory(DjangoModelFactory):
    class Meta:
        model = Certification

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Certificate {n}")
    issuing_body = "Fitness Standards Board"


class TrainerCertificationFactory(DjangoModelFactory):
    class Meta:
        model = TrainerCertification

    trainer = factory.SubFactory(TrainerProfileFactory)
    organisation = factory.SelfAttribute("trainer.organisation")
    certification = factory.SubFactory(
        CertificationFactory, organisation=factory.SelfAttribute("..organisation")
    )
