import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import BranchFactory, UserFactory
from assistant.models import AssistantLog, AssistantSetting, AssistantUsage


class AssistantSettingFactory(DjangoModelFactory):
    """A branch's own setting (switched on)."""

    class Meta:
        model = AssistantSetting

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    is_enabled = True


class AssistantUsageFactory(DjangoModelFactory):
    class Meta:
        model = AssistantUsage

    organisation = factory.SubFactory("accounts.tests.factories.OrganisationFactory")
    day = factory.LazyFunction(timezone.localdate)
    user = factory.SubFactory(UserFactory)
    requests = 1


class AssistantLogFactory(DjangoModelFactory):
    class Meta:
        model = AssistantLog

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    user = factory.SubFactory(UserFactory)
    role = "member"
    surface = "api"
    engine = "builtin"
    question = "any yoga tomorrow?"
    answer = "The next one: ..."
    outcome = AssistantLog.Outcome.ANSWERED
