from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and branches"
    default = True


class SpotterAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "accounts.admin_site.SpotterAdminSite"
