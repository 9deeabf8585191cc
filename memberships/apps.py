from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembershipsConfig(AppConfig):
    name = "memberships"
    verbose_name = _("Memberships")

    def ready(self):
        # Registers the billing handlers: activation, renewal and dunning outcomes.
        from memberships import services  # noqa: F401
