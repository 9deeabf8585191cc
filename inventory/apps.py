from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Shop and stock")

    def ready(self):
        from inventory.services import holds

        # Billing tells us (in its transaction) when an order's invoice is paid.
        holds._register_billing_hooks()
