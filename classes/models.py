from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel


class ClassCategory(TenantModel):
    """A family of classes (yoga, HIIT, spin). Plans may be limited to some categories."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"))

    class Meta:
        verbose_name = _("class category")
        verbose_name_plural = _("class categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug"], name="class_category_slug_unique"
            )
        ]

    def __str__(self):
        return self.name
