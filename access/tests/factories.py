"""Factories for access control. Organisation is always passed explicitly (or derived)."""

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from access import credentials as creds
from access.models import AccessDevice, AccessLog, AccessPolicy, Credential, Reason, Result
from accounts.tests.factories import BranchFactory, MemberFactory


class AccessDeviceFactory(DjangoModelFactory):
    """A device with a fresh key (use ``device_with_key`` when the test needs the key)."""

    class Meta:
        model = AccessDevice
        exclude = ["issued"]

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    name = factory.Sequence(lambda n: f"Turnstile {n}")
    kind = AccessDevice.Kind.TURNSTILE
    direction = AccessDevice.Direction.ENTRY
    issued = factory.LazyFunction(creds.issue_device_key)
    key_prefix = factory.LazyAttribute(lambda o: o.issued.prefix)
    key_hash = factory.LazyAttribute(lambda o: o.issued.key_hash)


def device_with_key(branch, **kwargs):
    """A device and its clear-text key."""
    issued = creds.issue_device_key()
    device = AccessDeviceFactory(
        branch=branch, key_prefix=issued.prefix, key_hash=issued.key_hash, **kwargs
    )
    return device, issued.key


class AccessPolicyFactory(DjangoModelFactory):
    class Meta:
        model = AccessPolicy

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")


class CredentialFactory(DjangoModelFactory):
    class Meta:
        model = Credential

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    kind = Credential.Kind.CARD
    number = factory.Sequence(lambda n: f"CARD{n:08d}")


class QrCredentialFactory(CredentialFactory):
    kind = Credential.Kind.QR
    number = ""


class AccessLogFactory(DjangoModelFactory):
    class Meta:
        model = AccessLog

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    member = factory.SubFactory(MemberFactory, home_branch=factory.SelfAttribute("..branch"))
    result = Result.GRANTED
    reason = Reason.OK
    occurred_at = factory.LazyFunction(timezone.now)


def plan_make(organisation, **fields):
    """A plan of another app's model, for access tests (not a factory class of ours)."""
    from memberships.models import Plan

    defaults = {
        "name": "Unlimited",
        "kind": Plan.Kind.UNLIMITED,
        "price": Decimal("40.00"),
        "currency": "GBP",
    }
    defaults.update(fields)
    return Plan.objects.unscoped().create(organisation=organisation, **defaults)


def membership_make(member, plan=None, **fields):
    from memberships.models import Membership

    plan = plan or plan_make(member.organisation)
    defaults = {
        "status": Membership.Status.ACTIVE,
        "start_date": date(2020, 1, 1),
        "price": plan.price,
        "currency": "GBP",
        "entries_remaining": plan.entries,
    }
    defaults.update(fields)
    return Membership.objects.unscoped().create(
        organisation=member.organisation, member=member, payer=member, plan=plan, **defaults
    )
