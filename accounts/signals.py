from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Organisation
from accounts.selectors import forget_host_cache


@receiver([post_save, post_delete], sender=Organisation)
def organisation_changed(**kwargs):
    forget_host_cache()
