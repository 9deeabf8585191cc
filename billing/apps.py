from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # Registers the outbox handlers (refunds at online providers).
        from billing import services  # noqa: F401
        from billing.stripe import admin as _stripe_admin  # noqa: F401  (Stripe)
        from billing.stripe import tasks as _stripe_tasks  # noqa: F401  (Stripe beat job)
