from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and branches"
    default = True

    def ready(self):
        from accounts import signals  # noqa: F401  (clears the host → gym cache)
        from accounts.api import schema  # noqa: F401  (registers the OpenAPI extension)
        from accounts.branding import email_brand
        from gymsite.outbox import email_branding

        email_branding(email_brand)


class SpotterAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "accounts.admin_site.SpotterAdminSite"
