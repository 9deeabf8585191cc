import random
from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Organisation
from accounts.tenancy import tenant_scope

# Each app may have a demo.py with seed(*, organisation, rng); each seed is
# idempotent, so the command can run on every start and only adds what is missing.
SEED_ORDER = [
    "accounts",
    "memberships",
    "billing",
    "classes",
    "bookings",
    "access",
    "inventory",
    "training",
    "assistant",
    "staff",
    "reports",
]


class Command(BaseCommand):
    help = "Load the demo gym chain (safe to run again: adds only what is missing)."

    def handle(self, *args, **options):
        organisation, _ = Organisation.objects.get_or_create(
            slug="demo",
            defaults={"name": "Spotter Fitness", "currency": "GBP", "email": "hello@demo.spotter"},
        )
        rng = random.Random(20261122)
        with tenant_scope(organisation):
            for app in SEED_ORDER:
                try:
                    module = import_module(f"{app}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo":
                        raise
                    continue
                with transaction.atomic():
                    module.seed(organisation=organisation, rng=rng)
                self.stdout.write(f"demo data: {app} ready")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
