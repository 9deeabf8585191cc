from django.apps import AppConfig


class GymsiteConfig(AppConfig):
    name = "gymsite"
    verbose_name = "Platform"

    def ready(self):
        from pathlib import Path

        from django.conf import settings

        if settings.CELERY_BROKER_URL == "filesystem://":
            for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
                if isinstance(folder, str):
                    Path(folder).mkdir(parents=True, exist_ok=True)
