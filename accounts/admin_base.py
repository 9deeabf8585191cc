"""Base classes for every Spotter ModelAdmin.

Querysets come from the model's scoped manager, so an admin page can only show
and change rows of the organisation (and branches) in scope; a foreign-key
dropdown only offers rows in scope too.
"""

from unfold.admin import ModelAdmin, StackedInline, TabularInline


class TenantAdmin(ModelAdmin):
    list_per_page = 50
    show_full_result_count = False


class TenantTabularInline(TabularInline):
    extra = 0


class TenantStackedInline(StackedInline):
    extra = 0
