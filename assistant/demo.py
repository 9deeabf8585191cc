"""Demo data: the assistant switched on for the demo gym (the built-in engine needs no model)."""

from assistant.models import AssistantSetting


def seed(*, organisation, rng) -> None:
    AssistantSetting.objects.get_or_create(
        organisation=organisation, branch=None, defaults={"is_enabled": True}
    )
